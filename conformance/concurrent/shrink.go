package concurrent

import (
	"fmt"
	"roomchat.dev/roomchat/conformance/dial"
	"slices"
	"time"
)

// shrink looks for a smaller program that still produces a history with no
// serialization: without a whole lane, then without runs of actions, from
// long runs to single actions. A race shows only sometimes, so each
// candidate is run up to Options.Attempts times; the first Illegal history
// makes it the new program. Shrinking stops when no candidate fails or
// when Options.ShrinkBudget is spent. Each lane that remains keeps its
// node.
func shrink(d dial.Dialer, addrs []string, p Program, h *History, r Result, o Options) *Failure {
	f := &Failure{Program: p, History: h, Result: r}
	if o.ShrinkBudget < 0 {
		f.Shrink = "not shrunk"
		return f
	}
	deadline := time.Now().Add(o.ShrinkBudget)
	// A smaller program's history is small: one whose search takes long
	// is not worth waiting for.
	checkTimeout := min(o.CheckTimeout, shrinkCheckTimeout)
	runs, accepted := 0, 0
	try := func(c Program) bool {
		for range o.Attempts {
			if time.Now().After(deadline) {
				return false
			}
			runs++
			ch, err := RunNodes(d, addrs, c, o.Timeout)
			if err != nil {
				continue // not the failure being shrunk
			}
			if cr := Check(ch, checkTimeout); cr.Verdict == Illegal {
				f.Program, f.History, f.Result = c, ch, cr
				accepted++
				return true
			}
		}
		return false
	}
	for progress := true; progress && time.Now().Before(deadline); {
		progress = false
		for _, c := range candidates(f.Program, f.History, f.Result) {
			if try(c) {
				progress = true
				fmt.Fprintf(o.Log, "  shrunk to %d clients, %d actions\n", len(f.Program.Lanes), f.Program.Size())
				break
			}
		}
	}
	f.Shrink = fmt.Sprintf("%d clients and %d actions from %d and %d, %d smaller programs accepted in %d runs",
		len(f.Program.Lanes), f.Program.Size(), len(p.Lanes), p.Size(), accepted, runs)
	if time.Now().After(deadline) {
		f.Shrink += "; the budget ran out"
	}
	return f
}

// shrinkCheckTimeout bounds the search of each history while shrinking.
const shrinkCheckTimeout = 2 * time.Second

// candidates returns smaller programs than p, most reduced first: every
// lane cut where the failure of h showed (the actions sent after it
// cannot have caused it); each lane removed; then for each lane runs of
// its actions removed, halves first, down to single actions. A lane
// removed takes its node (p.Nodes) with it; the others keep theirs.
func candidates(p Program, h *History, r Result) []Program {
	var out []Program
	if cut, ok := cutAtFailure(p, h, r); ok {
		out = append(out, cut)
	}
	if len(p.Lanes) > 2 {
		for i := range p.Lanes {
			c := Program{Lanes: slices.Delete(slices.Clone(p.Lanes), i, i+1)}
			if p.Nodes != nil {
				c.Nodes = slices.Delete(slices.Clone(p.Nodes), i, i+1)
			}
			out = append(out, c)
		}
	}
	for i, lane := range p.Lanes {
		for size := len(lane) / 2; size >= 1; size /= 2 {
			for from := 0; from+size <= len(lane); from += size {
				lanes := slices.Clone(p.Lanes)
				lanes[i] = slices.Delete(slices.Clone(lane), from, from+size)
				out = append(out, Program{Lanes: lanes, Nodes: slices.Clone(p.Nodes)})
			}
		}
	}
	return out
}

// cutAtFailure returns p with each lane's actions cut after the last one
// sent before the failure of h showed: the earliest arrival that no
// serialization explains. A lane's actions are its connections' lines in
// order (the closing barrier's PINGs come after them all).
func cutAtFailure(p Program, h *History, r Result) (Program, bool) {
	at, ok := failureTime(h, r)
	if !ok {
		return p, false
	}
	sent := make([]int, len(p.Lanes))
	for _, op := range h.Ops {
		if lane := h.Conns[op.Conn].Lane; op.Kind == OpLine && op.Call <= at && lane < len(sent) {
			sent[lane]++
		}
	}
	cut := Program{Lanes: make([][]Action, len(p.Lanes)), Nodes: slices.Clone(p.Nodes)}
	smaller := false
	for i, lane := range p.Lanes {
		n := min(sent[i], len(lane))
		cut.Lanes[i] = slices.Clone(lane[:n])
		smaller = smaller || n < len(lane)
	}
	return cut, smaller
}

// failureTime returns when the earliest arrival that r does not explain
// arrived.
func failureTime(h *History, r Result) (time.Duration, bool) {
	var at time.Duration
	found := false
	for k, n := range r.Explained {
		if k < len(h.Conns) && n < len(h.Conns[k].Received) {
			if a := h.Conns[k].Received[n].At; !found || a < at {
				at, found = a, true
			}
		}
	}
	return at, found
}
