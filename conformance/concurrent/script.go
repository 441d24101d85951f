package concurrent

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Script returns the failure as a conformance script (a testscript file
// for chatconform -dir, or for testscripts/): the shrunk history's lines,
// each client's on a connection of its own, sent in the order and with
// the pauses they were sent in, without waiting for any answer, then the
// serializable command, which judges whatever the server did. TCP and the
// scheduler decide the rest, so a race shows again only sometimes: run
// the script a few times (chatconform -dir DIR -run NAME), or widen the
// server's window. A correct server always passes it.
//
// A script's clients all dial the one server under test: if the history
// ran against several nodes of one service, the script's comment says
// which client used which node, and the script runs against one server
// (one node of the service, or any other server).
func (f *Failure) Script(name string) string {
	h := f.History
	suffix := nameSuffix(f.Seed)
	var b strings.Builder
	// A server of its own: the model starts with no users and no rooms,
	// and ROOMS lists every room.
	fmt.Fprintf(&b, "# tags: core, ping\n# rules: ORDER-1 ORDER-2 ORDER-4\n# server:\n\n")
	fmt.Fprintf(&b, "# %s: a concurrent history that no serialization explains, found by\n", name)
	fmt.Fprintf(&b, "# chatconform -concurrent (seed %d) and shrunk (%s).\n", f.Seed, f.Shrink)
	b.WriteString("# Its lines are sent again in the order and with the pauses they were\n")
	b.WriteString("# sent in, without waiting for answers; serializable then looks for one\n")
	b.WriteString("# order of them that explains what every client received.\n")
	labels := scriptLabels(h)
	if h.multiNode() {
		fmt.Fprintf(&b, "# The history ran against %d nodes of one service, each client on one:\n", len(h.Nodes))
		for n, addr := range h.Nodes {
			var ks []int // its connections, lane by lane
			for k, c := range h.Conns {
				if c.Node == n {
					ks = append(ks, k)
				}
			}
			slices.SortStableFunc(ks, func(a, b int) int { return cmp.Compare(h.Conns[a].Lane, h.Conns[b].Lane) })
			var on []string
			for _, k := range ks {
				on = append(on, labels[k])
			}
			if len(on) == 0 {
				on = []string{"no client"}
			}
			fmt.Fprintf(&b, "#   %s %s: %s\n", nodeName(n), display(addr), strings.Join(on, ", "))
		}
		b.WriteString("# A script's clients all connect to the one server under test.\n")
	}
	connected := make([]bool, len(h.Conns))
	var last time.Duration
	first := true
	for _, op := range h.Ops {
		if op.Kind != OpLine || isBarrier(op.Line) {
			continue
		}
		if !first && op.Call-last >= time.Millisecond {
			fmt.Fprintf(&b, "sleep %dms\n", (op.Call - last).Milliseconds())
		}
		first, last = false, op.Call
		if !connected[op.Conn] {
			fmt.Fprintf(&b, "connect %s\n", labels[op.Conn])
			connected[op.Conn] = true
		}
		fmt.Fprintf(&b, "send %s '%s'\n", labels[op.Conn], strings.ReplaceAll(strings.ReplaceAll(op.Line, "'", "''"), suffix, "$U"))
	}
	b.WriteString("serializable\n")
	return b.String()
}

// scriptLabels names each connection for a script: its lane's label, then
// b, c, ... for the lane's later connections (a script's client names
// have no ').
func scriptLabels(h *History) []string {
	out := make([]string, len(h.Conns))
	n := map[int]int{}
	for k, c := range h.Conns {
		out[k] = fmt.Sprintf("c%d", c.Lane+1)
		if i := n[c.Lane]; i > 0 {
			out[k] += string(rune('a' + i))
		}
		n[c.Lane]++
	}
	return out
}

// isBarrier reports whether line is a PING of Run's closing barrier.
func isBarrier(line string) bool {
	return strings.HasPrefix(line, "PING end1-") || strings.HasPrefix(line, "PING end2-")
}
