package spec_test

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// allKinds lists every Kind that ParseCommand can return.
var allKinds = []spec.Kind{
	spec.Empty, spec.Text, spec.Username, spec.Join, spec.Leave, spec.Msg,
	spec.Privmsg, spec.Rooms, spec.Users, spec.Quit, spec.Ping,
}

func TestParseCommand(t *testing.T) {
	const (
		uUsername = "Usage: USERNAME <name>"
		uJoin     = "Usage: JOIN <room>"
		uLeave    = "Usage: LEAVE"
		uMsg      = "Usage: MSG <text>"
		uPrivmsg  = "Usage: PRIVMSG <user> <text>"
		uRooms    = "Usage: ROOMS"
		uUsers    = "Usage: USERS"
		uQuit     = "Usage: QUIT"
	)
	cmd := func(k spec.Kind, arg, text string) spec.Command {
		return spec.Command{Kind: k, Arg: arg, Text: text}
	}
	text := func(s string) spec.Command { return cmd(spec.Text, "", s) }
	tests := []struct {
		line  string
		want  spec.Command
		usage string // the usage error's text, if the line is a usage error
		canon string // String() of the result, if it is not line
	}{
		// FRAME-6: the empty line.
		{line: "", want: cmd(spec.Empty, "", "")},

		// USERNAME: the argument is the rest of the line (GRAM-3).
		{line: "USERNAME alice", want: cmd(spec.Username, "alice", "")},
		{line: "USERNAME al ice", want: cmd(spec.Username, "al ice", "")},
		{line: "USERNAME  alice", want: cmd(spec.Username, " alice", "")},
		{line: "USERNAME alice ", want: cmd(spec.Username, "alice ", "")},
		{line: "USERNAME bob!", want: cmd(spec.Username, "bob!", "")},
		{line: "USERNAME  ", want: cmd(spec.Username, " ", "")},
		{line: "USERNAME", usage: uUsername},
		{line: "USERNAME ", usage: uUsername},

		// JOIN
		{line: "JOIN #general", want: cmd(spec.Join, "#general", "")},
		{line: "JOIN general", want: cmd(spec.Join, "general", "")},
		{line: "JOIN #a b", want: cmd(spec.Join, "#a b", "")},
		{line: "JOIN", usage: uJoin},
		{line: "JOIN ", usage: uJoin},

		// LEAVE, ROOMS, USERS, QUIT take nothing, not even a space.
		{line: "LEAVE", want: cmd(spec.Leave, "", "")},
		{line: "LEAVE now", usage: uLeave},
		{line: "LEAVE ", usage: uLeave},
		{line: "ROOMS", want: cmd(spec.Rooms, "", "")},
		{line: "ROOMS all", usage: uRooms},
		{line: "ROOMS ", usage: uRooms},
		{line: "USERS", want: cmd(spec.Users, "", "")},
		{line: "USERS please", usage: uUsers},
		{line: "USERS ", usage: uUsers},
		{line: "QUIT", want: cmd(spec.Quit, "", "")},
		{line: "QUIT now", usage: uQuit},
		{line: "QUIT ", usage: uQuit},

		// MSG: the text is verbatim, leading spaces included.
		{line: "MSG the pot is empty", want: cmd(spec.Msg, "", "the pot is empty")},
		{line: "MSG   spaced  out", want: cmd(spec.Msg, "", "  spaced  out")},
		{line: "MSG  ", want: cmd(spec.Msg, "", " ")},
		{line: "MSG é 😀", want: cmd(spec.Msg, "", "é 😀")},
		{line: "MSG", usage: uMsg},
		{line: "MSG ", usage: uMsg},

		// PRIVMSG: target between first and second SP, text after (GRAM-4).
		{line: "PRIVMSG bob hi", want: cmd(spec.Privmsg, "bob", "hi")},
		{line: "PRIVMSG BOB lunch?", want: cmd(spec.Privmsg, "BOB", "lunch?")},
		{line: "PRIVMSG alice  note to self", want: cmd(spec.Privmsg, "alice", " note to self")},
		{line: "PRIVMSG bob  hi", want: cmd(spec.Privmsg, "bob", " hi")},
		{line: "PRIVMSG bob hi  there ", want: cmd(spec.Privmsg, "bob", "hi  there ")},
		{line: "PRIVMSG b!b  ", want: cmd(spec.Privmsg, "b!b", " ")},
		{line: "PRIVMSG", usage: uPrivmsg},
		{line: "PRIVMSG ", usage: uPrivmsg},
		{line: "PRIVMSG  ", usage: uPrivmsg},
		{line: "PRIVMSG bob", usage: uPrivmsg},
		{line: "PRIVMSG bob ", usage: uPrivmsg},
		{line: "PRIVMSG  bob hi", usage: uPrivmsg}, // empty target
		{line: "PRIVMSG   hi", usage: uPrivmsg},

		// PING has no usage error (PING-1): everything after "PING " is the token.
		{line: "PING", want: cmd(spec.Ping, "", "")},
		{line: "PING ", want: cmd(spec.Ping, "", ""), canon: "PING"},
		{line: "PING x", want: cmd(spec.Ping, "", "x")},
		{line: "PING tok en", want: cmd(spec.Ping, "", "tok en")},
		{line: "PING 42 and more", want: cmd(spec.Ping, "", "42 and more")},
		{line: "PING  x", want: cmd(spec.Ping, "", " x")},
		{line: "PING  ", want: cmd(spec.Ping, "", " ")},

		// Text lines (GRAM-5, D-1, D-4, D-5).
		{line: "Hello everyone!", want: text("Hello everyone!")},
		{line: "Hello?", want: text("Hello?")},
		{line: "m1", want: text("m1")},
		{line: "join #other", want: text("join #other")},
		{line: "join", want: text("join")},
		{line: "Join #x", want: text("Join #x")},
		{line: "/join #other", want: text("/join #other")},
		{line: "/quit", want: text("/quit")},
		{line: "ping", want: text("ping")},
		{line: "PINGPONG", want: text("PINGPONG")},
		{line: "JOINS #x", want: text("JOINS #x")},
		{line: " JOIN #x", want: text(" JOIN #x")},
		{line: "  USERNAME alice", want: text("  USERNAME alice")},
		{line: " ", want: text(" ")},
		{line: "JOIN\t#x", want: text("JOIN\t#x")},       // the first word ends at SP only
		{line: "MSG\u00a0hi", want: text("MSG\u00a0hi")}, // NBSP is not SP
		{line: "QUIT\r", want: text("QUIT\r")},
		{line: "é", want: text("é")},
		{line: "😀 hi", want: text("😀 hi")},
	}
	for _, tt := range tests {
		got, err := spec.ParseCommand(tt.line)
		if tt.usage != "" {
			var ue *spec.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("ParseCommand(%q) = %+v, %v; want usage error %q", tt.line, got, err, tt.usage)
				continue
			}
			if ue.Text() != tt.usage {
				t.Errorf("ParseCommand(%q): usage text %q, want %q", tt.line, ue.Text(), tt.usage)
			}
			if ue.Line != tt.line {
				t.Errorf("ParseCommand(%q): UsageError.Line = %q", tt.line, ue.Line)
			}
			if ue.Kind.String() != firstWord(tt.line) {
				t.Errorf("ParseCommand(%q): UsageError.Kind = %v", tt.line, ue.Kind)
			}
			if got != (spec.Command{}) {
				t.Errorf("ParseCommand(%q) returned %+v with its error", tt.line, got)
			}
			if !strings.Contains(ue.Error(), tt.line) {
				t.Errorf("UsageError.Error() = %q does not quote the line", ue.Error())
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseCommand(%q) error %v, want %+v", tt.line, err, tt.want)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseCommand(%q) = %+v, want %+v", tt.line, got, tt.want)
		}
		canon := tt.line
		if tt.canon != "" {
			canon = tt.canon
		}
		if s := got.String(); s != canon {
			t.Errorf("ParseCommand(%q).String() = %q, want %q", tt.line, s, canon)
		}
	}
}

