package client

import (
	"fmt"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

const t0 = "2024-05-06T09:00:00.000Z"

// TestSessionScrollback: the client pages back from the smallest ID it has
// shown for its room (HIST-3), holds a page until its OK History, and
// knows when a short page was the beginning.
func TestSessionScrollback(t *testing.T) {
	s := session{self: "carol"}
	fetch := func(want string) {
		t.Helper()
		c, notice := s.fetch(historyPageSize)
		var got string
		if c != nil {
			got = c.String()
			s.sent(*c)
		} else {
			got = notice
		}
		if got != want {
			t.Fatalf("fetch: %q, want %q", got, want)
		}
	}
	apply := func(line string) View {
		t.Helper()
		return s.apply(mustParse(t, line))
	}

	fetch("join a room to see its earlier messages")
	apply("OK Joined #log (0 users)")
	fetch("HISTORY #log * 50") // nothing shown yet: the newest
	fetch("")                  // one fetch at a time
	// A message arrives while the page is on its way; the page holds it
	// too, and it is not shown twice.
	apply("MESSAGE 60 " + t0 + " #log alice live")
	for id := 11; id <= 60; id++ {
		if v := apply(fmt.Sprintf("HISTORY %d %s #log bob m%d", id, t0, id)); !v.Held {
			t.Fatalf("HISTORY %d not held", id)
		}
	}
	v := apply("OK History #log (50 messages)")
	if v.Page == nil || len(v.Page.Lines) != 49 || v.Page.Lines[0].ID != 11 || v.Page.Beginning {
		t.Fatalf("page %+v", v.Page)
	}
	fetch("HISTORY #log 11 50")
	for id := 1; id <= 10; id++ {
		apply(fmt.Sprintf("HISTORY %d %s #Log bob m%d", id, t0, id))
	}
	v = apply("OK History #log (10 messages)")
	if v.Page == nil || len(v.Page.Lines) != 10 || !v.Page.Beginning {
		t.Fatalf("page %+v", v.Page)
	}
	fetch("— beginning of history of #log —") // nothing more is asked

	// Another room starts afresh, with the replay of its last messages.
	apply("OK Joined #tea (1 users)")
	apply("JOIN #tea alice")
	apply("MESSAGE 7 " + t0 + " #tea alice older")
	apply("MESSAGE 9 " + t0 + " #tea alice newer")
	apply("MESSAGE 3 " + t0 + " #log alice not here") // not our room
	fetch("HISTORY #tea 7 50")
	// A page that comes after the user moved on is shown, and leaves the
	// new room's scrollback alone.
	apply("OK Left #tea")
	apply("OK Joined #log (0 users)")
	apply("HISTORY 5 " + t0 + " #tea alice five")
	v = apply("OK History #tea (1 messages)")
	if v.Page == nil || v.Page.Room != "#tea" || len(v.Page.Lines) != 1 || !v.Page.Beginning {
		t.Fatalf("page %+v", v.Page)
	}
	fetch("HISTORY #log * 50")
	apply("OK History #log (0 messages)")
	fetch("— beginning of history of #log —")
}

// TestSessionStoredAlone: a HISTORY line that no fetch awaits is shown.
func TestSessionStoredAlone(t *testing.T) {
	s := session{self: "carol", room: "#a"}
	if v := s.apply(mustParse(t, "HISTORY 1 "+t0+" #a bob hi")); v.Held {
		t.Error("held without a fetch")
	}
	if v := s.apply(mustParse(t, "OK History #a (1 messages)")); v.Page != nil {
		t.Errorf("a page without a fetch: %+v", v.Page)
	}
}

// TestSessionMessageEcho: with history, the echo of a MSG is a MESSAGE
// line (HIST-2); and ERROR Storage failed answers a MSG (HIST-5).
func TestSessionMessageEcho(t *testing.T) {
	s := session{self: "bob", room: "#a"}
	for _, typed := range []string{"one", "two", "three"} {
		s.sent(*ParseInput(typed).Send)
	}
	s.apply(mustParse(t, "MESSAGE 4 "+t0+" #a bob one"))
	if v := s.apply(mustParse(t, "ERROR Storage failed")); v.Answer == nil || v.Answer.Text != "two" {
		t.Fatalf("Not stored answers %+v", v.Answer)
	}
	if p := s.pending(); len(p) != 1 || p[0].Text != "three" {
		t.Errorf("pending %+v", p)
	}
}

// TestSessionAccountAnswers: REGISTER and PASSWORD are kept without their
// passwords, and their answers are matched to them.
func TestSessionAccountAnswers(t *testing.T) {
	s := session{self: "bob"}
	s.sent(spec.Command{Kind: spec.Register, Text: "correct-horse"})
	s.sent(spec.Command{Kind: spec.Password, Arg: "correct-horse", Text: "battery-staple"})
	for _, c := range s.unanswered {
		if strings.Contains(c.String(), "horse") || strings.Contains(c.String(), "staple") {
			t.Fatalf("a password is kept: %q", c.String())
		}
	}
	if v := s.apply(mustParse(t, "OK Registered bob")); v.Answer == nil || v.Answer.Kind != spec.Register {
		t.Errorf("OK Registered answers %+v", v.Answer)
	}
	if v := s.apply(mustParse(t, "ERROR Wrong password")); v.Answer == nil || v.Answer.Kind != spec.Password {
		t.Errorf("Wrong password answers %+v", v.Answer)
	}
}

func TestParseHistoryEnd(t *testing.T) {
	for _, tt := range []struct {
		text string
		room string
		n    int
		ok   bool
	}{
		{"History #log (2 messages)", "#log", 2, true},
		{"History #LOG (0 messages)", "#LOG", 0, true},
		{"History #log (1 message)", "", 0, false},
		{"History log (1 messages)", "", 0, false},
		{"History #log (01 messages)", "", 0, false},
		{"Joined #log (1 users)", "", 0, false},
	} {
		room, n, ok := parseHistoryEnd(tt.text)
		if ok != tt.ok || ok && (room != tt.room || n != tt.n) {
			t.Errorf("parseHistoryEnd(%q) = %q %d %v", tt.text, room, n, ok)
		}
	}
}

// TestSessionBusy: a page asked for waits for the JOIN on its way, which
// decides the room, and for the page on its way. A JOIN is settled by its
// answer, or by the answer to a later command (ORDER-2).
func TestSessionBusy(t *testing.T) {
	s := session{self: "bob"}
	steps := []struct {
		sent string // typed; "" for none
		line string // then received; "" for none
		busy bool
	}{
		{"/join #a", "", true},
		{"", "OK Joined #a (0 users)", false},
		{"/join #a", "ERROR Already in room", false},
		{"/join #bad!", "ERROR Invalid room name", false},
		{"/join #b", "", true},
		{"hello", "", true},
		{"", "ROOM #b bob hello", false}, // the echo settles the JOIN before it
		{"/history", "", true},
		{"", "OK History #b (0 messages)", false},
		{"/leave", "", true},
		{"", "OK Left #b", false},
		{"/leave", "ERROR Not in a room", false},
	}
	for _, st := range steps {
		if st.sent == "/history" {
			c, _ := s.fetch(historyPageSize)
			s.sent(*c)
		} else if st.sent != "" {
			s.sent(*ParseInput(st.sent).Send)
		}
		if st.line != "" {
			s.apply(mustParse(t, st.line))
		}
		if s.busy() != st.busy {
			t.Fatalf("after %q, %q: busy %v, want %v", st.sent, st.line, !st.busy, st.busy)
		}
	}
}

// TestSessionPageAgain: a page that brought only messages already shown is
// asked for again, unless it was the beginning.
func TestSessionPageAgain(t *testing.T) {
	s := session{self: "bob"}
	s.apply(mustParse(t, "OK Joined #a (0 users)"))
	c, _ := s.fetch(1)
	s.sent(*c)
	s.apply(mustParse(t, "MESSAGE 9 "+t0+" #a alice nine")) // the replay
	s.apply(mustParse(t, "HISTORY 9 "+t0+" #a alice nine"))
	v := s.apply(mustParse(t, "OK History #a (1 messages)"))
	if v.Page == nil || !v.Page.Again || v.Page.Limit != 1 || len(v.Page.Lines) != 0 {
		t.Fatalf("page %+v, want it asked for again", v.Page)
	}
	if got, shown := plain().Line(mustParse(t, "OK History #a (1 messages)"), v); shown {
		t.Errorf("shown: %q", got)
	}
	if c, _ := s.fetch(1); c == nil || c.String() != "HISTORY #a 9 1" {
		t.Fatalf("again: %v", c)
	}

	c, _ = s.fetch(50)
	s.sent(*c)
	s.apply(mustParse(t, "HISTORY 9 "+t0+" #a alice nine"))
	v = s.apply(mustParse(t, "OK History #a (1 messages)"))
	if v.Page == nil || v.Page.Again || !v.Page.Beginning {
		t.Fatalf("page %+v, want the beginning", v.Page)
	}
}
