package client

import (
	"slices"
	"testing"

	"roomchat.dev/roomchat/spec"
)

func mustParse(t *testing.T, raw string) spec.ServerLine {
	t.Helper()
	l, err := spec.ParseServerLine(raw)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSessionTracksMembers(t *testing.T) {
	s := session{self: "carol"}
	steps := []struct {
		line  string
		room  string
		users []string // Tab candidates: the others in the room
	}{
		{"OK Joined #tea (2 users)", "#tea", nil},
		{"JOIN #tea alice", "#tea", []string{"alice"}},
		{"JOIN #tea bob", "#tea", []string{"alice", "bob"}},
		{"ROOM #tea alice hi", "#tea", []string{"alice", "bob"}},
		{"JOIN #Tea dave", "#tea", []string{"alice", "bob", "dave"}}, // NAME-3
		{"LEAVE #tea BOB", "#tea", []string{"alice", "dave"}},
		{"JOIN #other eve", "#tea", []string{"alice", "dave"}},
		{"USERLIST alice carol frank", "#tea", []string{"alice", "frank"}},
		{"OK Joined #coffee (0 users)", "#coffee", nil},
		{"JOIN #coffee gus", "#coffee", []string{"gus"}},
		{"OK Left #coffee", "", nil},
		{"JOIN #coffee hal", "", nil},
	}
	for _, st := range steps {
		render(t, plain(), st.line, s.apply(mustParse(t, st.line)))
		if s.room != st.room || !slices.Equal(s.names().Users, st.users) {
			t.Fatalf("after %q: room %q users %q, want %q %q", st.line, s.room, s.names().Users, st.room, st.users)
		}
	}
	if want := []string{"#tea", "#coffee"}; !slices.Equal(s.names().Rooms, want) {
		t.Errorf("rooms %q, want %q", s.names().Rooms, want)
	}
	s.apply(mustParse(t, "ROOMLIST #a #b"))
	if want := []string{"#a", "#b"}; !slices.Equal(s.names().Rooms, want) {
		t.Errorf("rooms %q, want %q", s.names().Rooms, want)
	}
}

func TestSessionMatchesPrivateReplies(t *testing.T) {
	var s session
	s.sent(*ParseInput("/msg bob one").Send)
	s.sent(*ParseInput("hello").Send)
	s.sent(*ParseInput("/msg carol two").Send)
	if v := s.apply(mustParse(t, "OK Sent")); v.Private == nil || v.Private.Arg != "bob" {
		t.Fatalf("first OK Sent answers %+v", v.Private)
	}
	if v := s.apply(mustParse(t, "ERROR User not found")); v.Private == nil || v.Private.Arg != "carol" {
		t.Fatalf("User not found answers %+v", v.Private)
	}
	if v := s.apply(mustParse(t, "OK Sent")); v.Private != nil {
		t.Fatalf("unexpected OK Sent answers %+v", v.Private)
	}
}

func TestSessionMarksRoster(t *testing.T) {
	s := session{self: "carol"}
	for _, st := range []struct {
		line   string
		roster bool
	}{
		{"OK Joined #tea (2 users)", false},
		{"JOIN #tea alice", true},
		{"JOIN #tea bob", true},
		{"ROOM #tea alice earlier", false},
		{"JOIN #tea dave", false},
		{"OK Joined #cafe (1 users)", false},
		{"JOIN #cafe eve", true},
		{"JOIN #cafe fay", false},
	} {
		if v := s.apply(mustParse(t, st.line)); v.Roster != st.roster {
			t.Errorf("%q: roster %v, want %v", st.line, v.Roster, st.roster)
		}
	}
}

// TestSessionPending: a message is pending until its answer comes, and an
// answer settles every command sent before the one it answers (ORDER-2).
func TestSessionPending(t *testing.T) {
	s := session{self: "bob", room: "#a"}
	for _, typed := range []string{"one", "/msg alice psst", "two", "/leave", "three"} {
		s.sent(*ParseInput(typed).Send)
	}
	steps := []struct {
		line    string
		pending []string // the texts still pending after it
	}{
		{"", []string{"one", "psst", "two", "three"}},
		{"ROOM #a bob one", []string{"psst", "two", "three"}},
		{"ROOM #a alice two", []string{"psst", "two", "three"}}, // not ours
		{"OK Sent", []string{"two", "three"}},
		{"ROOM #a BOB two", []string{"three"}}, // NAME-3
		{"OK Left #a", []string{"three"}},
		{"ERROR Not in a room", nil},
	}
	for _, st := range steps {
		if st.line != "" {
			s.apply(mustParse(t, st.line))
		}
		var got []string
		for _, c := range s.pending() {
			got = append(got, c.Text)
		}
		if !slices.Equal(got, st.pending) {
			t.Fatalf("after %q: pending %q, want %q", st.line, got, st.pending)
		}
	}

	// An echo settles the messages sent before it, whose answers were
	// missed; an error that answers USERS leaves the next MSG pending.
	s = session{self: "bob", room: "#a"}
	s.sent(*ParseInput("a").Send)
	s.sent(*ParseInput("b").Send)
	s.sent(*ParseInput("/users").Send)
	s.sent(*ParseInput("c").Send)
	s.apply(mustParse(t, "ROOM #a bob b"))
	s.apply(mustParse(t, "ERROR Not in a room"))
	if p := s.pending(); len(p) != 1 || p[0].Text != "c" || p[0].Room != "#a" {
		t.Errorf("pending %+v, want c from #a", p)
	}
}

// TestSessionRooms: with rooms, each OK Joined adds a room and makes it
// current; each room keeps its members; an OK Left of the current room
// makes current the one joined before it, or else the next; the answers
// of MULTI-2 to MULTI-6 settle their commands.
func TestSessionRooms(t *testing.T) {
	s := session{self: "carol", multi: true}
	rooms := func() []string {
		var names []string
		for _, r := range s.in {
			names = append(names, r.name)
		}
		return names
	}
	steps := []struct {
		line  string
		room  string   // current after it
		in    []string // the rooms, in join order
		users []string // Tab candidates: the others in the current room
	}{
		{"OK Joined #a (1 users)", "#a", []string{"#a"}, nil},
		{"JOIN #a alice", "#a", []string{"#a"}, []string{"alice"}},
		{"OK Joined #b (0 users)", "#b", []string{"#a", "#b"}, nil},
		{"JOIN #A dave", "#b", []string{"#a", "#b"}, nil},
		{"OK Joined #c (0 users)", "#c", []string{"#a", "#b", "#c"}, nil},
		{"JOIN #c eve", "#c", []string{"#a", "#b", "#c"}, []string{"eve"}},
		{"LEAVE #a alice", "#c", []string{"#a", "#b", "#c"}, []string{"eve"}},
		{"OK Left #C", "#b", []string{"#a", "#b"}, nil},
		{"OK Left #a", "#b", []string{"#b"}, nil},
		{"OK Joined #d (0 users)", "#d", []string{"#b", "#d"}, nil},
		{"OK Left #b", "#d", []string{"#d"}, nil},
		{"OK Left #d", "", nil, nil},
	}
	for _, st := range steps {
		s.apply(mustParse(t, st.line))
		if s.room != st.room || !slices.Equal(rooms(), st.in) || !slices.Equal(s.names().Users, st.users) {
			t.Fatalf("after %q: room %q in %q users %q, want %q %q %q", st.line, s.room, rooms(), s.names().Users, st.room, st.in, st.users)
		}
	}

	s = session{self: "carol", multi: true}
	s.apply(mustParse(t, "OK Joined #a (0 users)"))
	s.apply(mustParse(t, "OK Joined #b (0 users)"))
	if !s.show("#A") || s.room != "#a" || s.show("#c") || s.room != "#a" {
		t.Fatalf("show: room %q", s.room)
	}
	// USERS names its room, and its USERLIST is that room's.
	s.sent(spec.Command{Kind: spec.Users, Arg: "#b"})
	if v := s.apply(mustParse(t, "USERLIST carol frank")); v.Room != "#b" || len(s.current().members) != 1 || len(s.find("#b").members) != 2 {
		t.Fatalf("USERLIST of #b: view room %q, #a %q, #b %q", v.Room, s.current().members, s.find("#b").members)
	}
	// An echo settles the MSG of its room only.
	s.sent(spec.Command{Kind: spec.Msg, Arg: "#a", Text: "hi"})
	s.sent(spec.Command{Kind: spec.Msg, Arg: "#b", Text: "hi"})
	s.apply(mustParse(t, "ROOM #b carol hi"))
	if p := s.pending(); len(p) != 0 {
		t.Fatalf("pending %+v", p)
	}
	s.sent(spec.Command{Kind: spec.Msg, Arg: "#a", Text: "hi"})
	s.sent(spec.Command{Kind: spec.Msg, Arg: "#b", Text: "hi"})
	s.apply(mustParse(t, "ROOM #a carol hi"))
	if p := s.pending(); len(p) != 1 || p[0].Room != "#b" {
		t.Fatalf("pending %+v, want the MSG to #b", p)
	}
	// The errors of MULTI-2 to MULTI-6 settle their commands: a JOIN
	// waits no more, so what is typed after it is read.
	for _, st := range []struct {
		sent spec.Command
		line string
	}{
		{spec.Command{Kind: spec.Join, Arg: "#c"}, "ERROR Too many rooms"},
		{spec.Command{Kind: spec.Leave, Arg: "#x"}, "ERROR Not in that room"},
		{spec.Command{Kind: spec.Leave, Arg: "#x!"}, "ERROR Invalid room name"},
		{spec.Command{Kind: spec.Msg, Arg: "#x", Text: "hi"}, "ERROR Not in that room"},
		{spec.Command{Kind: spec.Users, Arg: "#x"}, "ERROR Not in that room"},
	} {
		s = session{self: "carol", multi: true}
		s.sent(st.sent)
		if !s.changing() && st.sent.Kind != spec.Msg && st.sent.Kind != spec.Users {
			t.Fatalf("%v: not changing rooms", st.sent)
		}
		s.apply(mustParse(t, st.line))
		if len(s.unanswered) != 0 {
			t.Errorf("%v, %q: unanswered %+v", st.sent, st.line, s.unanswered)
		}
	}
}
