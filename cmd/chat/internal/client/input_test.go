package client

import (
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

func TestParseInputSends(t *testing.T) {
	tests := []struct {
		typed string
		wire  string
	}{
		{"hello", "MSG hello"},
		{"JOIN #other", "MSG JOIN #other"}, // a command word stays a message (D-4)
		{"QUIT", "MSG QUIT"},
		{"  spaced  out", "MSG   spaced  out"},
		{"//join #x", "MSG /join #x"},
		{"//", "MSG /"},
		{"/join #general", "JOIN #general"},
		{"/join general", "JOIN #general"},
		{"/join  #general ", "JOIN #general"},
		{"/JOIN #General", "JOIN #General"},
		{"/leave", "LEAVE"},
		{"/part", "LEAVE"},
		{"/part #a", "LEAVE #a"},
		{"/leave tea ", "LEAVE #tea"},
		{"/msg bob hi there", "PRIVMSG bob hi there"},
		{"/msg bob  note", "PRIVMSG bob  note"}, // text verbatim (GRAM-4)
		{"/msg  bob hi", "PRIVMSG bob hi"},
		{"/users", "USERS"},
		{"/rooms", "ROOMS"},
		{"/quit", "QUIT"},
		{"é ✓ 日本", "MSG é ✓ 日本"},
		{strings.Repeat("x", 506), "MSG " + strings.Repeat("x", 506)}, // 512 bytes with CRLF
	}
	for _, tt := range tests {
		a := ParseInput(tt.typed)
		if a.Send == nil || a.Error != "" || a.Show != "" {
			t.Errorf("ParseInput(%q) = %+v, want to send %q", tt.typed, a, tt.wire)
			continue
		}
		if got := a.Send.String(); got != tt.wire {
			t.Errorf("ParseInput(%q) sends %q, want %q", tt.typed, got, tt.wire)
		}
	}
}

func TestParseInputLocal(t *testing.T) {
	tests := []struct {
		typed string
		error string // substring of the local error; "" for none
	}{
		{"/join", "usage: /join #room"},
		{"/join #a #b", "usage: /join #room"},
		{"/leave #a #b", "usage: /leave [#room]"},
		{"/part #a b", "usage: /part [#room]"},
		{"/win", "usage: /win #room|n"},
		{"/win #a #b", "usage: /win #room|n"},
		{"/msg", "usage: /msg user text"},
		{"/msg bob", "usage: /msg user text"},
		{"/msg bob ", "usage: /msg user text"},
		{"/users all", "usage: /users"},
		{"/rooms x", "usage: /rooms"},
		{"/quit now", "usage: /quit"},
		{"/frobnicate", `unknown command "/frobnicate"`},
		{"/", `unknown command "/"`},
		{"/ hello", `unknown command "/"`},
		{"/\x1b[2J", `unknown command "/\x1b[2J"`},
		{"tab\there", "control character"},
		{"bell\a", "control character"},
		{"c1 \u0085", "control character"},
		{"bad \xff", "UTF-8"},
		{strings.Repeat("x", 507), "1 bytes too long"},
		{"/msg bob " + strings.Repeat("x", 600), "too long"},
	}
	for _, tt := range tests {
		a := ParseInput(tt.typed)
		if a.Send != nil || !strings.Contains(a.Error, tt.error) {
			t.Errorf("ParseInput(%q) = %+v, want error containing %q", tt.typed, a, tt.error)
		}
	}
}

func TestParseInputHelpAndEmpty(t *testing.T) {
	a := ParseInput("/help")
	if a.Send != nil || a.Error != "" {
		t.Fatalf("/help = %+v", a)
	}
	for _, want := range []string{"/join #room", "/part [#room]", "/leave", "/win #room|n", "Alt-1", "/msg user text", "/users", "/rooms", "/quit", "/help", "//text"} {
		if !strings.Contains(a.Show, want) {
			t.Errorf("help lacks %q:\n%s", want, a.Show)
		}
	}
	if a := ParseInput(""); a != (Action{}) {
		t.Errorf("empty line = %+v, want nothing", a)
	}
}

// TestParseInputExtensions: the commands of section 13 ask for passwords
// or for history instead of sending a line as typed.
func TestParseInputExtensions(t *testing.T) {
	tests := []struct {
		typed   string
		dialog  spec.Kind // the dialog started; 0 for none
		login   string    // the name of /login
		history int
		error   string // substring of the local error; "" for none
	}{
		{typed: "/register", dialog: spec.Register},
		{typed: "/password", dialog: spec.Password},
		{typed: "/login alice", dialog: spec.Login, login: "alice"},
		{typed: "/LOGIN  Alice ", dialog: spec.Login, login: "Alice"},
		{typed: "/history", history: 50},
		{typed: "/history 7", history: 7},
		{typed: "/history 100", history: 100},
		{typed: "/register now", error: "usage: /register"},
		{typed: "/password old new", error: "usage: /password"},
		{typed: "/login", error: "usage: /login name"},
		{typed: "/login alice secret", error: "usage: /login name"},
		{typed: "/login al!ce", error: "invalid username"},
		{typed: "/history 0", error: "usage: /history [n]"},
		{typed: "/history 101", error: "usage: /history [n]"},
		{typed: "/history all", error: "usage: /history [n]"},
	}
	for _, tt := range tests {
		a := ParseInput(tt.typed)
		var dialog spec.Kind
		var login string
		if a.Dialog != nil {
			dialog, login = a.Dialog.kind, a.Dialog.name
		}
		if a.Send != nil || dialog != tt.dialog || login != tt.login || a.History != tt.history ||
			tt.error == "" && a.Error != "" || !strings.Contains(a.Error, tt.error) {
			t.Errorf("ParseInput(%q) = %+v", tt.typed, a)
		}
	}
}

// TestParseInputWin: /win names a room, with or without its '#', or its
// number in the room bar; the client knows which rooms there are.
func TestParseInputWin(t *testing.T) {
	for typed, want := range map[string]string{"/win #a": "#a", "/win tea": "#tea", "/win 3": "3", "/WIN  #Tea ": "#Tea"} {
		if a := ParseInput(typed); a != (Action{Win: want}) {
			t.Errorf("ParseInput(%q) = %+v, want to show %q", typed, a, want)
		}
	}
}

func TestHelpHasExtensions(t *testing.T) {
	help := ParseInput("/help").Show
	for _, want := range []string{"/login name", "/register", "/password", "/history [n]", "PgUp"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
}
