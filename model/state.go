package model

import (
	"slices"
	"sort"

	"roomchat.dev/roomchat/spec"
)

// Config holds the server limits the model needs. Zero values mean the
// protocol's defaults.
type Config struct {
	MaxClients int // LIMIT-1
}

// State is everything a server knows about its clients and rooms. It is a
// value: Step never changes the State it is called on.
type State struct {
	maxClients int
	down       bool   // SHUT-1 has happened
	conns      []conn // open connections, in the order they connected
	rooms      []room // existing rooms, in the order they were created
}

// conn is one open connection; name is "" in state NEW.
type conn struct {
	id   ClientID
	name string
}

// room is an existing room. members are in join order (JOIN-4, USERS-1);
// history holds the formatted ROOM lines, oldest first (JOIN-6).
type room struct {
	name    string // as spelled by the JOIN that created it (NAME-3)
	members []ClientID
	history []string
}

// New returns the state of a server with no clients.
func New(cfg Config) State {
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = spec.MaxClients
	}
	return State{maxClients: cfg.MaxClients}
}

// clone returns a deep copy, so that Step can change the copy freely.
func (s State) clone() State {
	c := s
	c.conns = slices.Clone(s.conns)
	c.rooms = make([]room, len(s.rooms))
	for i, r := range s.rooms {
		c.rooms[i] = room{name: r.name, members: slices.Clone(r.members), history: slices.Clone(r.history)}
	}
	return c
}

// Connected reports whether id has an open connection.
func (s State) Connected(id ClientID) bool { return s.connIndex(id) >= 0 }

// Name returns id's username, or "" if it has none or is not connected.
func (s State) Name(id ClientID) string {
	if i := s.connIndex(id); i >= 0 {
		return s.conns[i].name
	}
	return ""
}

// RoomOf returns the name of id's room, or "" if it is in none.
func (s State) RoomOf(id ClientID) string {
	if r := s.roomIndexOf(id); r >= 0 {
		return s.rooms[r].name
	}
	return ""
}

// Clients returns the IDs of the open connections, in connection order.
func (s State) Clients() []ClientID {
	ids := make([]ClientID, len(s.conns))
	for i, c := range s.conns {
		ids[i] = c.id
	}
	return ids
}

// Users returns the usernames in use, in connection order.
func (s State) Users() []string {
	var names []string
	for _, c := range s.conns {
		if c.name != "" {
			names = append(names, c.name)
		}
	}
	return names
}

// Rooms returns the existing rooms as ROOMS lists them (ROOMS-1).
func (s State) Rooms() []string {
	names := make([]string, len(s.rooms))
	for i, r := range s.rooms {
		names[i] = r.name
	}
	sort.Slice(names, func(i, j int) bool { return spec.Fold(names[i]) < spec.Fold(names[j]) })
	return names
}

// Members returns the names of a room's members in join order, or nil if
// the room does not exist.
func (s State) Members(roomName string) []string {
	r := s.roomIndex(roomName)
	if r < 0 {
		return nil
	}
	names := make([]string, len(s.rooms[r].members))
	for i, id := range s.rooms[r].members {
		names[i] = s.Name(id)
	}
	return names
}

// History returns a room's history lines, oldest first.
func (s State) History(roomName string) []string {
	if r := s.roomIndex(roomName); r >= 0 {
		return slices.Clone(s.rooms[r].history)
	}
	return nil
}

func (s State) connIndex(id ClientID) int {
	return slices.IndexFunc(s.conns, func(c conn) bool { return c.id == id })
}

// userByName finds the connection whose name folds to that of name (NAME-3).
func (s State) userByName(name string) (ClientID, bool) {
	for _, c := range s.conns {
		if c.name != "" && spec.Fold(c.name) == spec.Fold(name) {
			return c.id, true
		}
	}
	return 0, false
}

func (s State) roomIndex(name string) int {
	return slices.IndexFunc(s.rooms, func(r room) bool { return spec.Fold(r.name) == spec.Fold(name) })
}

func (s State) roomIndexOf(id ClientID) int {
	return slices.IndexFunc(s.rooms, func(r room) bool { return slices.Contains(r.members, id) })
}
