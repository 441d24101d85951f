package client

import (
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

var fixedClock = func() time.Time { return time.Date(2024, 5, 6, 15, 4, 59, 0, time.Local) }

func plain() *Renderer   { return &Renderer{Now: fixedClock} }
func colored() *Renderer { return &Renderer{Color: true, Now: fixedClock} }

// render parses a server line and renders it as the client would.
func render(t *testing.T, r *Renderer, raw string, v View) (string, bool) {
	t.Helper()
	l, err := spec.ParseServerLine(raw)
	if err != nil {
		t.Fatalf("ParseServerLine(%q): %v", raw, err)
	}
	return r.Line(l, v)
}

func TestRenderEveryLineKind(t *testing.T) {
	in := View{Self: "alice", Room: "#general"}
	lobby := View{Self: "alice"}
	priv := &spec.Command{Kind: spec.Privmsg, Arg: "bob", Text: "lunch?"}
	tests := []struct {
		line string
		view View
		want string
	}{
		{"ROOM #general bob hi there", in, "15:04 [#general] bob: hi there"},
		{"ROOM #general bob   spaced  out", in, "15:04 [#general] bob:   spaced  out"},
		{"ROOM #general alice hi", in, "15:04 [#general] <you> hi"},
		{"ROOM #general ALICE hi", in, "15:04 [#general] <you> hi"}, // NAME-3
		{"PRIVMSG bob hey", lobby, "15:04 (private) bob: hey"},
		{"JOIN #general bob", in, "15:04 * bob joined #general"},
		{"JOIN #general bob", View{Self: "alice", Room: "#general", Roster: true}, "15:04 * bob is in #general"},
		{"LEAVE #general bob", in, "15:04 * bob left #general"},
		{"USERLIST alice bob", in, "15:04 users in #general: alice, bob"},
		{"USERLIST alice", View{}, "15:04 users: alice"},
		{"ROOMLIST #a #b", lobby, "15:04 rooms: #a, #b"},
		{"ROOMLIST", lobby, "15:04 no rooms"},
		{"OK Welcome, alice!", View{}, "15:04 Welcome, alice!"},
		{"OK Joined #general (0 users)", lobby, "15:04 joined #general (nobody else here)"},
		{"OK Joined #general (1 users)", lobby, "15:04 joined #general (1 other user)"},
		{"OK Joined #general (12 users)", lobby, "15:04 joined #general (12 other users)"},
		{"OK Left #general", in, "15:04 left #general"},
		{"OK Sent", View{Self: "alice", Private: priv}, "15:04 (private) to bob: lunch?"},
		{"OK Sent", lobby, "15:04 Sent"},
		{"OK Goodbye!", lobby, "15:04 Goodbye!"},
		{"OK", lobby, "15:04 ok"},
		{"OK Joined #general (01 users)", lobby, "15:04 Joined #general (01 users)"},
		{"ERROR Not in a room", lobby, "15:04 ! Not in a room"},
		{"ERROR User not found", View{Self: "alice", Private: priv}, "15:04 ! User not found: bob"},
		{"ERROR Server shutting down", lobby, "15:04 ! Server shutting down"},
	}
	for _, tt := range tests {
		got, shown := render(t, plain(), tt.line, tt.view)
		if !shown || got != tt.want {
			t.Errorf("%q: got %q (shown %v), want %q", tt.line, got, shown, tt.want)
		}
	}
}

func TestRenderHidesPong(t *testing.T) {
	for _, line := range []string{"PONG", "PONG 42"} {
		if got, shown := render(t, plain(), line, View{}); shown {
			t.Errorf("%q shown as %q", line, got)
		}
	}
}

func TestRenderColors(t *testing.T) {
	v := View{Self: "alice", Room: "#general"}
	for _, line := range []string{
		"ROOM #general bob hi", "ROOM #general alice hi", "PRIVMSG bob hey",
		"JOIN #general bob", "LEAVE #general bob", "OK Left #general", "ERROR Not in a room",
	} {
		off, _ := render(t, plain(), line, v)
		on, _ := render(t, colored(), line, v)
		if strings.Contains(off, "\x1b") {
			t.Errorf("%q without colour has an escape: %q", line, off)
		}
		if !strings.Contains(on, "\x1b[") || !strings.Contains(on, sgrReset) {
			t.Errorf("%q with colour has no SGR: %q", line, on)
		}
		if stripSGR(on) != off {
			t.Errorf("%q: colour changes the text: %q vs %q", line, stripSGR(on), off)
		}
	}
	own, _ := render(t, colored(), "ROOM #general alice hi", v)
	other, _ := render(t, colored(), "ROOM #general bob hi", v)
	if !strings.Contains(own, sgrBold+sgrGreen+"<you>") {
		t.Errorf("own message not marked: %q", own)
	}
	if strings.Contains(other, sgrGreen) {
		t.Errorf("other's message marked as own: %q", other)
	}
	errLine, _ := render(t, colored(), "ERROR Not in a room", v)
	if !strings.Contains(errLine, sgrRed+"! Not in a room") {
		t.Errorf("error not highlighted: %q", errLine)
	}
}

// stripSGR removes the SGR sequences this package writes.
func stripSGR(s string) string {
	for _, sgr := range []string{sgrReset, sgrBold, sgrDim, sgrRed, sgrGreen, sgrYellow, sgrMagenta, sgrCyan} {
		s = strings.ReplaceAll(s, sgr, "")
	}
	return s
}

func TestRenderMalformedIsQuoted(t *testing.T) {
	for _, raw := range []string{
		"HELLO there",                       // unknown word
		"ROOM #general bob",                 // missing text
		"ROOM general bob hi",               // bad room
		"ROOM #general bob \x1b[2J\x1b[Hhi", // terminal escape
		"PRIVMSG bob hi\rthere",             // bare CR
		"ERROR \x07\x00\x7f\u009b",          // C0 and C1 controls
		"OK \xff\xfe",                       // invalid UTF-8
		"USERLIST alice bob!",               // bad name in list
		"",
	} {
		if _, err := spec.ParseServerLine(raw); err == nil {
			t.Fatalf("%q parses; the test needs a malformed line", raw)
		}
		for _, r := range []*Renderer{plain(), colored()} {
			got := stripSGR(r.Malformed(raw))
			if !strings.HasPrefix(got, "15:04 ? malformed line from server: \"") {
				t.Errorf("%q rendered as %q", raw, got)
			}
			for _, c := range got {
				if spec.IsControl(c) || c == '\uFFFD' {
					t.Errorf("%q: rendering %q holds %U", raw, got, c)
				}
			}
		}
	}
}

func TestParseJoined(t *testing.T) {
	tests := []struct {
		text   string
		room   string
		others int
		ok     bool
	}{
		{"Joined #a (0 users)", "#a", 0, true},
		{"Joined #Tea (3 users)", "#Tea", 3, true},
		{"Joined #a (1 user)", "", 0, false},
		{"Joined #a (-1 users)", "", 0, false},
		{"Joined a (1 users)", "", 0, false},
		{"Joined #a (x users)", "", 0, false},
		{"Welcome, bob!", "", 0, false},
	}
	for _, tt := range tests {
		room, others, ok := parseJoined(tt.text)
		if room != tt.room || others != tt.others || ok != tt.ok {
			t.Errorf("parseJoined(%q) = %q, %d, %v", tt.text, room, others, ok)
		}
	}
}

func TestRenderPending(t *testing.T) {
	msg := spec.Command{Kind: spec.Msg, Text: "hi there"}
	priv := spec.Command{Kind: spec.Privmsg, Arg: "bob", Text: "lunch?"}
	tests := []struct {
		c    spec.Command
		room string
		want string
	}{
		{msg, "#general", "--:-- [#general] <you> hi there"},
		{msg, "", "--:-- <you> hi there"},
		{priv, "#general", "--:-- (private) to bob: lunch?"},
	}
	for _, tt := range tests {
		if got := plain().Pending(tt.c, tt.room); got != tt.want {
			t.Errorf("Pending(%+v, %q) = %q, want %q", tt.c, tt.room, got, tt.want)
		}
		if got := colored().Pending(tt.c, tt.room); got != sgrDim+tt.want+sgrReset {
			t.Errorf("coloured: %q", got)
		}
	}
}

// TestRenderMessages: MESSAGE and HISTORY lines read as ROOM lines. One
// that arrives as it is sent has the time it is shown, as every line; an
// older one the time it was sent, with its date if not today.
func TestRenderMessages(t *testing.T) {
	at := func(d time.Duration) string { return spec.FormatMsgTime(fixedClock().Add(d)) }
	otherDay := time.Date(2024, 5, 5, 9, 7, 0, 0, time.Local)
	otherYear := time.Date(2023, 12, 31, 23, 59, 0, 0, time.Local)
	in := View{Self: "alice", Room: "#general"}
	tests := []struct {
		line string
		want string
	}{
		{"MESSAGE 7 " + at(-20*time.Second) + " #general bob hi", "15:04 [#general] bob: hi"},
		{"MESSAGE 7 " + at(time.Hour) + " #general bob hi", "15:04 [#general] bob: hi"}, // the server's clock is ahead
		{"MESSAGE 8 " + at(-3*time.Hour) + " #general bob earlier", "12:04 [#general] bob: earlier"},
		{"MESSAGE 9 " + at(-20*time.Second) + " #general ALICE mine", "15:04 [#general] <you> mine"},
		{"HISTORY 1 " + spec.FormatMsgTime(otherDay) + " #general bob old", "May 05 09:07 [#general] bob: old"},
		{"HISTORY 1 " + spec.FormatMsgTime(otherYear) + " #general bob older", "2023-12-31 23:59 [#general] bob: older"},
	}
	for _, tt := range tests {
		if got, shown := render(t, plain(), tt.line, in); !shown || got != tt.want {
			t.Errorf("%q: %q (shown %v), want %q", tt.line, got, shown, tt.want)
		}
	}
	if _, shown := render(t, plain(), "HISTORY 1 "+t0+" #general bob held", View{Held: true}); shown {
		t.Error("a held HISTORY line is shown")
	}
}

// TestRenderHistoryPage: a page is a marked block, which says when it
// reached the beginning.
func TestRenderHistoryPage(t *testing.T) {
	old := spec.FormatMsgTime(time.Date(2024, 5, 6, 8, 0, 0, 0, time.Local))
	page := &HistoryPage{Room: "#log", Lines: []spec.ServerLine{
		spec.StoredLine(1, old, "#log", "bob", "first"),
		spec.StoredLine(2, old, "#log", "alice", "second"),
	}}
	v := View{Self: "alice", Room: "#log", Page: page}
	got, _ := render(t, plain(), "OK History #log (2 messages)", v)
	want := "— earlier messages of #log —\n08:00 [#log] bob: first\n08:00 [#log] <you> second\n— end of the earlier messages; PgUp or /history for more —"
	if got != want {
		t.Errorf("page:\n%s\nwant:\n%s", got, want)
	}
	page.Beginning = true
	got, _ = render(t, plain(), "OK History #log (2 messages)", v)
	if !strings.HasSuffix(got, "\n08:00 [#log] <you> second\n— beginning of history of #log —") {
		t.Errorf("first page:\n%s", got)
	}
	v.Page = &HistoryPage{Room: "#log", Beginning: true}
	if got, _ = render(t, plain(), "OK History #log (0 messages)", v); got != "— beginning of history of #log —" {
		t.Errorf("empty page: %q", got)
	}
}

func TestRenderRoomBar(t *testing.T) {
	tabs := []RoomTab{{Room: "#tea", Current: true}, {Room: "#coffee", Unread: 3}, {Room: "#juice"}}
	if got, want := plain().RoomBar(tabs), "[1:#tea] 2:#coffee(3) 3:#juice"; got != want {
		t.Errorf("RoomBar = %q, want %q", got, want)
	}
	got := colored().RoomBar(tabs)
	if stripSGR(got) != "[1:#tea] 2:#coffee(3) 3:#juice" || !strings.Contains(got, sgrBold+sgrYellow+"2:#coffee(3)") {
		t.Errorf("coloured RoomBar = %q", got)
	}
}
