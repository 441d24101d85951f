package model

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// Names and rooms come from small pools, with case variants and invalid
// spellings, so that random sequences collide often.
var (
	namePool = []string{"alice", "Alice", "bob", "BOB", "carol", "dave", "bad name", "x!", ""}
	roomPool = []string{"#a", "#A", "#b", "#c-1", "nohash", "#", "#bad room"}
	textPool = []string{"hi", "  spaced", "join #a", "/join #b", "é ünïcödé", "MSG inner", "LOGIN failed again", "CAPS LOCK"}
	// Passwords: two good ones, and wrong lengths (ACCT-1).
	passPool = []string{"correct-horse", "battery-staple", "short", strings.Repeat("p", spec.PasswordMax+1)}
	// Clock readings that go forward and back (HIST-1), and one that is
	// no msg-time.
	timePool = []string{"2026-01-01T00:00:00.000Z", "2026-01-01T00:00:30.000Z", "2026-01-01T01:00:00.000Z",
		"2026-01-01T01:00:00.001Z", "2025-12-31T23:00:00.000Z", "not a time"}
)

// lineGen draws a client line: mostly well-formed commands, sometimes junk.
func lineGen() *rapid.Generator[string] {
	name := rapid.SampledFrom(namePool)
	rm := rapid.SampledFrom(roomPool)
	text := rapid.SampledFrom(textPool)
	return rapid.OneOf(
		rapid.Map(name, func(n string) string { return "USERNAME " + n }),
		rapid.Map(rm, func(r string) string { return "JOIN " + r }),
		rapid.Just("LEAVE"),
		rapid.Map(text, func(t string) string { return "MSG " + t }),
		text,
		rapid.Custom(func(t *rapid.T) string {
			return "PRIVMSG " + name.Draw(t, "to") + " " + text.Draw(t, "text")
		}),
		rapid.SampledFrom([]string{"ROOMS", "USERS", "QUIT", "PING", "PING tok", "", "LEAVE now", "MSG", "PRIVMSG bob"}),
		rapid.SampledFrom([]string{"a\x00b", "\xff\xfe", "bell\x07", "cr\rhere", "esc\x1b[31m", "c1\u0085"}),
		extLineGen(),
	)
}

// extLineGen draws a line of section 13: CAPS, the account commands and
// HISTORY, well-formed or not.
func extLineGen() *rapid.Generator[string] {
	name := rapid.SampledFrom(namePool)
	pass := rapid.SampledFrom(passPool)
	rm := rapid.SampledFrom(roomPool)
	return rapid.OneOf(
		rapid.SampledFrom([]string{"CAPS", "CAPS accounts", "CAPS history", "CAPS accounts history",
			"CAPS history shoes", "CAPS  history", "CAPS history ", "CAPS History"}),
		rapid.Map(pass, func(p string) string { return "REGISTER " + p }),
		rapid.Custom(func(t *rapid.T) string {
			return "LOGIN " + name.Draw(t, "name") + " " + pass.Draw(t, "password")
		}),
		rapid.Custom(func(t *rapid.T) string {
			return "PASSWORD " + pass.Draw(t, "old") + " " + pass.Draw(t, "new")
		}),
		rapid.Custom(func(t *rapid.T) string {
			before := rapid.SampledFrom([]string{"*", "1", "2", "3", "5", "0", "x"}).Draw(t, "before")
			limit := rapid.SampledFrom([]string{"1", "2", "3", "100", "101", "0"}).Draw(t, "limit")
			return "HISTORY " + rm.Draw(t, "room") + " " + before + " " + limit
		}),
		rapid.SampledFrom([]string{"REGISTER", "LOGIN alice", "PASSWORD x", "HISTORY #a", "HISTORY #a * 1 2"}),
		// 13.4, and its usage errors.
		rapid.Map(rm, func(r string) string { return "LEAVE " + r }),
		rapid.Map(rm, func(r string) string { return "USERS " + r }),
		rapid.Map(rm, func(r string) string { return "MSG " + r + " hi" }),
		rapid.SampledFrom([]string{"MSG #a", "MSG  #a x", "USERS", "LEAVE", "CAPS rooms", "CAPS rooms history"}),
	)
}

