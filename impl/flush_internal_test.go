package impl

import (
	"testing"
	"time"
)

// TestCoalescingOff: with a negative CoalesceDelay, a line caused by
// another client starts its recipient's writer in the same item, although
// the recipient was written to at this very moment: with coalescing it
// would wait for the flush timer, which never fires here.
func TestCoalescingOff(t *testing.T) {
	h := newHandLoop(t, Config{CoalesceDelay: -1})
	alice, bob := twoInRoom(h)
	for _, text := range []string{"one", "two", "three"} {
		h.send(alice, "MSG "+text)
		if bob.flushQueued || h.l.flushArmed {
			t.Fatalf("bob's copy of %q waits for the flush", text)
		}
		alice.expect("ROOM #r alice " + text)
		bob.expect("ROOM #r alice " + text)
		h.quiesce()
	}
}

// TestCoalescingWaits: with coalescing, a line caused by another client
// to a client written to less than CoalesceDelay ago waits on the flush
// list, and more lines join it there; the client's own next reply (urgent)
// takes them all along, before it (PING-2); and the flush timer starts the
// writer of every client whose lines still wait. A client not written to
// for CoalesceDelay gets such a line at once.
func TestCoalescingWaits(t *testing.T) {
	const delay = 10 * time.Millisecond
	h := newHandLoop(t, Config{CoalesceDelay: delay})
	alice, bob := twoInRoom(h)

	h.send(alice, "MSG one")
	h.send(alice, "MSG two")
	alice.expect("ROOM #r alice one", "ROOM #r alice two") // its echoes are urgent
	if !bob.waiting() || !h.l.flushArmed {
		t.Fatalf("bob's copies do not wait for the flush")
	}
	h.send(bob, "PING me")
	bob.expect("ROOM #r alice one", "ROOM #r alice two", "PONG me")
	h.quiesce()

	h.send(alice, "MSG three")
	alice.expect("ROOM #r alice three")
	if !bob.waiting() {
		t.Fatalf("bob's copy of three does not wait for the flush")
	}
	h.l.onFlushTimer()
	h.l.settle()
	bob.expect("ROOM #r alice three")
	h.quiesce()
	if bob.flushQueued || h.l.flushArmed {
		t.Errorf("the flush list is not empty after the flush")
	}

	// Once CoalesceDelay has passed since bob's last write, a line goes
	// out at once.
	h.clock.advanceTo(h.clock.now() + delay)
	h.send(alice, "MSG four")
	if bob.flushQueued {
		t.Fatalf("bob's copy of four waits, though bob was last written to CoalesceDelay ago")
	}
	alice.expect("ROOM #r alice four")
	bob.expect("ROOM #r alice four")
}
