package model

import (
	"slices"
	"sort"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Config holds the server limits and options the model needs. Zero values
// mean the protocol's defaults; the zero Config is a core server.
type Config struct {
	MaxClients int // LIMIT-1
	// MaxRooms is MaxRoomsPerUser, how many rooms a user of a connection
	// that enabled rooms may be in at once (MULTI-2); 0 means the
	// default, 10.
	MaxRooms int
	// Offer is the set of extensions the server offers (section 13). CAPS
	// is a command word in NEW if and only if Offer is not empty (CAPS-1);
	// with none the server is a core server, and CAPS is a text line.
	Offer spec.Ext
	// HistoryKeep is how many of a room's newest stored messages HISTORY
	// can reach (HIST-4); 0 means the default, 10,000.
	HistoryKeep int
	// HistoryMaxAge is the age beyond which a stored message is no longer
	// returned (HIST-4), measured against the clock of Time events; 0
	// means none.
	HistoryMaxAge time.Duration
}

const (
	// defaultHistoryKeep is HistoryKeep's default (section 13).
	defaultHistoryKeep = 10000
	// startTime is the clock before any Time event (PROTOCOL.md 1.2).
	startTime = "2026-01-01T00:00:00.000Z"
)

// State is everything a server knows about its clients, rooms, accounts
// and stored messages. It is a value: Step never changes the State it is
// called on.
type State struct {
	maxClients int
	maxRooms   int // MaxRoomsPerUser
	offer      spec.Ext
	keep       int           // HistoryKeep
	maxAge     time.Duration // HistoryMaxAge; 0: none
	down       bool          // SHUT-1 has happened
	now        string        // the clock, a msg-time (Time events)
	conns      []conn        // open connections, in the order they connected
	rooms      []room        // existing rooms, in the order they were created

	// What survives a restart (HIST-5).
	accounts []account // in the order they were registered (ACCT-1)
	// stored is every room message in ID order, if the server offers
	// history (HIST-4); HistoryKeep and HistoryMaxAge apply when it is
	// read (reachable). It is only ever appended to, so States share it:
	// clone clips it, and an append then copies it instead of writing
	// into an array another State sees.
	stored   []Message
	lastID   uint64 // the ID of the last room message; 0 before any (HIST-1)
	lastTime string // the time of the last room message; "" before any (HIST-1)
}

// conn is one open connection; name is "" in state NEW.
type conn struct {
	id   ClientID
	name string
	ext  spec.Ext // the extensions it enabled (CAPS-2, CAPS-3)
	// account: the name is an account's, taken by LOGIN or registered
	// by REGISTER (ACCT-1, ACCT-2; USERNAME never gives such a name,
	// ACCT-3).
	account bool
	// rooms are the names of the rooms it is in, in the order it joined
	// them (MULTI-7): at most one on a core connection (STATE-1). The
	// rooms' member lists say the same from the other side (Check).
	rooms []string
}

// room is an existing room. members are in join order (JOIN-4, USERS-1);
// history holds the room's last messages, oldest first (JOIN-6), with the
// IDs and times a history-enabled joiner is shown (HIST-2).
type room struct {
	name    string // as spelled by the JOIN that created it (NAME-3)
	members []ClientID
	history []Message
}

// account is a registered name and its password (ACCT-1). A server keeps
// only a slow salted hash (ACCT-6); the model is no server that can leak
// one, and keeps the password itself.
type account struct {
	name     string // as spelled when it was registered (ACCT-2)
	password string
}

// Message is one room message with its ID and time (HIST-1).
type Message struct {
	ID   uint64
	Time string // a msg-time
	Room string // the room as spelled when the message was sent (HIST-3)
	User string // the sender's name
	Text string
}

// roomLine is m as a core connection receives it (MSG-2, JOIN-6).
func (m Message) roomLine() spec.ServerLine { return spec.RoomLine(m.Room, m.User, m.Text) }

// New returns the state of a server with no clients.
func New(cfg Config) State {
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = spec.MaxClients
	}
	if cfg.MaxRooms <= 0 {
		cfg.MaxRooms = spec.MaxRoomsPerUser
	}
	if cfg.HistoryKeep <= 0 {
		cfg.HistoryKeep = defaultHistoryKeep
	}
	if cfg.HistoryMaxAge < 0 {
		cfg.HistoryMaxAge = 0
	}
	return State{
		maxClients: cfg.MaxClients,
		maxRooms:   cfg.MaxRooms,
		offer:      cfg.Offer & spec.AllExt,
		keep:       cfg.HistoryKeep,
		maxAge:     cfg.HistoryMaxAge,
		now:        startTime,
	}
}

