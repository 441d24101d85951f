package spec_test

import (
	"errors"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

// all allows every command word of section 13.
var all = spec.Words{Caps: true, Ext: spec.AllExt}

func TestParseCommandWith(t *testing.T) {
	for _, tc := range []struct {
		line  string
		words spec.Words
		want  spec.Command
		usage bool
	}{
		// CAPS-1, CAPS-3: words of section 13 are text where not allowed.
		{line: "CAPS", words: spec.Words{}, want: spec.Command{Kind: spec.Text, Text: "CAPS"}},
		{line: "CAPS", words: spec.Words{Caps: true}, want: spec.Command{Kind: spec.Caps}},
		{line: "CAPS accounts history", words: all, want: spec.Command{Kind: spec.Caps, Text: "accounts history"}},
		{line: "CAPS  history", words: all, usage: true},
		{line: "CAPS history ", words: all, usage: true},
		{line: "CAPS ", words: all, usage: true},
		{line: "LOGIN failed again", words: spec.Words{Caps: true}, want: spec.Command{Kind: spec.Text, Text: "LOGIN failed again"}},
		{line: "HISTORY #a * 5", words: spec.Words{Ext: spec.ExtAccounts}, want: spec.Command{Kind: spec.Text, Text: "HISTORY #a * 5"}},
		// ACCT-1, ACCT-2, ACCT-4.
		{line: "REGISTER secret-word", words: all, want: spec.Command{Kind: spec.Register, Text: "secret-word"}},
		{line: "REGISTER two words", words: all, usage: true},
		{line: "REGISTER", words: all, usage: true},
		{line: "LOGIN alice pw", words: all, want: spec.Command{Kind: spec.Login, Arg: "alice", Text: "pw"}},
		{line: "LOGIN alice", words: all, usage: true},
		{line: "LOGIN alice p w", words: all, usage: true},
		{line: "LOGIN  alice pw", words: all, usage: true},
		{line: "PASSWORD old new", words: all, want: spec.Command{Kind: spec.Password, Arg: "old", Text: "new"}},
		{line: "PASSWORD old", words: all, usage: true},
		// HIST-3.
		{line: "HISTORY #a * 5", words: all, want: spec.Command{Kind: spec.History, Arg: "#a", Limit: 5}},
		{line: "HISTORY #a 42 100", words: all, want: spec.Command{Kind: spec.History, Arg: "#a", Before: 42, Limit: 100}},
		{line: "HISTORY bad 42 1", words: all, want: spec.Command{Kind: spec.History, Arg: "bad", Before: 42, Limit: 1}},
		{line: "HISTORY #a * 101", words: all, usage: true},
		{line: "HISTORY #a * 0", words: all, usage: true},
		{line: "HISTORY #a * 05", words: all, usage: true},
		{line: "HISTORY #a 0 5", words: all, usage: true},
		{line: "HISTORY #a 042 5", words: all, usage: true},
		{line: "HISTORY #a 9223372036854775807 5", words: all, want: spec.Command{Kind: spec.History, Arg: "#a", Before: spec.MaxMsgID, Limit: 5}},
		{line: "HISTORY #a 9223372036854775808 5", words: all, usage: true},
		{line: "HISTORY #a *", words: all, usage: true},
		{line: "HISTORY #a * 5 6", words: all, usage: true},
		// MULTI-3, MULTI-4, MULTI-6: with rooms, LEAVE, MSG and USERS name a room.
		{line: "LEAVE #a", words: all, want: spec.Command{Kind: spec.Leave, Arg: "#a"}},
		{line: "LEAVE #a b", words: all, want: spec.Command{Kind: spec.Leave, Arg: "#a b"}},
		{line: "LEAVE", words: all, usage: true},
		{line: "LEAVE ", words: all, usage: true},
		{line: "LEAVE #a", words: spec.Words{Ext: spec.ExtHistory}, usage: true},
		{line: "USERS #a", words: all, want: spec.Command{Kind: spec.Users, Arg: "#a"}},
		{line: "USERS", words: all, usage: true},
		{line: "MSG #a  two  spaces", words: all, want: spec.Command{Kind: spec.Msg, Arg: "#a", Text: " two  spaces"}},
		{line: "MSG hello world", words: all, want: spec.Command{Kind: spec.Msg, Arg: "hello", Text: "world"}},
		{line: "MSG #a", words: all, usage: true},
		{line: "MSG #a ", words: all, usage: true},
		{line: "MSG  #a hi", words: all, usage: true},
		{line: "MSG #a hi", words: spec.Words{}, want: spec.Command{Kind: spec.Msg, Text: "#a hi"}},
		{line: "JOIN #a", words: all, want: spec.Command{Kind: spec.Join, Arg: "#a"}},
		{line: "ROOMS", words: all, want: spec.Command{Kind: spec.Rooms}},
	} {
		got, err := spec.ParseCommandWith(tc.line, tc.words)
		var ue *spec.UsageError
		if tc.usage {
			if !errors.As(err, &ue) {
				t.Errorf("ParseCommandWith(%q) = %+v, %v; want a usage error", tc.line, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseCommandWith(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
}

func TestUsageTexts(t *testing.T) {
	for kind, want := range map[spec.Kind]string{
		spec.Caps:     "Usage: CAPS [<extension> ...]",
		spec.Register: "Usage: REGISTER <password>",
		spec.Login:    "Usage: LOGIN <name> <password>",
		spec.Password: "Usage: PASSWORD <old> <new>",
		spec.History:  "Usage: HISTORY <room> <before> <limit>",
	} {
		if got := spec.Usage(kind); got != want {
			t.Errorf("Usage(%v) = %q, want %q", kind, got, want)
		}
	}
}

func TestExtNames(t *testing.T) {
	if got := strings.Join(spec.AllExt.Names(), " "); got != "accounts history rooms" {
		t.Errorf("AllExt.Names() = %q", got)
	}
	for _, n := range spec.AllExt.Names() {
		if e, ok := spec.ParseExt(n); !ok || e.Names()[0] != n {
			t.Errorf("ParseExt(%q) = %v, %v", n, e, ok)
		}
	}
	if _, ok := spec.ParseExt("History"); ok {
		t.Error("extension names are compared exactly (CAPS-2)")
	}
}

// TestRoomsUsage checks the usage errors of a connection that enabled
// rooms (13.4): those of LEAVE, MSG and USERS name a room; the others are
// those of GRAM-2.
func TestRoomsUsage(t *testing.T) {
	for kind, want := range map[spec.Kind]string{
		spec.Leave: "Usage: LEAVE <room>",
		spec.Msg:   "Usage: MSG <room> <text>",
		spec.Users: "Usage: USERS <room>",
		spec.Join:  "Usage: JOIN <room>",
		spec.Quit:  "Usage: QUIT",
	} {
		if got := spec.UsageWith(kind, spec.ExtRooms); got != want {
			t.Errorf("UsageWith(%v, rooms) = %q, want %q", kind, got, want)
		}
	}
	_, err := spec.ParseCommandWith("MSG #a", spec.Words{Ext: spec.ExtRooms | spec.ExtHistory})
	var ue *spec.UsageError
	if !errors.As(err, &ue) || ue.Text() != "Usage: MSG <room> <text>" {
		t.Errorf("ParseCommandWith(MSG #a) with rooms: %v", err)
	}
	if _, err := spec.ParseCommand("MSG"); !errors.As(err, &ue) || ue.Text() != "Usage: MSG <text>" {
		t.Errorf("ParseCommand(MSG): %v", err)
	}
}

func TestExtServerLines(t *testing.T) {
	for _, l := range []spec.ServerLine{
		spec.CapsLine([]string{"accounts", "history"}),
		spec.CapsLine(nil),
		spec.MessageLine(7, "2026-12-01T09:00:01.250Z", "#log", "bob", "  two  spaces"),
		spec.StoredLine(spec.MaxMsgID, "2026-12-01T09:00:00.000Z", "#Log", "alice", "first"),
		spec.OKLine(spec.OKHistory("#LOG", 2)),
	} {
		got, err := spec.ParseServerLine(l.String())
		if err != nil || got.String() != l.String() {
			t.Errorf("ParseServerLine(%q) = %+v, %v", l.String(), got, err)
		}
	}
	for _, bad := range []string{
		"MESSAGE 0 2026-12-01T09:00:00.000Z #log alice hi",
		"MESSAGE 1 2026-12-01T09:00:00Z #log alice hi",
		"MESSAGE 1 2026-12-01 09:00:00.000Z #log alice hi",
		"MESSAGE 1 2026-13-01T09:00:00.000Z #log alice hi",
		"HISTORY 1 2026-12-01T09:00:00.000Z log alice hi",
		"HISTORY 1 2026-12-01T09:00:00.000Z #log alice",
		"CAPS a  b",
	} {
		if l, err := spec.ParseServerLine(bad); err == nil {
			t.Errorf("ParseServerLine(%q) = %+v, want an error", bad, l)
		}
	}
}

func TestMsgTime(t *testing.T) {
	ts, ok := spec.ParseMsgTime("2026-12-01T09:00:01.250Z")
	if !ok || spec.FormatMsgTime(ts) != "2026-12-01T09:00:01.250Z" {
		t.Fatalf("ParseMsgTime round trip: %v %v", ts, ok)
	}
	for _, bad := range []string{"2026-12-01T09:00:01.25Z", "2026-12-01T09:00:01.250+00:00", "2026-02-30T00:00:00.000Z", ""} {
		if spec.ValidMsgTime(bad) {
			t.Errorf("ValidMsgTime(%q) = true", bad)
		}
	}
}

// FuzzParseCommandWith checks that with every word of section 13 allowed a
// line parses to a command that formats back to it, and that a word of
// section 13 is text on a core connection.
func FuzzParseCommandWith(f *testing.F) {
	for _, s := range []string{
		"CAPS", "CAPS accounts history", "CAPS  x", "REGISTER pw", "LOGIN a b", "PASSWORD a b",
		"HISTORY #a * 5", "HISTORY #a 12 100", "HISTORY #a 012 1", "LOGIN failed again",
		"LEAVE #a", "LEAVE", "MSG #a hi", "MSG #a", "USERS #a b",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		c, err := spec.ParseCommandWith(line, all)
		if err != nil {
			var ue *spec.UsageError
			if !errors.As(err, &ue) || ue.Line != line {
				t.Fatalf("ParseCommandWith(%q): %v", line, err)
			}
			return
		}
		if s := c.String(); s != line && line != "PING " {
			t.Fatalf("ParseCommandWith(%q).String() = %q", line, s)
		}
		core, err := spec.ParseCommand(line)
		if c.Kind >= spec.Caps && (err != nil || core.Kind != spec.Text) {
			t.Fatalf("ParseCommand(%q) = %+v, %v: a word of section 13 on a core connection", line, core, err)
		}
	})
}
