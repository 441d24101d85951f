package impl

import (
	"time"

	"roomchat.dev/roomchat/spec"
)

// roomMsg is one room message as the loop delivers it: its ID and time if
// the server offers history (HIST-1), and each of its two forms on the
// wire, formatted at most once and shared by every recipient of that form
// (HIST-2, CAPS-3): the ROOM line of core connections and the MESSAGE line
// of connections that enabled history. Owned by the loop goroutine; the
// formatted bytes, once made, never change.
type roomMsg struct {
	id   uint64    // 0 if the server does not offer history
	at   time.Time // its time, to the millisecond
	room string    // as spelled by the room now
	user string
	text string
}

// The forms of a room message on the wire (roomMsg.form).
const (
	formCore = iota // the ROOM line
	formExt         // the MESSAGE line
)

// form returns the form of the message a connection with the extensions
// ext receives.
func (m *roomMsg) form(ext spec.Ext) int {
	if ext.Has(spec.ExtHistory) && m.id != 0 {
		return formExt
	}
	return formCore
}

// serverLine returns the message's line in form f. Each use formats it
// anew: a delivery formats it once into the room's buffer (room.queue),
// a replay of the history into the newcomer's reply, and the message keeps
// no copy of its own.
func (m *roomMsg) serverLine(f int) spec.ServerLine {
	if f == formExt {
		return spec.MessageLine(m.id, spec.FormatMsgTime(m.at), m.room, m.user, m.text)
	}
	return spec.RoomLine(m.room, m.user, m.text)
}

// history is a room's last spec.HistoryLen room messages (JOIN-6, MSG-3),
// replayed to each newcomer in its own form: the ROOM lines that were sent,
// or, to a connection that enabled history, the MESSAGE lines with their
// IDs and times (HIST-2). It is the room's own and is destroyed with it
// (HIST-4); stored history is another thing (msgstore.go). Owned by the
// loop goroutine.
type history struct {
	msgs [spec.HistoryLen]*roomMsg // a ring; the oldest entry is at next when full
	next int                       // where the next message goes
	n    int                       // how many entries are in use
}

// add appends a message, dropping the oldest beyond spec.HistoryLen.
func (h *history) add(m *roomMsg) {
	h.msgs[h.next] = m
	h.next = (h.next + 1) % len(h.msgs)
	if h.n < len(h.msgs) {
		h.n++
	}
}

// appendTo appends the kept messages to b, oldest first, in the form a
// connection with the extensions ext receives.
func (h *history) appendTo(b []byte, ext spec.Ext) []byte {
	start := (h.next - h.n + len(h.msgs)) % len(h.msgs)
	for i := range h.n {
		m := h.msgs[(start+i)%len(h.msgs)]
		b = m.serverLine(m.form(ext)).AppendWire(b)
	}
	return b
}