// configGen draws a server: what it offers and how much history it keeps.
func configGen(maxClients *rapid.Generator[int]) *rapid.Generator[Config] {
	return rapid.Custom(func(t *rapid.T) Config {
		return Config{
			MaxClients:    maxClients.Draw(t, "maxClients"),
			Offer:         rapid.SampledFrom([]spec.Ext{0, spec.ExtAccounts, spec.ExtHistory, spec.ExtRooms, spec.AllExt, spec.AllExt}).Draw(t, "offer"),
			MaxRooms:      rapid.IntRange(0, 3).Draw(t, "maxRooms"),
			HistoryKeep:   rapid.IntRange(0, 3).Draw(t, "historyKeep"),
			HistoryMaxAge: rapid.SampledFrom([]time.Duration{0, time.Minute, time.Hour}).Draw(t, "historyMaxAge"),
		}
	})
}

// modelMachine checks the model's invariants over random multi-client runs.
type modelMachine struct {
	s State
}

const maxIDs = 5

func (m *modelMachine) step(t *rapid.T, id ClientID, ev Event) {
	before := m.s
	snapshot := m.s.clone()
	next, outs := m.s.Step(id, ev)
	if !reflect.DeepEqual(before.clone(), snapshot) {
		t.Fatalf("Step changed the state it was called on")
	}
	wasOpen := slices.Contains(before.Clients(), id)
	for _, o := range outs {
		if !before.Connected(o.To) && !(o.To == id && ev.Kind == Connect) {
			t.Fatalf("%v sent %v to client %d, which was not connected", ev, o, o.To)
		}
		if o.Close {
			continue
		}
		if _, err := spec.ParseServerLine(o.Line); err != nil {
			t.Fatalf("%v produced a line outside the grammar: %v", ev, err)
		}
	}
	if err := next.Check(); err != nil {
		t.Fatalf("after client %d %v: %v", id, ev, err)
	}
	checkForms(t, before, next, id, ev, outs)
	if wasOpen && !next.Connected(id) { // it left: no trace may remain
		name := before.Name(id)
		if name != "" && slices.Contains(next.Users(), name) {
			t.Fatalf("name %q still taken after client %d left", name, id)
		}
		if next.RoomOf(id) != "" {
			t.Fatalf("client %d still in a room after leaving", id)
		}
		checkDeparture(t, before, id, ev, outs)
	}
	checkRoomLines(t, before, next, id, ev, outs)
	m.s = next
}

// checkDeparture checks the LEAVE notes of a connection's end (QUIT-2,
// DISC-1, MULTI-7): each member of each of its rooms receives one note
// for that room, in the order it joined them, and no note names a room
// it was not in.
func checkDeparture(t *rapid.T, before State, id ClientID, ev Event, outs []Output) {
	name := before.Name(id)
	if name == "" {
		return
	}
	want := map[ClientID][]string{}
	for _, r := range before.RoomsOf(id) {
		for _, m := range before.Members(r) {
			if other, _ := before.userByName(m); other != id {
				want[other] = append(want[other], spec.LeaveLine(r, name).String())
			}
		}
	}
	got := map[ClientID][]string{}
	for _, o := range outs {
		if strings.HasPrefix(o.Line, "LEAVE ") {
			got[o.To] = append(got[o.To], o.Line)
		}
	}
	if !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
		t.Fatalf("client %d (%s) in %q left by %v; LEAVE notes %v, want %v", id, name, before.RoomsOf(id), ev, got, want)
	}
}

// checkRoomLines checks that the lines of a room (ROOM, MESSAGE, JOIN and
// LEAVE notes) go to its members only, so that a core connection receives
// the lines of its own room only whatever rooms its members are in
// (MULTI-1): to the client whose event it is, a room it is in before or
// after the event; to anyone else, a room it is in.
func checkRoomLines(t *rapid.T, before, next State, id ClientID, ev Event, outs []Output) {
	for _, o := range outs {
		l, err := spec.ParseServerLine(o.Line)
		if o.Close || err != nil || l.Room == "" || l.Kind == spec.Stored {
			continue
		}
		in := func(s State) bool {
			return slices.ContainsFunc(s.RoomsOf(o.To), func(r string) bool { return spec.Fold(r) == spec.Fold(l.Room) })
		}
		if !in(before) && !(o.To == id && in(next)) {
			t.Fatalf("%v sent %q to client %d, in %q", ev, o.Line, o.To, before.RoomsOf(o.To))
		}
	}
}

