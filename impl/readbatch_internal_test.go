package impl

import (
	"testing"
)

// TestReadBatchInOrder: the lines a reader hands over together are each an
// item of their own, in order, and the reader is resumed only after the
// last; lines after a QUIT in the same batch are not processed (STATE-4).
func TestReadBatchInOrder(t *testing.T) {
	h := newHandLoop(t, Config{CoalesceDelay: -1}) // every line written at once
	alice, bob := twoInRoom(h)

	h.l.onRead(readEvent{c: alice.client, line: []byte("MSG one"), more: batchOf("MSG two", "PING three")})
	h.l.settle()
	alice.expect("ROOM #r alice one", "ROOM #r alice two", "PONG three")
	bob.expect("ROOM #r alice one", "ROOM #r alice two")
	if !alice.resumed() {
		t.Fatal("alice's reader was not resumed after the last line of her batch")
	}

	h.l.onRead(readEvent{c: alice.client, line: []byte("MSG four"), more: batchOf("QUIT", "MSG five")})
	h.l.settle()
	alice.expect("ROOM #r alice four", "OK Goodbye!")
	alice.expectEOF()
	bob.expect("ROOM #r alice four", "LEAVE #r alice")
	if alice.resumed() {
		t.Fatal("alice's reader was resumed after her QUIT")
	}
	if alice.more != nil {
		t.Fatalf("%d lines after the QUIT still held", len(alice.more))
	}
}

// TestReadBatchWaits: a postponed line holds back the rest of its batch
// (LIMIT-9), which runs in order once the line has run.
func TestReadBatchWaits(t *testing.T) {
	h := newHandLoop(t, Config{CoalesceDelay: -1})
	alice, bob := twoInRoom(h)

	h.l.setOver(bob.client, true)
	h.l.onRead(readEvent{c: alice.client, line: []byte("MSG one"), more: batchOf("PING two")})
	h.l.settle()
	if alice.deferred == nil || len(alice.more) != 1 {
		t.Fatalf("alice's line to a hot member: postponed %v, %d lines of her batch held; want postponed, 1", alice.deferred != nil, len(alice.more))
	}
	if alice.resumed() {
		t.Fatal("alice's reader was resumed while her batch waits")
	}
	h.l.setOver(bob.client, false)
	h.l.release(bob.client)
	h.l.settle()
	alice.expect("ROOM #r alice one", "PONG two")
	bob.expect("ROOM #r alice one")
	if !alice.resumed() {
		t.Fatal("alice's reader was not resumed after her batch ran")
	}
}

// batchOf returns a batch of lines as a reader hands them over.
func batchOf(s ...string) [][]byte {
	b := make([][]byte, len(s))
	for i, l := range s {
		b[i] = []byte(l)
	}
	return b
}
