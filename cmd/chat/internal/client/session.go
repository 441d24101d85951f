package client

import (
	"slices"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// session is what the client knows about its user and rooms, learnt from
// the lines the server sends. It is owned by the loop goroutine.
//
// On a connection that enabled rooms (PROTOCOL.md 13.4) the user may be
// in several rooms; which of them is current, where text typed goes and
// what the screen shows, is the client's alone (D-17). Elsewhere the user
// is in one room at most, and a JOIN leaves it (JOIN-3).
type session struct {
	self string // our username once accepted
	// multi: rooms is enabled, so JOIN adds a room, and LEAVE, MSG and
	// USERS name theirs.
	multi bool
	room  string       // the current room as the server spells it, "" in none
	in    []*roomState // the rooms the user is in, in the order joined
	// known are the rooms of the last ROOMLIST, and those we joined, for
	// Tab to complete.
	known []string
	// unanswered are the commands sent whose answers the client looks
	// for, oldest first: MSG, answered by its echo (MSG-2, D-2), PRIVMSG,
	// answered by OK Sent or ERROR User not found, LEAVE and USERS,
	// which share ERROR Not in a room with MSG, JOIN, which the room of
	// a HISTORY waits for, and the REGISTER, PASSWORD (kept without their
	// passwords) and HISTORY of section 13.
	// Answers come in the order of the commands (ORDER-2), so an answer
	// also settles every command before the one it answers.
	unanswered []sentCommand
	// page holds the HISTORY lines of the fetch on its way until its OK
	// History.
	page []spec.ServerLine
}

// roomState is what the client knows of one room the user is in.
type roomState struct {
	name    string   // as the server spells it
	members []string // in join order, self included
	// roster counts the JOIN lines still to come that list who was in the
	// room when we joined (JOIN-4): they are not arrivals.
	roster int
	back   scrollback // the room's stored history (13.3)
}

// sentCommand is a command on its way to the server.
type sentCommand struct {
	spec.Command
	// Room is the room of a MSG: the one it names, or the room the
	// client was in when it sent it.
	Room string
}

// sent records a command on its way to the server.
func (s *session) sent(c spec.Command) {
	room := s.room
	switch c.Kind {
	case spec.Register, spec.Password:
		c.Arg, c.Text = "", "" // the passwords
	case spec.Msg:
		if c.Arg != "" {
			room = c.Arg
		}
	}
	switch c.Kind {
	case spec.Msg, spec.Privmsg, spec.Leave, spec.Users, spec.Join, spec.History, spec.Register, spec.Password:
		s.unanswered = append(s.unanswered, sentCommand{c, room})
	}
}

// answer removes the oldest unanswered command that match accepts, and
// those before it, and returns it; nil if none matches.
func (s *session) answer(match func(spec.Command) bool) *spec.Command {
	for i, c := range s.unanswered {
		if match(c.Command) {
			s.unanswered = s.unanswered[i+1:]
			return &c.Command
		}
	}
	return nil
}

func isKind(kinds ...spec.Kind) func(spec.Command) bool {
	return func(c spec.Command) bool { return slices.Contains(kinds, c.Kind) }
}

// pending returns the messages sent and not yet confirmed, oldest first.
func (s *session) pending() []sentCommand {
	var p []sentCommand
	for _, c := range s.unanswered {
		if c.Kind == spec.Msg || c.Kind == spec.Privmsg {
			p = append(p, c)
		}
	}
	return p
}

// apply updates the session with a line from the server and returns the
// view to render that line with.
func (s *session) apply(l spec.ServerLine) View {
	v := View{Self: s.self, Room: s.room}
	switch l.Kind {
	case spec.OK:
		if room, others, ok := parseJoined(l.Text); ok {
			s.answer(isKind(spec.Join))
			s.joined(room, others)
		} else if room, ok := strings.CutPrefix(l.Text, "Left "); ok && spec.ValidRoom(room) {
			s.answer(isKind(spec.Leave))
			s.left(room)
		} else if l.Text == spec.OKSent {
			v.Private = s.answer(isKind(spec.Privmsg))
		} else if strings.HasPrefix(l.Text, "Registered ") {
			v.Answer = s.answer(isKind(spec.Register))
		} else if l.Text == spec.OKPasswordChanged {
			v.Answer = s.answer(isKind(spec.Password))
		} else if _, n, ok := parseHistoryEnd(l.Text); ok {
			if c := s.answer(isKind(spec.History)); c != nil {
				v.Page = s.endPage(*c, n)
			}
		}
	case spec.Error:
		s.error(l.Text, &v)
	case spec.Room, spec.Message:
		if s.self != "" && spec.Fold(l.User) == spec.Fold(s.self) {
			// Our echo; or, rarely, a line of the history of a room we
			// come back to, which settles a message early.
			s.answer(func(c spec.Command) bool {
				return c.Kind == spec.Msg && c.Text == l.Text && (c.Arg == "" || spec.Fold(c.Arg) == spec.Fold(l.Room))
			})
		}
		if l.Kind == spec.Message {
			s.noteShown(l.Room, l.ID)
		}
	case spec.Stored:
		v.Held = s.hold(l)
	case spec.Joined:
		r := s.find(l.Room)
		if r == nil {
			break
		}
		if r.roster > 0 {
			r.roster--
			v.Roster = true
		}
		if !slices.ContainsFunc(r.members, sameName(l.User)) {
			r.members = append(r.members, l.User)
		}
	case spec.Left:
		if r := s.find(l.Room); r != nil {
			r.members = slices.DeleteFunc(r.members, sameName(l.User))
		}
	case spec.UserList:
		c := s.answer(isKind(spec.Users))
		r := s.find(s.room)
		if s.multi && c != nil {
			r = s.find(c.Arg) // USERS <room> (MULTI-6)
		}
		if r != nil {
			r.members = slices.Clone(l.List)
			v.Room = r.name
		}
	case spec.RoomList:
		s.known = slices.Clone(l.List)
		for _, r := range s.in {
			s.addKnown(r.name)
		}
	}
	return v
}

// error settles the command an ERROR line answers.
func (s *session) error(text string, v *View) {
	switch text {
	case spec.ErrUserNotFound:
		v.Private = s.answer(isKind(spec.Privmsg))
	case spec.ErrNotInRoom:
		s.answer(isKind(spec.Msg, spec.Leave, spec.Users))
	case spec.ErrNotInThatRoom, spec.UsageWith(spec.Msg, spec.ExtRooms),
		spec.UsageWith(spec.Leave, spec.ExtRooms), spec.UsageWith(spec.Users, spec.ExtRooms):
		s.answer(isKind(spec.Msg, spec.Leave, spec.Users)) // MULTI-3, MULTI-4, MULTI-6
	case spec.ErrInvalidRoom:
		if s.multi {
			s.answer(isKind(spec.Join, spec.Msg, spec.Leave, spec.Users))
		} else {
			s.answer(isKind(spec.Join))
		}
	case spec.ErrAlreadyInRoom, spec.ErrTooManyRooms, spec.Usage(spec.Join):
		s.answer(isKind(spec.Join))
	case spec.ErrInvalidPassword:
		v.Answer = s.answer(isKind(spec.Register, spec.Password))
	case spec.ErrAlreadyRegistered:
		v.Answer = s.answer(isKind(spec.Register))
	case spec.ErrNotRegistered, spec.ErrWrongPassword:
		v.Answer = s.answer(isKind(spec.Password))
	case spec.ErrStorageFailed:
		v.Answer = s.answer(isKind(spec.Msg)) // HIST-5
	case spec.Usage(spec.History):
		// Not for a HISTORY of this client's; but it ends the fetch.
		s.answer(isKind(spec.History))
		s.page = nil
	}
}

// joined takes the room of an OK Joined: it becomes the current room, the
// only one unless rooms is enabled (JOIN-3).
func (s *session) joined(room string, others int) {
	r := &roomState{name: room, members: []string{s.self}, roster: others}
	if s.multi {
		s.in = slices.DeleteFunc(s.in, func(x *roomState) bool { return spec.Fold(x.name) == spec.Fold(room) })
		s.in = append(s.in, r)
	} else {
		s.in = []*roomState{r}
	}
	s.room = room
	s.addKnown(room)
}

// left takes the room of an OK Left. If it was the current room, the room
// joined just before it becomes current, or the one after it if it was the
// first.
func (s *session) left(room string) {
	if !s.multi {
		s.in, s.room = nil, ""
		return
	}
	i := slices.IndexFunc(s.in, func(r *roomState) bool { return spec.Fold(r.name) == spec.Fold(room) })
	if i < 0 {
		return
	}
	s.in = slices.Delete(s.in, i, i+1)
	if spec.Fold(room) != spec.Fold(s.room) {
		return
	}
	switch {
	case len(s.in) == 0:
		s.room = ""
	case i > 0:
		s.room = s.in[i-1].name
	default:
		s.room = s.in[0].name
	}
}

// find returns the state of room if the user is in it, or nil.
func (s *session) find(room string) *roomState {
	if room == "" {
		return nil
	}
	f := spec.Fold(room)
	for _, r := range s.in {
		if spec.Fold(r.name) == f {
			return r
		}
	}
	return nil
}

// current returns the state of the current room, or nil.
func (s *session) current() *roomState { return s.find(s.room) }

// inRoom reports whether the user is in room.
func (s *session) inRoom(room string) bool { return s.find(room) != nil }

// show makes room, one of the user's, the current room. It reports false
// if the user is not in it.
func (s *session) show(room string) bool {
	r := s.find(room)
	if r == nil {
		return false
	}
	s.room = r.name
	return true
}

// changing reports whether a JOIN or LEAVE awaits its answer: with rooms,
// it decides the current room, which decides where text typed goes.
func (s *session) changing() bool {
	return slices.ContainsFunc(s.unanswered, func(c sentCommand) bool {
		return c.Kind == spec.Join || c.Kind == spec.Leave
	})
}

func (s *session) addKnown(room string) {
	if !slices.ContainsFunc(s.known, sameName(room)) {
		s.known = append(s.known, room)
	}
}

func sameName(name string) func(string) bool {
	f := spec.Fold(name)
	return func(s string) bool { return spec.Fold(s) == f }
}

// names returns what Tab completes: the other members of the current
// room, and the known rooms.
func (s *session) names() Names {
	var n Names
	if r := s.current(); r != nil {
		for _, m := range r.members {
			if spec.Fold(m) != spec.Fold(s.self) {
				n.Users = append(n.Users, m)
			}
		}
	}
	n.Rooms = slices.Clone(s.known)
	return n
}

// prompt returns the prompt for the input line.
func (s *session) prompt() string {
	if s.room == "" {
		return "> "
	}
	return s.room + "> "
}
