package concurrent

import (
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
	"roomchat.dev/roomchat/conformance/internal/racyserver"
)

// A proxyNode is one address of a service for these tests: it forwards every
// connection it accepts to the server at to, byte for byte, so that
// several nodes are several addresses of one server, as the nodes of a
// cluster are of one service.
type proxyNode struct {
	ln net.Listener
	to string

	mu       sync.Mutex
	accepted int                   // connections accepted so far
	open     map[net.Conn]struct{} // both sides of every forwarded connection
	wg       sync.WaitGroup
}

// startNodes starts n nodes of the server at to and returns them and
// their addresses; they stop when the test ends.
func startNodes(t testing.TB, to string, n int) ([]*proxyNode, []string) {
	t.Helper()
	var nodes []*proxyNode
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		nd := &proxyNode{ln: ln, to: to, open: map[net.Conn]struct{}{}}
		nd.wg.Add(1)
		go nd.serve()
		t.Cleanup(nd.stop)
		nodes = append(nodes, nd)
		addrs = append(addrs, ln.Addr().String())
	}
	return nodes, addrs
}

func (nd *proxyNode) serve() {
	defer nd.wg.Done()
	for {
		c, err := nd.ln.Accept()
		if err != nil {
			return
		}
		nd.mu.Lock()
		nd.accepted++
		nd.mu.Unlock()
		nd.wg.Add(1)
		go nd.forward(c)
	}
}

// forward copies c to a new connection to the server and back, and
// closes both when either side ends.
func (nd *proxyNode) forward(c net.Conn) {
	defer nd.wg.Done()
	s, err := net.Dial("tcp", nd.to)
	if err != nil {
		c.Close()
		return
	}
	nd.mu.Lock()
	nd.open[c], nd.open[s] = struct{}{}, struct{}{}
	nd.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(s, c); done <- struct{}{} }()
	go func() { io.Copy(c, s); done <- struct{}{} }()
	<-done
	c.Close()
	s.Close()
	<-done
	nd.mu.Lock()
	delete(nd.open, c)
	delete(nd.open, s)
	nd.mu.Unlock()
}

func (nd *proxyNode) stop() {
	nd.ln.Close()
	nd.mu.Lock()
	for c := range nd.open {
		c.Close()
	}
	nd.mu.Unlock()
	nd.wg.Wait()
}

func (nd *proxyNode) connections() int {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.accepted
}

