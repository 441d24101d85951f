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
