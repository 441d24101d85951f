package cluster

import (
	"sync/atomic"
	"testing"
	"time"
)

// seenHook returns hooks whose seen reports each node heard on the
// channel.
func seenHook() (hooks, <-chan string) {
	ch := make(chan string, 16)
	return hooks{seen: func(node string) { ch <- node }}, ch
}

// waitSeen waits until every node of nodes has been heard on seen.
func waitSeen(t *testing.T, seen <-chan string, nodes ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, n := range nodes {
		want[n] = true
	}
	for len(want) > 0 {
		delete(want, receive(t, "heartbeat", seen))
	}
}

// quiet fails if any of links reports a dead node within d: the negative
// half of "exactly once", bounded.
func quiet(t *testing.T, d time.Duration, links ...*Link) {
	t.Helper()
	deadline := time.After(d)
	for {
		for _, l := range links {
			select {
			case node := <-l.Dead():
				t.Fatalf("%s: reports %s dead", l.Node(), node)
			default:
			}
		}
		select {
		case <-deadline:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestDeadAfterClose closes a node: each other node reports it dead once.
func TestDeadAfterClose(t *testing.T) {
	e := startServer(t, "")
	hb, seenB := seenHook()
	hc, seenC := seenHook()
	a := link(t, e, "a", hooks{}, nil)
	b := link(t, e, "b", hb, nil)
	c := link(t, e, "c", hc, nil)
	waitSeen(t, seenB, "a", "c")
	waitSeen(t, seenC, "a", "b")
	start := time.Now()
	a.Close()
	for _, l := range []*Link{b, c} {
		if node := receive(t, "dead node", l.Dead()); node != "a" {
			t.Fatalf("%s: reports %s dead, want a", l.Node(), node)
		}
	}
	t.Logf("a reported dead after %v (DeadAfter %v)", time.Since(start), b.cfg.DeadAfter)
	quiet(t, 3*b.cfg.DeadAfter, b, c)
}

// TestDeadWhenSilent stops a node's heartbeats without closing it: the
// other reports it dead once, even when its heartbeats come back, and the
// silent node reports nobody (not itself either).
func TestDeadWhenSilent(t *testing.T) {
	e := startServer(t, "")
	var silent atomic.Bool
	ha, seenA := seenHook()
	ha.silent = &silent
	hb, seenB := seenHook()
	a := link(t, e, "a", ha, nil)
	b := link(t, e, "b", hb, nil)
	waitSeen(t, seenA, "b")
	waitSeen(t, seenB, "a")
	silent.Store(true)
	if node := receive(t, "dead node", b.Dead()); node != "a" {
		t.Fatalf("b reports %s dead, want a", node)
	}
	silent.Store(false)
	quiet(t, 3*b.cfg.DeadAfter, a, b)
}

// TestNobodyDeadWhileDown stops NATS for longer than DeadAfter: nodes that
// cannot hear anyone declare nobody dead, before or after NATS is back.
func TestNobodyDeadWhileDown(t *testing.T) {
	e := startServer(t, "")
	ha, seenA := seenHook()
	hb, seenB := seenHook()
	a := link(t, e, "a", ha, nil)
	b := link(t, e, "b", hb, nil)
	waitSeen(t, seenA, "b")
	waitSeen(t, seenB, "a")
	e.Stop()
	waitUp(t, a, false)
	waitUp(t, b, false)
	quiet(t, 2*a.cfg.DeadAfter, a, b)
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, a, true)
	waitUp(t, b, true)
	quiet(t, 2*a.cfg.DeadAfter, a, b)
}

// TestNobodyDeadWhenAllSilent stops every node's heartbeats while the
// connections stay up, as a frozen NATS server (or a paused process) does:
// no node hears its own heartbeats either, so none declares another dead,
// and when the heartbeats come back nobody is reported.
func TestNobodyDeadWhenAllSilent(t *testing.T) {
	e := startServer(t, "")
	var silent atomic.Bool
	ha, seenA := seenHook()
	hb, seenB := seenHook()
	ha.silent, hb.silent = &silent, &silent
	a := link(t, e, "a", ha, nil)
	b := link(t, e, "b", hb, nil)
	waitSeen(t, seenA, "b")
	waitSeen(t, seenB, "a")
	silent.Store(true)
	quiet(t, 2*a.cfg.DeadAfter, a, b)
	silent.Store(false)
	quiet(t, 2*a.cfg.DeadAfter, a, b)
}