// TestLanesRoundRobin: over three nodes, lane i's connections, the one
// after a QUIT too, go to node i mod 3, and the history says so; the
// model served behind them is linearizable.
func TestLanesRoundRobin(t *testing.T) {
	t.Parallel()
	nodes, addrs := startNodes(t, startModel(t), 3)
	p := Program{Lanes: [][]Action{
		{{Line: "USERNAME annrr"}, {Line: "JOIN #rr"}, {Line: "QUIT"}, {Line: "USERNAME annrr"}, {Line: "JOIN #rr"}},
		{{Line: "USERNAME bobrr"}, {Line: "JOIN #rr"}, {Line: "MSG m2-2"}},
		{{Line: "USERNAME catrr"}, {Line: "PRIVMSG annrr p3-1"}},
		{{Line: "USERNAME danrr"}, {Line: "QUIT"}, {Line: "USERNAME danrr"}, {Line: "ROOMS"}},
		{{Line: "USERNAME everr"}, {Line: "JOIN #rr"}},
	}}
	h, err := RunNodes(dial.Dialer{}, addrs, p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(h.Nodes, addrs) {
		t.Errorf("History.Nodes = %q, want %q", h.Nodes, addrs)
	}
	per := make([]int, len(addrs))
	for _, c := range h.Conns {
		if c.Node != c.Lane%3 {
			t.Errorf("%s (lane %d) went to node %d, want %d", c.Label, c.Lane, c.Node, c.Lane%3)
		}
		per[c.Node]++
	}
	for n, nd := range nodes {
		if got := nd.connections(); got != per[n] {
			t.Errorf("node %d accepted %d connections, the history gives it %d", n, got, per[n])
		}
	}
	if !slices.Equal(per, []int{4, 2, 1}) { // n1: c1, c1', c4, c4'; n2: c2, c5; n3: c3
		t.Errorf("connections per node %v, want [4 2 1]", per)
	}
	if r := Check(h, 5*time.Second); r.Verdict != Ok {
		t.Fatalf("%s\n%s", r.Report(h), h.Transcripts())
	}
	tr := h.Transcripts()
	for _, want := range []string{"c1 (n1 " + addrs[0] + "):", "c1' (n1 " + addrs[0] + "):", "c2 (n2 " + addrs[1] + "):", "c5 (n2 " + addrs[1] + "):"} {
		if !strings.Contains(tr, want) {
			t.Errorf("the transcripts lack %q:\n%s", want, tr)
		}
	}
	want := "n1 " + addrs[0] + ": c1, c4; n2 " + addrs[1] + ": c2, c5; n3 " + addrs[2] + ": c3"
	if got := h.nodeSummary(); got != want {
		t.Errorf("nodeSummary = %q, want %q", got, want)
	}
}

// TestModelServerOverNodes: the model served behind three nodes passes
// Search, which starts them (StartNodes).
func TestModelServerOverNodes(t *testing.T) {
	t.Parallel()
	addr := startModel(t)
	started := false
	target := Target{StartNodes: func() ([]string, func(), error) {
		started = true
		_, addrs := startNodes(t, addr, 3)
		return addrs, func() {}, nil
	}}
	st, err := Search(target, Options{Clients: 6, Actions: 20, Histories: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !started || st.Histories != 5 {
		t.Errorf("StartNodes called: %v; %d histories", started, st.Histories)
	}
}

// TestRaceFoundOverNodes: the race of two clients taking one name is
// found with the lanes spread over three nodes of the racy server, and
// the report, the transcripts, the timeline and the script name each
// client's node. Proving a history Illegal searches it all: a search
// that runs long is left Unknown, and the next history tried.
func TestRaceFoundOverNodes(t *testing.T) {
	t.Parallel()
	_, addrs := startNodes(t, startRacy(t, racyserver.Races{NameCheckThenSet: true}), 3)
	st, err := Search(Target{Addrs: addrs}, Options{Clients: 6, Actions: 15, Histories: 100, Seed: 1, ShrinkBudget: -1, CheckTimeout: 5 * time.Second})
	f, ok := err.(*Failure)
	if !ok {
		t.Fatalf("not found in %d histories: %v", st.Histories, err)
	}
	t.Logf("found after %d histories; run %v, checked %v, the failing one in %v", st.Histories+1, st.RunTime, st.CheckTime, f.Result.Elapsed)
	if !slices.Equal(f.Program.Nodes, []int{0, 1, 2, 0, 1, 2}) {
		t.Errorf("the program's nodes are %v, want round-robin", f.Program.Nodes)
	}
	for _, c := range f.History.Conns {
		if c.Node != c.Lane%3 {
			t.Errorf("%s went to node %d, want %d", c.Label, c.Node, c.Lane%3)
		}
	}
	rep := f.Report()
	for _, want := range []string{"spread over 3 nodes of one service: n1 " + addrs[0] + ": c1, c4;", "c2 (n2):", "c2 (n2 " + addrs[1] + "):"} {
		if !strings.Contains(rep, want) {
			t.Errorf("the report lacks %q:\n%s", want, rep)
		}
	}
	script := f.Script("race")
	for _, want := range []string{"# The history ran against 3 nodes", "#   n3 " + addrs[2] + ": c3", "\nconnect c1\n"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script lacks %q:\n%s", want, script)
		}
	}
	_, root := render(t, f.History, f.Result, "a race over three nodes")
	lanes := root.byID("timeline").all("lane-node")
	if len(lanes) != f.History.Lanes() {
		t.Fatalf("%d lanes name their node, want %d", len(lanes), f.History.Lanes())
	}
	if got := lanes[1].text(); !strings.Contains(got, "n2 "+addrs[1]) {
		t.Errorf("the second lane's node reads %q", got)
	}
	if text := root.text(); !strings.Contains(text, "client 2, node n2 "+addrs[1]) || !strings.Contains(text, "3 of one service: n1 ") {
		t.Error("the tables or the facts do not name the nodes")
	}
}

// TestCandidatesKeepNodes: shrinking keeps each remaining lane's node.
func TestCandidatesKeepNodes(t *testing.T) {
	a := func(line string) []Action { return []Action{{Line: line}, {Line: line}} }
	p := Program{Lanes: [][]Action{a("PING 1"), a("PING 2"), a("PING 3"), a("PING 4")}, Nodes: []int{0, 1, 2, 0}}
	for _, c := range candidates(p, &History{}, Result{}) {
		if len(c.Nodes) != len(c.Lanes) {
			t.Fatalf("%d lanes, %d nodes:\n%s", len(c.Lanes), len(c.Nodes), c)
		}
		for i, lane := range c.Lanes {
			// Lane "PING k" was lane k-1 of p.
			k := int(strings.TrimPrefix(lane[0].Line, "PING ")[0] - '1')
			if c.Nodes[i] != p.Nodes[k] {
				t.Errorf("lane %q has node %d, want %d:\n%s", lane[0].Line, c.Nodes[i], p.Nodes[k], c)
			}
		}
	}
}

// TestTargetOpen: a target is one of Addr, Addrs, Start and StartNodes.
func TestTargetOpen(t *testing.T) {
	start := func() (string, func(), error) { return "127.0.0.1:1", func() {}, nil }
	for _, bad := range []Target{{}, {Addr: "a:1", Addrs: []string{"b:1"}}, {Addr: "a:1", Start: start}, {Addrs: []string{}}, {Addrs: []string{"a:1", ""}}} {
		if _, _, err := bad.open(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
	addrs, stop, err := Target{Addrs: []string{"a:1", "b:1"}}.open()
	if err != nil || !slices.Equal(addrs, []string{"a:1", "b:1"}) {
		t.Errorf("Addrs: %q, %v", addrs, err)
	}
	stop()
	if _, err := RunNodes(dial.Dialer{}, []string{"a:1"}, Program{Lanes: [][]Action{nil, nil}, Nodes: []int{0, 1}}, time.Second); err == nil {
		t.Error("RunNodes ran a lane on a node it was not given")
	}
}
