package impl

import (
	"slices"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// precondition is the state check a command needs (STATE-2 and the room
// checks), done once in dispatch so that handlers never repeat it.
type precondition uint8

const (
	anyState precondition = iota // QUIT, PING: allowed in every state
	unnamed                      // USERNAME: only in NEW (NAME-5)
	named                        // JOIN, PRIVMSG, ROOMS: not in NEW (STATE-2)
	inRoom                       // LEAVE, MSG, text, USERS: in IN_ROOM only (a text line with rooms too: MULTI-5)
)

// check returns the ERROR text for c's state, or "" if c may run the command.
func (p precondition) check(c *client) string {
	switch p {
	case unnamed:
		if c.name != "" {
			return spec.ErrUsernameSet
		}
	case named, inRoom:
		if c.name == "" {
			return spec.ErrUsernameRequired
		}
		if p == inRoom && len(c.rooms) == 0 {
			return spec.ErrNotInRoom
		}
	}
	return ""
}

// command is one entry of the dispatch table.
type command struct {
	pre precondition
	// run applies the command. By then the line has passed the framing
	// checks, the usage check and pre; run checks the arguments (section 4)
	// and then the command's own conditions (STATE-3).
	run func(l *loop, c *client, cmd spec.Command)
}

// commands is the dispatch table, indexed by the kind of client line (an
// array: it is looked up for every line). On a connection that enabled
// rooms, roomsCommands (multi.go) replaces some of its entries.
var commands = [spec.KindCount]command{
	spec.Username: {unnamed, (*loop).username},
	spec.Join:     {named, (*loop).join},
	spec.Leave:    {inRoom, (*loop).leave},
	spec.Msg:      {inRoom, (*loop).msg},
	spec.Text:     {inRoom, (*loop).msg}, // MSG-4: a text line is MSG <line>; MULTI-5 with rooms
	spec.Privmsg:  {named, (*loop).privmsg},
	spec.Rooms:    {named, (*loop).roomList},
	spec.Users:    {inRoom, (*loop).userList},
	spec.Quit:     {anyState, (*loop).quit},
	spec.Ping:     {anyState, (*loop).ping},
	// Section 13: these are command words only where spec.Words allows
	// them (loop.words), CAPS only in NEW.
	spec.Caps:     {anyState, (*loop).caps},
	spec.Register: {named, (*loop).registerAccount},
	spec.Login:    {unnamed, (*loop).login}, // ACCT-2: in LOBBY and IN_ROOM, "Username already set"
	spec.Password: {named, (*loop).password},
	spec.History:  {named, (*loop).history},
}

// dispatch applies one checked and parsed line from c.
func (l *loop) dispatch(c *client, it item) {
	if it.errText != "" {
		l.reply(c, spec.ErrorLine(it.errText))
		return
	}
	if it.cmd.Kind == spec.Empty {
		return // FRAME-6
	}
	cmd := commands[it.cmd.Kind]
	if c.ext.Has(spec.ExtRooms) {
		if m := roomsCommands[it.cmd.Kind]; m.run != nil {
			cmd = m
		}
	}
	if text := cmd.pre.check(c); text != "" {
		l.reply(c, spec.ErrorLine(text))
		return
	}
	cmd.run(l, c, it.cmd)
}

// username sets c's name (USER-1 to USER-3). The name of an account is
// taken, on every connection (ACCT-3).
func (l *loop) username(c *client, cmd spec.Command) {
	if !spec.ValidUsername(cmd.Arg) {
		l.reply(c, spec.ErrorLine(spec.ErrInvalidUsername))
		return
	}
	fold := spec.Fold(cmd.Arg)
	if l.users[fold] != nil || l.registered(fold) {
		l.reply(c, spec.ErrorLine(spec.ErrUsernameTaken))
		return
	}
	c.name, c.fold = cmd.Arg, fold
	l.users[fold] = c
	l.reply(c, spec.OKLine(spec.OKWelcome(c.name)))
}

// join moves c into a room, leaving its old one first (JOIN-1 to JOIN-6).
func (l *loop) join(c *client, cmd spec.Command) {
	if !spec.ValidRoom(cmd.Arg) {
		l.reply(c, spec.ErrorLine(spec.ErrInvalidRoom))
		return
	}
	if c.roomOf(cmd.Arg) != nil {
		l.reply(c, spec.ErrorLine(spec.ErrAlreadyInRoom))
		return
	}
	if len(c.rooms) > 0 {
		l.leaveRoom(c, c.rooms[0]) // JOIN-3: no OK Left
	}
	l.joinRoom(c, cmd.Arg)
}

// leave takes c out of its room (LEAVE-2, LEAVE-3).
func (l *loop) leave(c *client, _ spec.Command) {
	r := c.rooms[0]
	l.leaveRoom(c, r)
	l.reply(c, spec.OKLine(spec.OKLeft(r.name)))
}

// privmsg sends a private message (PRIV-1 to PRIV-5).
func (l *loop) privmsg(c *client, cmd spec.Command) {
	target := l.users[spec.Fold(cmd.Arg)]
	if target == nil {
		l.reply(c, spec.ErrorLine(spec.ErrUserNotFound))
		return
	}
	l.reply(c, spec.OKLine(spec.OKSent))
	l.reply(target, spec.PrivateLine(c.name, cmd.Text))
}

// roomList lists every room, sorted by folded name (ROOMS-1).
func (l *loop) roomList(c *client, _ spec.Command) {
	rooms := make([]*room, 0, len(l.rooms))
	for _, r := range l.rooms {
		rooms = append(rooms, r)
	}
	slices.SortFunc(rooms, func(a, b *room) int { return strings.Compare(a.fold, b.fold) })
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = r.name
	}
	l.reply(c, spec.RoomListLine(names))
}

// userList lists the members of c's room in join order (USERS-1).
func (l *loop) userList(c *client, _ spec.Command) {
	l.reply(c, spec.UserListLine(c.rooms[0].names()))
}

// quit says goodbye and closes c once that is written (QUIT-1 to QUIT-3).
func (l *loop) quit(c *client, _ spec.Command) {
	// The slot is free before the reply is queued: a writer may send the
	// reply at once, and whoever reads it may connect again (DISC-4). A
	// ghost, another node's user, holds no slot here.
	if !c.ghost {
		c.freeSlot()
	}
	l.reply(c, spec.OKLine(spec.OKGoodbye))
	l.closeClient(c, closeCause{reason: Quit})
}

// ping answers PONG with the token as received (PING-1).
func (l *loop) ping(c *client, cmd spec.Command) {
	l.reply(c, spec.PongLine(cmd.Text))
}
