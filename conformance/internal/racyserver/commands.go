package racyserver

import (
	"cmp"
	"errors"
	"slices"

	"roomchat.dev/roomchat/spec"
)

// command describes a command: the state checks of STATE-2 and STATE-3
// that precede it, and what it does once they pass.
type command struct {
	beforeName bool // allowed in NEW
	inRoom     bool // requires IN_ROOM, else "Not in a room"
	run        func(*client, spec.Command)
}

var commands = map[spec.Kind]command{
	spec.Username: {beforeName: true, run: (*client).username},
	spec.Quit:     {beforeName: true, run: (*client).quit},
	spec.Ping:     {beforeName: true, run: (*client).ping},
	spec.Join:     {run: (*client).join},
	spec.Leave:    {inRoom: true, run: (*client).leave},
	spec.Msg:      {inRoom: true, run: (*client).msg},
	spec.Text:     {inRoom: true, run: (*client).msg},
	spec.Privmsg:  {run: (*client).privmsg},
	spec.Rooms:    {run: (*client).rooms},
	spec.Users:    {inRoom: true, run: (*client).users},
}

// handle handles one complete line in the order of FRAME-9 and STATE-3,
// and reports whether it was QUIT.
func (c *client) handle(line []byte) (quit bool) {
	if text := spec.CheckLine(line); text != "" {
		c.replyError(text) // FRAME-7, FRAME-8
		return false
	}
	cmd, err := spec.ParseCommand(string(line))
	if err != nil {
		var usage *spec.UsageError
		if errors.As(err, &usage) {
			c.replyError(usage.Text()) // GRAM-2
		}
		return false
	}
	if cmd.Kind == spec.Empty {
		return false // FRAME-6
	}
	h := commands[cmd.Kind]
	switch {
	case !h.beforeName && c.name == "":
		c.replyError(spec.ErrUsernameRequired) // STATE-2
	case h.inRoom && c.room == nil:
		c.replyError(spec.ErrNotInRoom)
	default:
		h.run(c, cmd)
	}
	return cmd.Kind == spec.Quit
}

// ping is PING-1.
func (c *client) ping(cmd spec.Command) { c.reply(spec.PongLine(cmd.Text)) }

// username is USER-1..3, NAME-1, NAME-4 and NAME-5.
func (c *client) username(cmd spec.Command) {
	if c.name != "" {
		c.replyError(spec.ErrUsernameSet)
		return
	}
	if !spec.ValidUsername(cmd.Arg) {
		c.replyError(spec.ErrInvalidUsername)
		return
	}
	s, key := c.srv, spec.Fold(cmd.Arg)
	var out outbox
	if s.races.NameCheckThenSet {
		// The race: check, let go, then take.
		s.namesMu.Lock()
		taken := s.names[key] != nil
		s.namesMu.Unlock()
		if taken {
			c.replyError(spec.ErrUsernameTaken)
			return
		}
		s.pause()
		s.namesMu.Lock()
		defer s.namesMu.Unlock()
		// No second check: a client that took the name in the window
		// loses the map entry to this one, and both are welcomed.
	} else {
		s.namesMu.Lock()
		defer s.namesMu.Unlock()
		if s.names[key] != nil {
			out.add(c, spec.ErrorLine(spec.ErrUsernameTaken)) // USER-2
			out.flush()
			return
		}
	}
	s.names[key] = c
	c.name = cmd.Arg
	out.add(c, spec.OKLine(spec.OKWelcome(cmd.Arg)))
	out.flush()
}

// privmsg is PRIV-1..5.
func (c *client) privmsg(cmd spec.Command) {
	s, key := c.srv, spec.Fold(cmd.Arg)
	var out outbox
	if s.races.StalePrivmsgTarget {
		// The race: look up, let go, then write to what was found.
		s.namesMu.Lock()
		to := s.names[key]
		s.namesMu.Unlock()
		if to == nil {
			c.replyError(spec.ErrUserNotFound)
			return
		}
		s.pause()
		// The name is checked again, its owner is not: if the target
		// ended in the window and nobody took its name, the answer is
		// right; if a new user took it, the message goes to the old,
		// closed connection and is lost, and the sender is told OK Sent.
		s.namesMu.Lock()
		defer s.namesMu.Unlock()
		if s.names[key] == nil {
			out.add(c, spec.ErrorLine(spec.ErrUserNotFound))
		} else {
			out.add(c, spec.OKLine(spec.OKSent))
			out.add(to, spec.PrivateLine(c.name, cmd.Text)) // dropped if to is gone
		}
		out.flush()
		return
	}
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	to := s.names[key]
	if to == nil {
		out.add(c, spec.ErrorLine(spec.ErrUserNotFound)) // PRIV-2
	} else {
		out.add(c, spec.OKLine(spec.OKSent)) // PRIV-3, PRIV-4
		out.add(to, spec.PrivateLine(c.name, cmd.Text))
	}
	out.flush()
}

// rooms is ROOMS-1.
func (c *client) rooms(spec.Command) {
	s := c.srv
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	names := make([]string, 0, len(s.rooms))
	for _, r := range s.rooms {
		names = append(names, r.name)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(spec.Fold(a), spec.Fold(b)) })
	var out outbox
	out.add(c, spec.RoomListLine(names))
	out.flush()
}

// users is USERS-1.
func (c *client) users(spec.Command) {
	r := c.room
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, len(r.members))
	for i, m := range r.members {
		names[i] = m.name
	}
	var out outbox
	out.add(c, spec.UserListLine(names))
	out.flush()
}

// quit is QUIT-1..3; serve closes the connection after it.
func (c *client) quit(spec.Command) { c.end(true) }

// disconnect is DISC-1.
func (c *client) disconnect() { c.end(false) }

// end is the end of the user, by QUIT (with goodbye) or a disconnect, as
// one step (DISC-4): the user leaves its room, with LEAVE notes to the
// others, its name is freed, and nothing more is written to it.
func (c *client) end(goodbye bool) {
	s := c.srv
	var out outbox
	if c.name != "" {
		s.namesMu.Lock()
		defer s.namesMu.Unlock()
	}
	if goodbye {
		out.add(c, spec.OKLine(spec.OKGoodbye))
	}
	if r := c.room; r != nil {
		s.roomsMu.Lock()
		defer s.roomsMu.Unlock()
		r.mu.Lock()
		defer r.mu.Unlock()
		c.leaveLocked(r, &out)
	}
	if key := spec.Fold(c.name); c.name != "" && s.names[key] == c {
		delete(s.names, key)
	}
	out.end(c)
	out.flush()
}