func TestKindString(t *testing.T) {
	want := map[spec.Kind]string{
		spec.Empty: "empty", spec.Text: "text", spec.Username: "USERNAME", spec.Join: "JOIN",
		spec.Leave: "LEAVE", spec.Msg: "MSG", spec.Privmsg: "PRIVMSG", spec.Rooms: "ROOMS",
		spec.Users: "USERS", spec.Quit: "QUIT", spec.Ping: "PING",
	}
	if len(want) != len(allKinds) {
		t.Fatalf("test table out of date")
	}
	for k, w := range want {
		if got := k.String(); got != w {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, w)
		}
	}
	if got := spec.Kind(200).String(); got != "Kind(?)" {
		t.Errorf("Kind(200).String() = %q", got)
	}
}

func TestIsCommandWord(t *testing.T) {
	for _, w := range commandWords {
		if !spec.IsCommandWord(w) {
			t.Errorf("IsCommandWord(%q) = false", w)
		}
		if spec.IsCommandWord(strings.ToLower(w)) {
			t.Errorf("IsCommandWord(%q) = true; command words are case-sensitive (D-4)", strings.ToLower(w))
		}
		if spec.IsCommandWord("/" + strings.ToLower(w)) {
			t.Errorf("IsCommandWord(%q) = true (D-1)", "/"+strings.ToLower(w))
		}
		if spec.IsCommandWord(w + " ") {
			t.Errorf("IsCommandWord(%q) = true", w+" ")
		}
	}
	for _, w := range []string{"", " ", "OK", "ERROR", "ROOM", "PONG", "USERLIST", "ROOMLIST", "Join", "empty", "text"} {
		if spec.IsCommandWord(w) {
			t.Errorf("IsCommandWord(%q) = true", w)
		}
	}
}

