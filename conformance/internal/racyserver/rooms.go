package racyserver

import (
	"slices"
	"sync"

	"roomchat.dev/roomchat/spec"
)

// room is one room. It exists, in Server.rooms, while it has members.
type room struct {
	name string // immutable: as spelled by the JOIN that created it
	key  string // immutable: spec.Fold(name)

	// mu guards members and history. Membership changes (JOIN, LEAVE, the
	// end of a member) and, in the correct server, room messages take it
	// for writing; USERS, and the room messages of UnorderedFanOut, for
	// reading.
	mu      sync.RWMutex
	members []*client // in the order they joined
	history [][]byte  // the last spec.HistoryLen ROOM lines, with CRLF

	// histMu guards history among room messages that hold mu only for
	// reading (UnorderedFanOut).
	histMu sync.Mutex
}

// record appends a ROOM line to the history (MSG-3).
func (r *room) record(line []byte) {
	r.history = append(r.history, line)
	if n := len(r.history) - spec.HistoryLen; n > 0 {
		r.history = slices.Delete(r.history, 0, n)
	}
}

// join is JOIN-1..6.
func (c *client) join(cmd spec.Command) {
	if !spec.ValidRoom(cmd.Arg) {
		c.replyError(spec.ErrInvalidRoom)
		return
	}
	key := spec.Fold(cmd.Arg)
	if c.room != nil && c.room.key == key {
		c.replyError(spec.ErrAlreadyInRoom)
		return
	}
	s := c.srv
	var out outbox
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	// Only an operation that holds roomsMu locks two rooms, so the order
	// of the two does not matter.
	if old := c.room; old != nil {
		old.mu.Lock()
		defer old.mu.Unlock()
		c.leaveLocked(old, &out) // JOIN-3
	}
	r := s.rooms[key]
	if r == nil { // JOIN-2
		r = &room{name: cmd.Arg, key: key}
		s.rooms[key] = r
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out.add(c, spec.OKLine(spec.OKJoined(r.name, len(r.members)))) // JOIN-4
	for _, m := range r.members {
		out.add(c, spec.JoinLine(r.name, m.name))
	}
	for _, h := range r.history { // JOIN-6
		out.addWire(c, h)
	}
	for _, m := range r.members { // JOIN-5
		out.add(m, spec.JoinLine(r.name, c.name))
	}
	r.members = append(r.members, c)
	c.room = r
	out.flush()
}

// leave is LEAVE-2.
func (c *client) leave(spec.Command) {
	s, r := c.srv, c.room
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out outbox
	out.add(c, spec.OKLine(spec.OKLeft(r.name)))
	c.leaveLocked(r, &out)
	out.flush()
}

// leaveLocked takes c out of r: the remaining members are sent LEAVE, and
// an empty room is destroyed with its history (LEAVE-3). The caller holds
// roomsMu and r.mu, and flushes out.
func (c *client) leaveLocked(r *room, out *outbox) {
	r.members = slices.DeleteFunc(r.members, func(m *client) bool { return m == c })
	for _, m := range r.members {
		out.add(m, spec.LeaveLine(r.name, c.name))
	}
	if len(r.members) == 0 {
		delete(c.srv.rooms, r.key)
	}
	c.room = nil
}

// msg is MSG-2..4: every member, the sender included, is sent the ROOM
// line, which joins the history.
func (c *client) msg(cmd spec.Command) {
	races := c.srv.races
	if races.FanOutDuringLeave || races.UnorderedFanOut {
		c.msgRacy(cmd.Text)
		return
	}
	r := c.room
	r.mu.Lock()
	defer r.mu.Unlock()
	line := spec.RoomLine(r.name, c.name, cmd.Text).AppendWire(nil)
	var out outbox
	for _, m := range r.members {
		out.addWire(m, line)
	}
	r.record(line)
	out.flush()
}

// msgRacy is msg with FanOutDuringLeave or UnorderedFanOut.
func (c *client) msgRacy(text string) {
	s, r := c.srv, c.room
	line := spec.RoomLine(r.name, c.name, text).AppendWire(nil)
	if s.races.FanOutDuringLeave {
		// The members are read under the lock, then the lock is let go
		// while the line is "prepared"; the message is recorded and
		// delivered under the lock again, but to the copy: a JOIN or a
		// LEAVE in the window is not seen.
		r.mu.RLock()
		members := slices.Clone(r.members)
		r.mu.RUnlock()
		s.pause()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.record(line)
		c.deliver(members, line)
		return
	}
	// UnorderedFanOut: the member list is only read, so the read lock
	// looks enough; but then two messages fan out at once.
	r.mu.RLock()
	defer r.mu.RUnlock()
	r.histMu.Lock()
	r.record(line)
	r.histMu.Unlock()
	c.deliver(r.members, line)
}

// deliver sends line to members, c among them. Without UnorderedFanOut it
// is one atomic step (outbox). With it, the line is staged in each
// member's write buffer in turn, the sender's first, taking and letting
// go of one write lock at a time with the window between two members,
// and only then is every member's buffer written out. Unless another
// operation writes to a member meanwhile (which takes concurrency), a
// message is written nowhere before it is staged everywhere; but two
// messages staged at the same time interleave differently in different
// buffers.
func (c *client) deliver(members []*client, line []byte) {
	if !c.srv.races.UnorderedFanOut {
		var out outbox
		for _, m := range members {
			out.addWire(m, line)
		}
		out.flush()
		return
	}
	c.stage(line)
	for _, m := range members {
		if m != c {
			c.srv.pause()
			m.stage(line)
		}
	}
	c.flushStaged()
	for _, m := range members {
		if m != c {
			m.flushStaged()
		}
	}
}
