package impl_test

import (
	"fmt"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestCoalescing: with a long CoalesceDelay, the replies to a client's own
// lines (its echo, its PONG) still come at once, and lines caused by
// others come intact, in order, and within the delay (flush.go).
func TestCoalescing(t *testing.T) {
	t.Parallel()
	const delay = 200 * time.Millisecond
	ts := startServer(t, impl.Config{CoalesceDelay: delay})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})

	// Round trips of a client with the server never wait for the flush,
	// though every reply follows the previous write closely.
	const n = 20
	start := time.Now()
	for i := range n {
		alice.send(fmt.Sprintf("m%d", i))
		alice.expect(fmt.Sprintf("ROOM #r alice m%d", i))
		alice.sync()
	}
	if d := time.Since(start); d > n*delay/4 {
		t.Errorf("%d echoes and PONGs took %v: replies waited for the flush", 2*n, d)
	}
	// bob, written to when he joined, gets alice's lines from the flush:
	// all of them, in order, in one wait of at most about one delay.
	start = time.Now()
	for i := range n {
		bob.expect(fmt.Sprintf("ROOM #r alice m%d", i))
	}
	if d := time.Since(start); d > failAfter/2 {
		t.Errorf("bob waited %v for the lines", d)
	}
	bob.sync()

	// A PING flushes what waits before its PONG (PING-2): bob's PONG comes
	// after alice's line, at once.
	alice.send("again")
	alice.expect("ROOM #r alice again")
	start = time.Now()
	bob.send("PING now")
	bob.expect("ROOM #r alice again", "PONG now")
	if d := time.Since(start); d > delay*3/4 {
		t.Logf("bob's PONG took %v (the flush came first?)", d)
	}
	alice.sync()
}

// TestCoalescingOff: a negative CoalesceDelay writes every line at once.
func TestCoalescingOff(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{CoalesceDelay: -1})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	for i := range 50 {
		line := fmt.Sprintf("ROOM #r alice m%d", i)
		alice.send(fmt.Sprintf("m%d", i))
		alice.expect(line)
		bob.expect(line)
	}
	alice.sync()
	bob.sync()
}
