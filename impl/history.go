package impl

import "roomchat.dev/roomchat/spec"

// history is a room's last spec.HistoryLen room messages (JOIN-6, MSG-3),
// kept as the exact wire bytes of the ROOM lines that were sent, so that a
// newcomer receives them without reformatting. Owned by the loop goroutine.
type history struct {
	lines [spec.HistoryLen][]byte // a ring; the oldest entry is at next when full
	next  int                     // where the next line goes
	n     int                     // how many entries are in use
}

// add appends a ROOM line, dropping the oldest beyond spec.HistoryLen. The
// slice is shared with the recipients' queues and must not be modified.
func (h *history) add(line []byte) {
	h.lines[h.next] = line
	h.next = (h.next + 1) % len(h.lines)
	if h.n < len(h.lines) {
		h.n++
	}
}

// appendTo appends the kept lines to b, oldest first.
func (h *history) appendTo(b []byte) []byte {
	start := (h.next - h.n + len(h.lines)) % len(h.lines)
	for i := range h.n {
		b = append(b, h.lines[(start+i)%len(h.lines)]...)
	}
	return b
}
