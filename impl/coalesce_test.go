package impl_test

import (
	"fmt"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestCoalescing: with a CoalesceDelay longer than the test, the flush
// timer never fires, so what a client receives it receives through its own
// urgent output (flush.go): the replies to its own lines (its echo, its
// PONG) come at once, and lines caused by others come with them, intact
// and in order (PING-2). Had a reply waited for the flush, or not taken
// the waiting lines along, an expect below would wait in vain.
// (flush_internal_test.go checks which lines wait; TestCoalescingFlush
// that the flush delivers them.)
func TestCoalescing(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{CoalesceDelay: time.Hour})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", nil, []string{"alice"})
	// bob's JOIN note waits for alice's next reply.
	alice.send("PING joined")
	alice.expect("JOIN #r bob", "PONG joined")

	// Round trips of a client with the server never wait for the flush.
	const n = 20
	var lines []string
	for i := range n {
		lines = append(lines, fmt.Sprintf("ROOM #r alice m%d", i))
		alice.send(fmt.Sprintf("m%d", i))
		alice.expect(lines[i])
		alice.sync()
	}
	// bob gets alice's lines when his PONG goes out: all of them, in
	// order, before it.
	bob.send("PING now")
	bob.expect(append(lines, "PONG now")...)

	// And again, with a line bob's PING finds waiting.
	alice.send("again")
	alice.expect("ROOM #r alice again")
	bob.send("PING again")
	bob.expect("ROOM #r alice again", "PONG again")
	alice.sync()
	bob.sync()
}

// TestCoalescingFlush: lines caused by others that wait for the flush
// reach a client that sends nothing itself, intact and in order.
func TestCoalescingFlush(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{CoalesceDelay: 10 * time.Millisecond})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	for i := range 10 {
		line := fmt.Sprintf("ROOM #r alice m%d", i)
		alice.send(fmt.Sprintf("m%d", i))
		alice.expect(line)
		bob.expect(line)
	}
	alice.sync()
	bob.sync()
}
