package model

import (
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// Names and rooms come from small pools, with case variants and invalid
// spellings, so that random sequences collide often.
var (
	namePool = []string{"alice", "Alice", "bob", "BOB", "carol", "dave", "bad name", "x!", ""}
	roomPool = []string{"#a", "#A", "#b", "#c-1", "nohash", "#", "#bad room"}
	textPool = []string{"hi", "  spaced", "join #a", "/join #b", "é ünïcödé", "MSG inner"}
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
	)
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
	if wasOpen && !next.Connected(id) { // it left: no trace may remain
		name := before.Name(id)
		if name != "" && slices.Contains(next.Users(), name) {
			t.Fatalf("name %q still taken after client %d left", name, id)
		}
		if next.RoomOf(id) != "" {
			t.Fatalf("client %d still in a room after leaving", id)
		}
	}
	m.s = next
}

func (m *modelMachine) pick(t *rapid.T, open bool) ClientID {
	var ids []ClientID
	for id := ClientID(1); id <= maxIDs; id++ {
		if m.s.Connected(id) == open {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		t.Skip("no such client")
	}
	return rapid.SampledFrom(ids).Draw(t, "client")
}

func TestModelInvariants(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := &modelMachine{s: New(Config{MaxClients: rapid.IntRange(1, maxIDs).Draw(t, "maxClients")})}
		t.Repeat(map[string]func(*rapid.T){
			"connect": func(t *rapid.T) {
				m.step(t, m.pick(t, false), Event{Kind: Connect})
			},
			"line": func(t *rapid.T) {
				id := m.pick(t, true)
				m.step(t, id, Event{Kind: Line, Line: lineGen().Draw(t, "line")})
			},
			"tooLong": func(t *rapid.T) {
				m.step(t, m.pick(t, true), Event{Kind: LineTooLong})
			},
			"drop": func(t *rapid.T) {
				id := m.pick(t, true)
				kind := rapid.SampledFrom([]EventKind{Disconnect, Overflow, Idle}).Draw(t, "how")
				m.step(t, id, Event{Kind: kind})
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