func (m *modelMachine) pick(t *rapid.T, open bool) ClientID {
	return m.pickWhere(t, func(id ClientID) bool { return m.s.Connected(id) == open })
}

// pickWhere draws a client for which ok holds, or skips the action.
func (m *modelMachine) pickWhere(t *rapid.T, ok func(ClientID) bool) ClientID {
	var ids []ClientID
	for id := ClientID(1); id <= maxIDs; id++ {
		if ok(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		t.Skip("no such client")
	}
	return rapid.SampledFrom(ids).Draw(t, "client")
}

// inNew, named and enabled describe the clients an action may pick.
func (m *modelMachine) inNew(id ClientID) bool { return m.s.Connected(id) && m.s.Name(id) == "" }
func (m *modelMachine) named(id ClientID) bool { return m.s.Name(id) != "" }
func (m *modelMachine) enabled(x spec.Ext) func(ClientID) bool {
	return func(id ClientID) bool { return m.s.Enabled(id).Has(x) }
}

// arrive connects a client and, as a client program would, enables some of
// what the server offers, takes a name with USERNAME or LOGIN, and joins a
// room, so that runs reach rooms with members of every kind quickly.
func (m *modelMachine) arrive(t *rapid.T) {
	id := m.pick(t, false)
	m.step(t, id, Event{Kind: Connect})
	if !m.s.Connected(id) {
		return
	}
	if names := m.s.Offered().Names(); len(names) > 0 {
		if enable := rapid.SliceOfNDistinct(rapid.SampledFrom(names), 0, 2, rapid.ID).Draw(t, "enable"); len(enable) > 0 {
			m.say(t, id, "CAPS "+strings.Join(enable, " "))
		}
	}
	if accts := m.s.Accounts(); len(accts) > 0 && m.s.Enabled(id).Has(spec.ExtAccounts) && rapid.Bool().Draw(t, "login") {
		name := rapid.SampledFrom(accts).Draw(t, "account")
		m.say(t, id, "LOGIN "+name+" "+m.password(t, name, "password"))
	}
	if m.s.Name(id) == "" {
		m.say(t, id, "USERNAME "+rapid.SampledFrom(namePool[:6]).Draw(t, "name"))
	}
	if m.s.Name(id) != "" {
		m.say(t, id, "JOIN "+rapid.SampledFrom(roomPool[:4]).Draw(t, "room"))
	}
	if m.s.Enabled(id).Has(spec.ExtRooms) { // 13.4: more rooms
		for _, r := range rapid.SliceOfN(rapid.SampledFrom(roomPool[:4]), 0, 3).Draw(t, "more") {
			m.say(t, id, "JOIN "+r)
		}
	}
}

// say sends line from id.
func (m *modelMachine) say(t *rapid.T, id ClientID, line string) {
	m.step(t, id, Event{Kind: Line, Line: line})
}

// password draws a password for the account called name: its own, or
// one of the pool.
func (m *modelMachine) password(t *rapid.T, name, label string) string {
	if p, ok := m.s.Password(name); ok && rapid.Bool().Draw(t, label+"IsRight") {
		return p
	}
	return rapid.SampledFrom(passPool).Draw(t, label)
}

// checkForms checks what section 13 says of the lines an event causes:
// each recipient receives each room message in the form its own
// extensions call for (CAPS-3, HIST-2), only a connection that asked for
// them receives the other lines of section 13, a HISTORY reply is in
// order and within its bounds (HIST-3), a password is never sent
// (ACCT-6), and a Time event sends nothing.
func checkForms(t *rapid.T, before, next State, id ClientID, ev Event, outs []Output) {
	var cmd spec.Command
	if ev.Kind == Line && before.Connected(id) {
		words := spec.Words{Caps: before.Name(id) == "" && before.Offered() != 0, Ext: before.Enabled(id)}
		cmd, _ = spec.ParseCommandWith(ev.Line, words)
	}
	if ev.Kind == Time && len(outs) != 0 {
		t.Fatalf("%v sent %v", ev, outs)
	}
	var stored []uint64
	for _, o := range outs {
		if o.Close {
			continue
		}
		l, _ := spec.ParseServerLine(o.Line)
		history := before.Enabled(o.To).Has(spec.ExtHistory)
		switch {
		case l.Kind == spec.Room && history, l.Kind == spec.Message && !history:
			t.Fatalf("%v sent %q to client %d, which enabled %v", ev, o.Line, o.To, before.Enabled(o.To).Names())
		case l.Kind == spec.Stored && (cmd.Kind != spec.History || o.To != id),
			l.Kind == spec.CapsList && (cmd.Kind != spec.Caps || o.To != id):
			t.Fatalf("%v sent %q to client %d", ev, o.Line, o.To)
		case l.Kind == spec.Message && (l.ID > next.LastID() || (cmd.Kind == spec.Msg || cmd.Kind == spec.Text) && l.ID != next.LastID()):
			t.Fatalf("%v sent message %d; the last ID given is %d", ev, l.ID, next.LastID())
		case l.Kind == spec.Stored:
			if len(stored) > 0 && l.ID <= stored[len(stored)-1] || cmd.Before != 0 && l.ID >= cmd.Before ||
				spec.Fold(l.Room) != spec.Fold(cmd.Arg) {
				t.Fatalf("%v: %q out of order or bounds", ev, o.Line)
			}
			stored = append(stored, l.ID)
		}
		if (cmd.Kind == spec.Register || cmd.Kind == spec.Login || cmd.Kind == spec.Password) &&
			(strings.Contains(o.Line, cmd.Text) || cmd.Kind == spec.Password && strings.Contains(o.Line, cmd.Arg)) {
			t.Fatalf("%v sent a password: %q", ev, o.Line)
		}
	}
	if cmd.Kind == spec.History && len(outs) > 0 && strings.HasPrefix(outs[len(outs)-1].Line, "OK History ") {
		if want := spec.OKLine(spec.OKHistory(cmd.Arg, len(stored))).String(); outs[len(outs)-1].Line != want || len(stored) > cmd.Limit {
			t.Fatalf("%v: %d lines, then %q", ev, len(stored), outs[len(outs)-1].Line)
		}
	}
}

// TestModelInvariants drives the model with random events, the lines
// mostly chosen to make progress (a name, a room, extensions, accounts
// that exist and their passwords, IDs that exist), and checks the
// invariants and checkForms after each.
func TestModelInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxClients := rapid.OneOf(rapid.Just(maxIDs), rapid.IntRange(1, maxIDs))
		m := &modelMachine{s: New(configGen(maxClients).Draw(t, "config"))}
		t.Repeat(map[string]func(*rapid.T){
			"connect": func(t *rapid.T) {
				m.step(t, m.pick(t, false), Event{Kind: Connect})
			},
			"arrive": func(t *rapid.T) { m.arrive(t) },
			"line": func(t *rapid.T) {
				m.say(t, m.pick(t, true), lineGen().Draw(t, "line"))
			},
			"name": func(t *rapid.T) {
				m.say(t, m.pickWhere(t, m.inNew), "USERNAME "+rapid.SampledFrom(namePool).Draw(t, "name"))
			},
			"caps": func(t *rapid.T) {
				if m.s.Offered() == 0 {
					t.Skip("the server offers nothing")
				}
				id := m.pickWhere(t, m.inNew)
				names := rapid.SliceOfNDistinct(rapid.SampledFrom(m.s.Offered().Names()), 1, 2, rapid.ID).Draw(t, "names")
				m.say(t, id, "CAPS "+strings.Join(names, " "))
			},
			"join": func(t *rapid.T) {
				m.say(t, m.pickWhere(t, m.named), "JOIN "+rapid.SampledFrom(roomPool[:4]).Draw(t, "room"))
			},
			"msg": func(t *rapid.T) {
				id := m.pickWhere(t, func(id ClientID) bool { return m.s.RoomOf(id) != "" })
				m.say(t, id, rapid.SampledFrom(textPool).Draw(t, "text"))
			},
			"roomCommand": func(t *rapid.T) { // 13.4: a command that names one of its rooms, or another
				id := m.pickWhere(t, func(id ClientID) bool { return m.named(id) && m.enabled(spec.ExtRooms)(id) })
				r := rapid.SampledFrom(append(m.s.RoomsOf(id), roomPool...)).Draw(t, "room")
				cmd := rapid.SampledFrom([]string{"MSG %s hello", "LEAVE %s", "USERS %s", "JOIN %s"}).Draw(t, "cmd")
				m.say(t, id, fmt.Sprintf(cmd, r))
			},
			"register": func(t *rapid.T) {
				id := m.pickWhere(t, func(id ClientID) bool { return m.named(id) && m.enabled(spec.ExtAccounts)(id) })
				m.say(t, id, "REGISTER "+rapid.SampledFrom(passPool).Draw(t, "password"))
			},
			"password": func(t *rapid.T) {
				id := m.pickWhere(t, func(id ClientID) bool { return m.named(id) && m.enabled(spec.ExtAccounts)(id) })
				old := m.password(t, m.s.Name(id), "old")
				m.say(t, id, "PASSWORD "+old+" "+rapid.SampledFrom(passPool).Draw(t, "new"))
			},
			"login": func(t *rapid.T) {
				id := m.pickWhere(t, func(id ClientID) bool { return m.inNew(id) && m.enabled(spec.ExtAccounts)(id) })
				name := rapid.SampledFrom(append(m.s.Accounts(), namePool...)).Draw(t, "name")
				if rapid.Bool().Draw(t, "upper") {
					name = strings.ToUpper(name)
				}
				m.say(t, id, "LOGIN "+name+" "+m.password(t, name, "password"))
			},
			"history": func(t *rapid.T) {
				id := m.pickWhere(t, func(id ClientID) bool { return m.named(id) && m.enabled(spec.ExtHistory)(id) })
				before := "*"
				if n := rapid.Uint64Range(0, m.s.LastID()+1).Draw(t, "before"); n > 0 {
					before = strconv.FormatUint(n, 10)
				}
				limit := rapid.SampledFrom([]int{1, 2, 3, spec.HistoryPage}).Draw(t, "limit")
				m.say(t, id, fmt.Sprintf("HISTORY %s %s %d", rapid.SampledFrom(roomPool[:4]).Draw(t, "room"), before, limit))
			},
			"tooLong": func(t *rapid.T) {
				m.step(t, m.pick(t, true), Event{Kind: LineTooLong})
			},
			"drop": func(t *rapid.T) {
				id := m.pick(t, true)
				kind := rapid.SampledFrom([]EventKind{Disconnect, Overflow, Idle}).Draw(t, "how")
				m.step(t, id, Event{Kind: kind})
			},
			"restart": func(t *rapid.T) {
				m.step(t, 0, Event{Kind: Restart})
			},
			"time": func(t *rapid.T) {
				m.step(t, 0, Event{Kind: Time, Time: rapid.SampledFrom(timePool).Draw(t, "time")})
			},
			"": func(t *rapid.T) {
				if err := m.s.Check(); err != nil {
					t.Fatal(err)
				}
			},
		})
	})
}

