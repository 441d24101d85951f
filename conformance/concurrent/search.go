package concurrent

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
)

// A Target is the server under test, given one of four ways: a running
// one, shared by every history (Addr), or a way to start one once for the
// whole search (Start); or a service of several nodes that a client may
// reach at any of them, such as a cluster of replicas applying one log:
// the running nodes' addresses (Addrs), or a way to start them once
// (StartNodes). With several nodes, every connection of lane i (a lane
// opens a new one after a QUIT) goes to node i mod their number, and the
// History records which (Conn.Node).
//
// Histories may share a server: each has names and rooms of its own, and
// ends with every connection's QUIT. Nobody else may use the server
// meanwhile: ROOMS lists every room.
type Target struct {
	Addr  string   // one node
	Addrs []string // the nodes of one service
	Start func() (addr string, stop func(), err error)
	// StartNodes starts the nodes of one service and returns their
	// addresses.
	StartNodes func() (addrs []string, stop func(), err error)
	// Dialer reaches the server over the transport under test; the zero
	// value is lines over TCP.
	Dialer dial.Dialer
}

// Options shape a search.
type Options struct {
	Clients   int           // clients at once, 2 to 16 (default 8)
	Actions   int           // actions per client and history (default 30)
	Histories int           // histories to run and check (default 100)
	Seed      uint64        // history i is generated from Seed+i (0: random)
	Timeout   time.Duration // how long to wait for the server (default 5s)
	// CheckTimeout bounds the search for one history's serialization
	// (default 30s); past it the verdict is Unknown.
	CheckTimeout time.Duration
	// ShrinkBudget bounds the shrinking of a failing history (default
	// 45s; negative: no shrinking), and Attempts how many times each
	// smaller program is run to reproduce the failure (default 20).
	ShrinkBudget time.Duration
	Attempts     int
	Log          io.Writer // progress, one line every few seconds; nil for none
}

func (o *Options) defaults() {
	if o.Clients <= 0 {
		o.Clients = 8
	}
	o.Clients = min(max(o.Clients, 2), 16)
	if o.Actions <= 0 {
		o.Actions = 30
	}
	if o.Histories <= 0 {
		o.Histories = 100
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = 30 * time.Second
	}
	if o.ShrinkBudget == 0 {
		o.ShrinkBudget = 45 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 20
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Stats are what a search measured.
type Stats struct {
	Histories    int           // run and checked
	Ops          int           // operations in all
	Received     int           // lines received in all
	Unknown      int           // histories whose check ran out of time
	RunTime      time.Duration // spent running histories against the server
	CheckTime    time.Duration // spent searching for serializations
	MaxCheckTime time.Duration // the longest search for one history
}

// A Failure is a history with no serialization, shrunk.
type Failure struct {
	Seed     uint64 // the seed of the original program
	Original Program
	Program  Program  // the shrunk program
	History  *History // a history of Program that has no serialization
	Result   Result
	Shrink   string // how shrinking went
}

func (f *Failure) Error() string {
	return fmt.Sprintf("no serialization of a concurrent history (seed %d) explains what the clients received: %s", f.Seed, f.Result.Report(f.History))
}

// Report is the failure's full report: the shrunk program, each
// connection's transcript and why no serialization goes further.
func (f *Failure) Report() string {
	return fmt.Sprintf("%s\nshrunk program (%s):\n%s\ntranscripts:\n%s", f.Error(), f.Shrink, f.Program, f.History.Transcripts())
}

// Search runs Options.Histories random programs against the target, each
// checked as it ends, and stops at the first with no serialization (an
// Illegal verdict), which it shrinks and returns as a *Failure error. An
// Unknown verdict is counted, not failed.
func Search(t Target, o Options) (Stats, error) {
	o.defaults()
	addrs, stop, err := t.open()
	if err != nil {
		return Stats{}, err
	}
	defer stop()
	var st Stats
	last := time.Now()
	for i := range o.Histories {
		seed := o.Seed + uint64(i)
		p := Generate(rand.New(rand.NewPCG(seed, 0x636f6e63)), GenConfig{Clients: o.Clients, Actions: o.Actions, Suffix: nameSuffix(seed)})
		if len(addrs) > 1 {
			p.Nodes = roundRobin(len(p.Lanes), len(addrs))
		}
		t0 := time.Now()
		h, err := RunNodes(t.Dialer, addrs, p, o.Timeout)
		st.RunTime += time.Since(t0)
		if err != nil {
			return st, fmt.Errorf("history %d (seed %d): %w", i, seed, err)
		}
		r := Check(h, o.CheckTimeout)
		st.Histories++
		ops, recv := h.Size()
		st.Ops += ops
		st.Received += recv
		st.CheckTime += r.Elapsed
		st.MaxCheckTime = max(st.MaxCheckTime, r.Elapsed)
		switch r.Verdict {
		case Unknown:
			st.Unknown++
		case Illegal:
			fmt.Fprintf(o.Log, "history %d (seed %d): Illegal; shrinking for at most %v\n", i, seed, o.ShrinkBudget)
			f := shrink(t.Dialer, addrs, p, h, r, o)
			f.Seed, f.Original = seed, p
			return st, f
		}
		if time.Since(last) > 3*time.Second {
			fmt.Fprintf(o.Log, "%d of %d concurrent histories checked, %d operations\n", st.Histories, o.Histories, st.Ops)
			last = time.Now()
		}
	}
	return st, nil
}

// open returns the target's addresses, one per node, and how to stop it.
func (t Target) open() ([]string, func(), error) {
	given := 0
	for _, ok := range []bool{t.Addr != "", t.Addrs != nil, t.Start != nil, t.StartNodes != nil} {
		if ok {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, nil, errors.New("concurrent: no target")
	case given > 1:
		return nil, nil, errors.New("concurrent: a target has one of Addr, Addrs, Start and StartNodes")
	case t.Start != nil:
		addr, stop, err := t.Start()
		if err != nil {
			return nil, nil, err
		}
		return []string{addr}, stop, nil
	case t.StartNodes != nil:
		addrs, stop, err := t.StartNodes()
		if err != nil {
			return nil, nil, err
		}
		if len(addrs) == 0 {
			stop()
			return nil, nil, errors.New("concurrent: StartNodes started no node")
		}
		return addrs, stop, nil
	case t.Addrs != nil:
		if len(t.Addrs) == 0 || slices.Contains(t.Addrs, "") {
			return nil, nil, fmt.Errorf("concurrent: bad node addresses %q", t.Addrs)
		}
		return slices.Clone(t.Addrs), func() {}, nil
	}
	return []string{t.Addr}, func() {}, nil
}

// roundRobin returns the nodes of lanes lanes over n nodes: lane i's is
// i mod n.
func roundRobin(lanes, n int) []int {
	nodes := make([]int, lanes)
	for i := range nodes {
		nodes[i] = i % n
	}
	return nodes
}

// nameSuffix makes the names and rooms of the program of seed unique on a
// shared server: 4 letters, so that names stay short.
func nameSuffix(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0x6e616d65))
	b := make([]byte, 4)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}