// clone returns a copy that Step can change freely: every slice it
// changes in place is copied, and stored, which it only appends to, is
// clipped.
func (s State) clone() State {
	c := s
	c.conns = slices.Clone(s.conns)
	for i := range c.conns {
		c.conns[i].rooms = slices.Clone(c.conns[i].rooms)
	}
	c.rooms = make([]room, len(s.rooms))
	for i, r := range s.rooms {
		c.rooms[i] = room{name: r.name, members: slices.Clone(r.members), history: slices.Clone(r.history)}
	}
	c.accounts = slices.Clone(s.accounts)
	c.stored = slices.Clip(s.stored)
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

// RoomOf returns the name of id's room, or "" if it is in none. For a
// connection that enabled rooms it is the first of RoomsOf.
func (s State) RoomOf(id ClientID) string {
	if rs := s.RoomsOf(id); len(rs) > 0 {
		return rs[0]
	}
	return ""
}

// RoomsOf returns the names of id's rooms in the order it joined them
// (MULTI-7), or nil if it is in none or is not connected.
func (s State) RoomsOf(id ClientID) []string {
	if i := s.connIndex(id); i >= 0 && len(s.conns[i].rooms) > 0 {
		return slices.Clone(s.conns[i].rooms)
	}
	return nil
}

// MaxRooms returns MaxRoomsPerUser (MULTI-2).
func (s State) MaxRooms() int { return s.maxRooms }

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

// History returns a room's history (JOIN-6) as the ROOM lines a core
// joiner receives, oldest first, or nil if the room does not exist.
func (s State) History(roomName string) []string {
	var lines []string
	for _, m := range s.Replay(roomName) {
		lines = append(lines, m.roomLine().String())
	}
	return lines
}

// Replay returns a room's history (JOIN-6) with the ID and time of each
// message, which a history-enabled joiner receives as MESSAGE lines
// (HIST-2), oldest first, or nil if the room does not exist.
func (s State) Replay(roomName string) []Message {
	if r := s.roomIndex(roomName); r >= 0 {
		return slices.Clone(s.rooms[r].history)
	}
	return nil
}

// Offered returns the extensions the server offers (Config.Offer): those
// CAPS lists and may enable (CAPS-1, CAPS-2).
func (s State) Offered() spec.Ext { return s.offer }

// Enabled returns the extensions id enabled with CAPS (CAPS-2), or 0 if
// it enabled none or is not connected.
func (s State) Enabled(id ClientID) spec.Ext {
	if i := s.connIndex(id); i >= 0 {
		return s.conns[i].ext
	}
	return 0
}

// Accounts returns the names of the accounts, as spelled when they were
// registered, in the order they were registered (ACCT-1). Accounts
// survive a restart (HIST-5).
func (s State) Accounts() []string {
	names := make([]string, len(s.accounts))
	for i, a := range s.accounts {
		names[i] = a.name
	}
	return names
}

// IsAccount reports whether name is an account's, compared as in NAME-3.
// Only LOGIN takes such a name (ACCT-3).
func (s State) IsAccount(name string) bool { return s.accountIndex(name) >= 0 }

// Password returns the password of the account called name (compared as
// in NAME-3), so that a test can log in correctly or on purpose wrongly.
// A server never reveals it (ACCT-6); the model holds it for its callers.
func (s State) Password(name string) (string, bool) {
	if a := s.accountIndex(name); a >= 0 {
		return s.accounts[a].password, true
	}
	return "", false
}

// LastID returns the ID of the last room message, 0 before any (HIST-1).
// The model gives IDs 1, 2, 3, … in the order of ORDER-1, to every room
// message whether or not the server offers history, and goes on across a
// restart (HIST-5); the next message gets LastID()+1.
func (s State) LastID() uint64 { return s.lastID }

// Now returns the server's clock, a msg-time: the Time of the last Time
// event, or 2026-01-01T00:00:00.000Z before any (PROTOCOL.md 1.2).
func (s State) Now() string { return s.now }

// Stored returns the stored messages of a room (compared as in NAME-3),
// oldest first, that HISTORY can return now: those among the room's
// newest HistoryKeep and not older than HistoryMaxAge by the clock
// (HIST-4). It is what "HISTORY <room> * <limit>" returns, before the
// limit. It is nil if the server does not offer history, which stores
// nothing. A room need not exist to have stored messages.
func (s State) Stored(roomName string) []Message {
	var msgs []Message
	for _, m := range s.stored {
		if spec.Fold(m.Room) == spec.Fold(roomName) {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) > s.keep {
		msgs = msgs[len(msgs)-s.keep:]
	}
	if s.maxAge > 0 {
		now, _ := spec.ParseMsgTime(s.now)
		msgs = slices.DeleteFunc(msgs, func(m Message) bool {
			t, _ := spec.ParseMsgTime(m.Time)
			return now.Sub(t) > s.maxAge
		})
	}
	return msgs
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

// accountIndex finds the account whose name folds to that of name (NAME-3).
func (s State) accountIndex(name string) int {
	return slices.IndexFunc(s.accounts, func(a account) bool { return spec.Fold(a.name) == spec.Fold(name) })
}

func (s State) roomIndex(name string) int {
	return slices.IndexFunc(s.rooms, func(r room) bool { return spec.Fold(r.name) == spec.Fold(name) })
}

// myRoom finds the room called name among id's rooms (compared as in
// NAME-3), or returns -1.
func (s State) myRoom(id ClientID, name string) int {
	i := s.connIndex(id)
	if i < 0 || !slices.ContainsFunc(s.conns[i].rooms, func(r string) bool { return spec.Fold(r) == spec.Fold(name) }) {
		return -1
	}
	return s.roomIndex(name)
}
