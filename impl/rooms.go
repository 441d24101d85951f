package impl

import (
	"slices"

	"roomchat.dev/roomchat/spec"
)

// room is one chat room (JOIN-2). It exists while it has members and is
// destroyed, with its history, when the last one leaves (LEAVE-3). Owned by
// the loop goroutine.
type room struct {
	name    string    // as spelled by the JOIN that created it (NAME-3)
	fold    string    // spec.Fold(name): the key in loop.rooms
	members []*client // in the order they joined, earliest first (JOIN-4, USERS-1)
	hist    history
	// hot counts the members whose output is over the high-water mark, so
	// the flow-control gate (flow.go) can tell in O(1) whether a line into
	// this room must wait.
	hot int
	// out holds copies of the room's messages as queued to the members,
	// one buffer for each form of a message (roomMsg.form): the messages a
	// member receives one after another lie next to each other, and its
	// queue keeps one entry for all of them (outQueue.push), not one a
	// message. The loop lets go of the buffers when output is quiet
	// (dropRoomBuffers).
	out [2][]byte
}

// roomChunk is the size of a room's buffers of queued messages.
const roomChunk = 16 << 10

// queue formats line, a message in form f, into r's buffer for that form,
// and returns its bytes there, whose capacity runs on to the end of the
// buffer so that the queue of a member it goes to can tell what follows
// it.
func (r *room) queue(f int, line spec.ServerLine) []byte {
	b := r.out[f]
	if size := wireSize(line); cap(b)-len(b) < size {
		b = make([]byte, 0, max(roomChunk, size))
	}
	n := len(b)
	r.out[f] = line.AppendWire(b)
	return r.out[f][n:]
}

// dropRoomBuffers lets go of every room's buffers of queued messages, so
// that a room that was busy costs no more memory than one that never was;
// the queues that still hold messages keep the buffers until written.
func (l *loop) dropRoomBuffers() {
	for _, r := range l.rooms {
		r.out = [2][]byte{}
	}
}

// add appends c to the members. c.rooms is the caller's to extend.
func (r *room) add(c *client) {
	r.members = append(r.members, c)
	if c.hot {
		r.hot++
	}
}

// remove deletes c from the members, keeping the others' order.
func (r *room) remove(c *client) {
	if i := slices.Index(r.members, c); i >= 0 {
		r.members = slices.Delete(r.members, i, i+1)
		if c.hot {
			r.hot--
		}
	}
}

// names returns the members' usernames in join order (USERS-1).
func (r *room) names() []string {
	names := make([]string, len(r.members))
	for i, m := range r.members {
		names[i] = m.name
	}
	return names
}

// roomOf returns the room of c's called name (compared as in NAME-3), or
// nil if c is not in it. c is in at most Config.MaxRooms rooms.
func (c *client) roomOf(name string) *room {
	fold := spec.Fold(name)
	for _, r := range c.rooms {
		if r.fold == fold {
			return r
		}
	}
	return nil
}

// joinRoom adds the room called name to c's rooms, creating it if needed,
// and queues JOIN-4 to c and JOIN-5 to the others. c is not in it.
func (l *loop) joinRoom(c *client, name string) {
	fold := spec.Fold(name)
	r := l.rooms[fold]
	if r == nil {
		r = &room{name: name, fold: fold}
		l.rooms[fold] = r
	}
	// The joiner's reply, roster and history go out as one buffer.
	reply := spec.OKLine(spec.OKJoined(r.name, len(r.members))).AppendWire(nil)
	for _, m := range r.members {
		reply = spec.JoinLine(r.name, m.name).AppendWire(reply)
	}
	reply = r.hist.appendTo(reply, c.ext)

	l.broadcast(r, wire(spec.JoinLine(r.name, c.name)))
	r.add(c)
	c.rooms = append(c.rooms, r)
	l.send(c, reply)
}

// leaveRoom takes c out of r, one of its rooms (LEAVE-2, JOIN-3,
// MULTI-3), as depart says. It sends c nothing.
func (l *loop) leaveRoom(c *client, r *room) {
	if i := slices.Index(c.rooms, r); i >= 0 {
		c.rooms = slices.Delete(c.rooms, i, i+1)
	}
	l.depart(r, c)
}

// leaveAll takes c out of every room it is in as its connection ends, one
// after another in the order it joined them, earliest first, so that each
// room's remaining members receive its LEAVE note in turn (QUIT-2, DISC-1,
// DISC-4, MULTI-7).
func (l *loop) leaveAll(c *client) {
	rooms := c.rooms
	c.rooms = nil
	for _, r := range rooms {
		l.depart(r, c)
	}
}

// depart removes c from r's members: each remaining member receives
// "LEAVE <room> <user>", and the room is destroyed with its history if it
// is now empty (LEAVE-3).
func (l *loop) depart(r *room, c *client) {
	r.remove(c)
	if len(r.members) == 0 {
		delete(l.rooms, r.fold)
		return
	}
	l.broadcast(r, wire(spec.LeaveLine(r.name, c.name)))
}

// deliver queues the room message m to every member of r, each in its own
// form (HIST-2, CAPS-3), and appends it to the room's history (MSG-3).
func (l *loop) deliver(r *room, m *roomMsg) {
	r.hist.add(m)
	var queued [2][]byte // in each form, once
	for _, c := range r.members {
		f := m.form(c.ext)
		if queued[f] == nil {
			queued[f] = r.queue(f, m.serverLine(f))
		}
		l.send(c, queued[f])
	}
}

// broadcast queues the same bytes to every member of r.
func (l *loop) broadcast(r *room, line []byte) {
	for _, m := range r.members {
		l.send(m, line)
	}
}
