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
	// privs are the PRIVMSGs sent and not yet answered, oldest first.
	// Replies come in the order of the commands (ORDER-2), and only PRIVMSG
	// is answered with OK Sent or ERROR User not found.
	privs []spec.Command
}

// sent records a command on its way to the server.
func (s *session) sent(c spec.Command) {
	if c.Kind == spec.Privmsg {
		s.privs = append(s.privs, c)
	}
}

// apply updates the session with a line from the server and returns the
// view to render that line with.
func (s *session) apply(l spec.ServerLine) View {
	v := View{Self: s.self, Room: s.room}
	switch l.Kind {
	case spec.OK:
		if room, others, ok := parseJoined(l.Text); ok {
			s.room = room
			s.members = []string{s.self}
			s.roster = others
			s.addRoom(room)
		} else if room, ok := strings.CutPrefix(l.Text, "Left "); ok && spec.ValidRoom(room) {
			s.room, s.members, s.roster = "", nil, 0
		} else if l.Text == spec.OKSent {
			v.Private = s.popPrivate()
		}
	case spec.Error:
		if l.Text == spec.ErrUserNotFound {
			v.Private = s.popPrivate()
		}
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

func (s *session) popPrivate() *spec.Command {
	if len(s.privs) == 0 {
		return nil
	}
	c := s.privs[0]
	s.privs = s.privs[1:]
	return &c
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