// TestShutdownClosesEveryone checks SHUT-1 on random states.
func TestShutdownClosesEveryone(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := New(Config{})
		n := rapid.IntRange(0, 6).Draw(t, "clients")
		for id := ClientID(1); id <= ClientID(n); id++ {
			s, _ = s.Step(id, Event{Kind: Connect})
			for _, l := range rapid.SliceOfN(lineGen(), 0, 4).Draw(t, "lines") {
				s, _ = s.Step(id, Event{Kind: Line, Line: l})
			}
		}
		open := s.Clients()
		s, outs := s.Step(0, Event{Kind: Shutdown})
		var want []Output
		for _, id := range open {
			want = append(want, Output{To: id, Line: "ERROR " + spec.ErrShuttingDown}, Output{To: id, Close: true})
		}
		if !reflect.DeepEqual(outs, want) {
			t.Fatalf("shutdown outputs %v, want %v", outs, want)
		}
		if len(s.Clients()) != 0 || len(s.Rooms()) != 0 {
			t.Fatalf("state not empty after shutdown")
		}
	})
}

// TestRestartKeepsWhatSurvives checks a restart on random states: the
// outputs of a shutdown (SHUT-1), then a running server with no
// connections and no rooms, and with the accounts, their passwords, the
// stored messages, the last ID and the clock of before (HIST-5).
func TestRestartKeepsWhatSurvives(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &modelMachine{s: New(configGen(rapid.Just(maxIDs)).Draw(t, "config"))}
		for range rapid.IntRange(0, 4).Draw(t, "arrivals") {
			m.arrive(t)
			for _, l := range rapid.SliceOfN(lineGen(), 0, 4).Draw(t, "lines") {
				for _, id := range m.s.Clients() {
					m.say(t, id, l)
				}
			}
		}
		before := m.s
		var want []Output
		for _, id := range before.Clients() {
			want = append(want, Output{To: id, Line: "ERROR " + spec.ErrShuttingDown}, Output{To: id, Close: true})
		}
		m.step(t, 0, Event{Kind: Restart})
		s := m.s
		// The outputs are those of a shutdown.
		if _, outs := before.Step(0, Event{Kind: Restart}); !reflect.DeepEqual(outs, want) {
			t.Fatalf("restart outputs %v, want %v", outs, want)
		}
		if len(s.Clients()) != 0 || len(s.Rooms()) != 0 {
			t.Fatalf("connections or rooms after a restart: %v, %v", s.Clients(), s.Rooms())
		}
		if !slices.Equal(s.Accounts(), before.Accounts()) || s.LastID() != before.LastID() || s.Now() != before.Now() {
			t.Fatalf("accounts %q, last ID %d, clock %s; before: %q, %d, %s",
				s.Accounts(), s.LastID(), s.Now(), before.Accounts(), before.LastID(), before.Now())
		}
		for _, a := range before.Accounts() {
			p, _ := before.Password(a)
			if q, ok := s.Password(a); !ok || p != q {
				t.Fatalf("account %q lost its password", a)
			}
		}
		for _, r := range roomPool[:4] {
			if !reflect.DeepEqual(s.Stored(r), before.Stored(r)) {
				t.Fatalf("stored messages of %s changed", r)
			}
		}
		// It runs: a client connects, and an account's name is still taken.
		s, outs := s.Step(1, Event{Kind: Connect})
		if !s.Connected(1) || len(outs) != 0 {
			t.Fatalf("connect after a restart: %v", outs)
		}
		for _, a := range s.Accounts() {
			if _, outs := s.Step(1, Event{Kind: Line, Line: "USERNAME " + a}); len(outs) != 1 || outs[0].Line != "ERROR "+spec.ErrUsernameTaken {
				t.Fatalf("USERNAME %s after a restart: %v", a, outs)
			}
		}
	})
}

// TestQuitFromEveryState checks QUIT-1: the goodbye then the close, whatever
// the client had done before.
func TestQuitFromEveryState(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := New(Config{})
		s, _ = s.Step(1, Event{Kind: Connect})
		for _, l := range rapid.SliceOfN(lineGen(), 0, 6).Draw(t, "lines") {
			if l == "QUIT" {
				continue
			}
			s, _ = s.Step(1, Event{Kind: Line, Line: l})
		}
		s, outs := s.Step(1, Event{Kind: Line, Line: "QUIT"})
		want := []Output{{To: 1, Line: "OK " + spec.OKGoodbye}, {To: 1, Close: true}}
		if !reflect.DeepEqual(outs, want) {
			t.Fatalf("QUIT gave %v", outs)
		}
		if s.Connected(1) {
			t.Fatalf("still connected after QUIT")
		}
	})
}