// commandGen draws every Command that ParseCommand can return, following
// the grammar of PROTOCOL.md 3.1.
var commandGen = rapid.Custom(func(t *rapid.T) spec.Command {
	k := rapid.SampledFrom(allKinds).Draw(t, "kind")
	c := spec.Command{Kind: k}
	switch k {
	case spec.Text:
		c.Text = textLineGen.Draw(t, "text-line")
	case spec.Username, spec.Join:
		c.Arg = textGen.Draw(t, "argument")
	case spec.Msg:
		c.Text = textGen.Draw(t, "text")
	case spec.Privmsg:
		c.Arg = targetGen.Draw(t, "target")
		c.Text = textGen.Draw(t, "text")
	case spec.Ping:
		c.Text = tokenGen.Draw(t, "token")
	}
	return c
})

func TestCommandRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := commandGen.Draw(t, "command")
		s := c.String()
		got, err := spec.ParseCommand(s)
		if err != nil {
			t.Fatalf("ParseCommand(%q) error %v; want %+v", s, err, c)
		}
		if got != c {
			t.Fatalf("ParseCommand(%q) = %+v, want %+v", s, got, c)
		}
	})
}

// TestParseCommandCanonical checks, for arbitrary strings, that a parsed
// command formats back to a line that parses to the same command, that the
// format is a fixed point, and that the only non-canonical input is "PING ".
func TestParseCommandCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkParseCommand(t, lineishGen.Draw(t, "line"))
	})
}

type fataler interface {
	Fatalf(format string, args ...any)
}

// checkParseCommand asserts the properties of ParseCommand on any input.
func checkParseCommand(t fataler, line string) {
	c, err := spec.ParseCommand(line)
	if err != nil {
		var ue *spec.UsageError
		if !errors.As(err, &ue) {
			t.Fatalf("ParseCommand(%q): error %T %v is not a *UsageError", line, err, err)
		}
		if ue.Line != line || ue.Kind.String() != firstWord(line) || !isCommandWord(firstWord(line)) {
			t.Fatalf("ParseCommand(%q): bad usage error %+v", line, ue)
		}
		if ue.Kind == spec.Ping {
			t.Fatalf("ParseCommand(%q): PING has no usage error", line)
		}
		if !strings.HasPrefix(ue.Text(), "Usage: "+firstWord(line)) {
			t.Fatalf("ParseCommand(%q): usage text %q", line, ue.Text())
		}
		return
	}
	switch {
	case line == "":
		if c.Kind != spec.Empty {
			t.Fatalf("ParseCommand(%q) = %+v, want Empty", line, c)
		}
	case isCommandWord(firstWord(line)):
		if c.Kind.String() != firstWord(line) {
			t.Fatalf("ParseCommand(%q) = %+v: wrong kind", line, c)
		}
	default:
		if c.Kind != spec.Text || c.Text != line || c.Arg != "" {
			t.Fatalf("ParseCommand(%q) = %+v, want a text line", line, c)
		}
	}
	s := c.String()
	if s != line && line != "PING " {
		t.Fatalf("ParseCommand(%q).String() = %q, not the input", line, s)
	}
	again, err := spec.ParseCommand(s)
	if err != nil || again != c {
		t.Fatalf("ParseCommand(%q) = %+v, %v; want %+v (reparse of %q)", s, again, err, c, line)
	}
	if s2 := again.String(); s2 != s {
		t.Fatalf("String() not a fixed point: %q then %q", s, s2)
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{
		"", "USERNAME alice", "USERNAME ", "JOIN #general", "LEAVE", "LEAVE now",
		"MSG   spaced  out", "PRIVMSG bob  hi", "PRIVMSG  bob hi", "PRIVMSG bob",
		"ROOMS", "USERS please", "QUIT", "PING", "PING ", "PING tok en",
		"join #x", "/join #x", " JOIN #x", "\xff\x00", "é 😀",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkParseCommand(t, line)
	})
}

func BenchmarkParseCommand(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"text", "Hello everyone, this is a room message of a typical length!"},
		{"privmsg", "PRIVMSG bob Hey, private message!"},
		{"join", "JOIN #general"},
		{"usage-error", "PRIVMSG bob"},
	} {
		line := bc.line
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				spec.ParseCommand(line)
			}
		})
	}
}
