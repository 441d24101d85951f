package client

import (
	"slices"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// session is what the client knows about its user and room, learnt from the
// lines the server sends. It is owned by the loop goroutine.
type session struct {
	self    string   // our username once accepted
	room    string   // current room as the server spells it, "" in the lobby
	members []string // members of room in join order, self included
	rooms   []string // the rooms of the last ROOMLIST, and those we joined
	// roster counts the JOIN lines still to come that list who was in the
	// room when we joined (JOIN-4): they are not arrivals.
	roster int
	// unanswered are the commands sent whose answers the client looks
	// for, oldest first: MSG, answered by its echo (MSG-2, D-2), PRIVMSG,
	// answered by OK Sent or ERROR User not found, LEAVE and USERS,
	// which share ERROR Not in a room with MSG, JOIN, which the room of
	// a HISTORY waits for, and the REGISTER, PASSWORD (kept without their
	// passwords) and HISTORY of section 13.
	// Answers come in the order of the commands (ORDER-2), so an answer
	// also settles every command before the one it answers.
	unanswered []sentCommand
	// back is the scrollback of room (13.3); page holds the HISTORY lines
	// of the fetch on its way until its OK History.
	back scrollback
	page []spec.ServerLine
}

// sentCommand is a command on its way to the server.
type sentCommand struct {
	spec.Command
	Room string // the room the client was in when it sent the command
}

// sent records a command on its way to the server.
func (s *session) sent(c spec.Command) {
	switch c.Kind {
	case spec.Register, spec.Password:
		c.Arg, c.Text = "", "" // the passwords
		fallthrough
	case spec.Msg, spec.Privmsg, spec.Leave, spec.Users, spec.Join, spec.History:
		s.unanswered = append(s.unanswered, sentCommand{c, s.room})
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
			s.room = room
			s.members = []string{s.self}
			s.roster = others
			s.back = scrollback{}
			s.addRoom(room)
		} else if room, ok := strings.CutPrefix(l.Text, "Left "); ok && spec.ValidRoom(room) {
			s.room, s.members, s.roster = "", nil, 0
			s.back = scrollback{}
			s.answer(isKind(spec.Leave))
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
		switch l.Text {
		case spec.ErrUserNotFound:
			v.Private = s.answer(isKind(spec.Privmsg))
		case spec.ErrNotInRoom:
			s.answer(isKind(spec.Msg, spec.Leave, spec.Users))
		case spec.ErrInvalidRoom, spec.ErrAlreadyInRoom, spec.Usage(spec.Join):
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
	case spec.Room, spec.Message:
		if s.self != "" && spec.Fold(l.User) == spec.Fold(s.self) {
			// Our echo; or, rarely, a line of the history of a room we
			// come back to, which settles a message early.
			s.answer(func(c spec.Command) bool { return c.Kind == spec.Msg && c.Text == l.Text })
		}
		if l.Kind == spec.Message {
			s.noteShown(l.Room, l.ID)
		}
	case spec.Stored:
		v.Held = s.hold(l)
	case spec.Joined:
		if !s.inRoom(l.Room) {
			break
		}
		if s.roster > 0 {
			s.roster--
			v.Roster = true
		}
		if !slices.ContainsFunc(s.members, sameName(l.User)) {
			s.members = append(s.members, l.User)
		}
	case spec.Left:
		if s.inRoom(l.Room) {
			s.members = slices.DeleteFunc(s.members, sameName(l.User))
		}
	case spec.UserList:
		s.answer(isKind(spec.Users))
		if s.room != "" {
			s.members = slices.Clone(l.List)
		}
	case spec.RoomList:
		s.rooms = slices.Clone(l.List)
		if s.room != "" {
			s.addRoom(s.room)
		}
	}
	return v
}

func (s *session) inRoom(room string) bool {
	return s.room != "" && spec.Fold(room) == spec.Fold(s.room)
}

func (s *session) addRoom(room string) {
	if !slices.ContainsFunc(s.rooms, sameName(room)) {
		s.rooms = append(s.rooms, room)
	}
}

func sameName(name string) func(string) bool {
	f := spec.Fold(name)
	return func(s string) bool { return spec.Fold(s) == f }
}

// names returns what Tab completes: the other members of the room, and the
// known rooms.
func (s *session) names() Names {
	var n Names
	for _, m := range s.members {
		if spec.Fold(m) != spec.Fold(s.self) {
			n.Users = append(n.Users, m)
		}
	}
	n.Rooms = slices.Clone(s.rooms)
	return n
}

// prompt returns the prompt for the input line.
func (s *session) prompt() string {
	if s.room == "" {
		return "> "
	}
	return s.room + "> "
}
