package impl

import "roomchat.dev/roomchat/spec"

// Several rooms per user (PROTOCOL.md 13.4).
//
// A connection that enabled rooms keeps JOIN, LEAVE, MSG and USERS, with
// other meanings: JOIN adds a room and leaves none, and the others act on
// the room they name; a text line still goes to the user's room if it has
// exactly one (MULTI-5, handled by msg for both kinds of connection). The
// server keeps no current room (D-17): a client's rooms are client.rooms,
// in join order, which is also the order in which its end leaves them
// (leaveAll, MULTI-7). Everything else — one output queue, the flow
// control of flow.go, the budgets — is per client, whatever its rooms
// (MULTI-8).

// roomsCommands replaces entries of commands on a connection that enabled
// rooms. Their checks come in the order of MULTI-2 to MULTI-6: usage
// (spec.ParseCommandWith), a name (the precondition), the room name, then
// the user's rooms. The other kinds have no entry (run is nil).
var roomsCommands = [spec.KindCount]command{
	spec.Join:  {named, (*loop).addRoom},
	spec.Leave: {named, (*loop).leaveNamed},
	spec.Msg:   {named, (*loop).msgNamed},
	spec.Users: {named, (*loop).usersNamed},
}

// addRoom adds a room to c's rooms, leaving none of the others (MULTI-2).
func (l *loop) addRoom(c *client, cmd spec.Command) {
	switch {
	case !spec.ValidRoom(cmd.Arg):
		l.reply(c, spec.ErrorLine(spec.ErrInvalidRoom))
	case c.roomOf(cmd.Arg) != nil:
		l.reply(c, spec.ErrorLine(spec.ErrAlreadyInRoom))
	case len(c.rooms) >= l.cfg.MaxRooms:
		l.reply(c, spec.ErrorLine(spec.ErrTooManyRooms))
	default:
		l.joinRoom(c, cmd.Arg)
	}
}

// namedRoom returns the room of c's that cmd names, or answers why there
// is none and returns nil: an invalid room name, or a room c is not in
// (MULTI-3).
func (l *loop) namedRoom(c *client, cmd spec.Command) *room {
	if !spec.ValidRoom(cmd.Arg) {
		l.reply(c, spec.ErrorLine(spec.ErrInvalidRoom))
		return nil
	}
	r := c.roomOf(cmd.Arg)
	if r == nil {
		l.reply(c, spec.ErrorLine(spec.ErrNotInThatRoom))
	}
	return r
}

// leaveNamed takes c out of the room it names, and of no other (MULTI-3).
func (l *loop) leaveNamed(c *client, cmd spec.Command) {
	if r := l.namedRoom(c, cmd); r != nil {
		l.leaveRoom(c, r)
		l.reply(c, spec.OKLine(spec.OKLeft(r.name)))
	}
}

// msgNamed sends a room message to the room it names (MULTI-4).
func (l *loop) msgNamed(c *client, cmd spec.Command) {
	if r := l.namedRoom(c, cmd); r != nil {
		l.roomMessage(c, r, cmd)
	}
}

// usersNamed lists the members of the room it names (MULTI-6).
func (l *loop) usersNamed(c *client, cmd spec.Command) {
	if r := l.namedRoom(c, cmd); r != nil {
		l.reply(c, spec.UserListLine(r.names()))
	}
}
