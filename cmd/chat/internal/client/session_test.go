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
