package impl

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
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

// TestLoopTakesBufferedLines: when the loop is done with a reader's batch
// and the reader holds more complete lines, the loop takes them itself, a
// batch at a time, in order, and resumes the reader only once none is
// left, or once the turn has taken turnReads batches so: then the reader
// hands over the rest behind the other readers (LIMIT-12).
func TestLoopTakesBufferedLines(t *testing.T) {
	h := newHandLoop(t, Config{CoalesceDelay: -1})
	alice, bob := twoInRoom(h)
	const n = (turnReads+3)*readBatch + 5
	var stream strings.Builder
	for i := range n {
		fmt.Fprintf(&stream, "MSG %d\r\n", i)
	}
	readerOf(alice.client, strings.NewReader(stream.String()), stream.Len())

	next := 0
	for turn, want := range []int{(turnReads + 1) * readBatch, n - (turnReads+1)*readBatch} {
		var ev readEvent
		alice.read(&ev, nil) // what her reader does when resumed
		ev.c = alice.client
		h.l.fromReader(ev)
		h.l.settle()
		for range want {
			line := fmt.Sprintf("ROOM #r alice %d", next)
			alice.expect(line)
			bob.expect(line)
			next++
		}
		if !alice.resumed() {
			t.Fatalf("turn %d: alice's reader was not resumed after %d lines", turn, want)
		}
		if turn == 0 && alice.rd.r.lr.Buffered() == 0 {
			t.Fatal("the first turn took every line: it was not bounded")
		}
	}
}

// readerOf gives c a reader's state that reads src with a buffer of size
// bytes, as its reader goroutine would hold it.
func readerOf(c *client, src io.Reader, size int) {
	c.rd.batch = true
	c.rd.r = getLineReader(nil, nil, true)
	c.rd.r.lr = spec.NewLineReaderSize(&c.rd.r.src, spec.MaxLineLen, size)
	c.rd.r.src.r = src
}
