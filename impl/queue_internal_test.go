package impl

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

// TestRoomMessagesShareAnEntry: the messages of a room that a member
// receives one after another take one entry of its queue's batch; a line
// from elsewhere between them, a message in the other form, or the end of
// the room's buffer starts a new entry; and the batch holds the bytes
// pushed, in order.
func TestRoomMessagesShareAnEntry(t *testing.T) {
	var r room
	var q outQueue
	var want []byte
	push := func(line []byte) {
		t.Helper()
		if _, ok, _ := q.push(line, 1<<30, 1<<30, false, false); !ok {
			t.Fatalf("%q refused", line)
		}
		want = append(want, line...)
	}
	entries := func() []string {
		var s []string
		for _, e := range q.turn() {
			s = append(s, string(e))
		}
		return s
	}

	push(r.queue(formCore, spec.RoomLine("#r", "alice", "one")))
	push(r.queue(formCore, spec.RoomLine("#r", "alice", "two")))
	push([]byte("OK x\r\n"))
	push(r.queue(formCore, spec.RoomLine("#r", "alice", "three")))
	push(r.queue(formExt, spec.MessageLine(4, "t", "#r", "alice", "four")))
	got, wantEntries := entries(), []string{
		"ROOM #r alice one\r\nROOM #r alice two\r\n",
		"OK x\r\n",
		"ROOM #r alice three\r\n",
		"MESSAGE 4 t #r alice four\r\n",
	}
	if fmt.Sprint(got) != fmt.Sprint(wantEntries) {
		t.Fatalf("entries %q, want %q", got, wantEntries)
	}

	// Messages past the end of the room's buffer start a new entry.
	n := len(q.turn())
	first := &r.out[formCore][0]
	for i := 0; &r.out[formCore][0] == first; i++ { // until a new buffer is begun
		push(r.queue(formCore, spec.RoomLine("#r", "bob", fmt.Sprint(i, " ", strings.Repeat("x", 200)))))
	}
	if got := len(q.turn()) - n; got != 2 {
		t.Fatalf("%d entries for the messages of two buffers, want 2", got)
	}
	if all := bytes.Join(q.turn(), nil); !bytes.Equal(all, want) || q.localBytes != len(want) {
		t.Fatalf("the batch holds %d bytes, %d counted, that differ from the %d pushed", len(all), q.localBytes, len(want))
	}
}

// turn returns the entries of the lines pushed this turn, the open one
// last.
func (q *outQueue) turn() [][]byte {
	var lines [][]byte
	if q.local != nil {
		lines = append(lines, q.local.lines...)
	}
	if q.tail != nil {
		lines = append(lines, q.tail)
	}
	return lines
}
