package spec_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

func TestTexts(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{spec.ErrLineTooLong, "Line too long"},
		{spec.ErrInvalidUTF8, "Invalid UTF-8"},
		{spec.ErrInvalidCharacter, "Invalid character"},
		{spec.ErrUsernameRequired, "Username required"},
		{spec.ErrUsernameTaken, "Username taken"},
		{spec.ErrInvalidUsername, "Invalid username"},
		{spec.ErrUsernameSet, "Username already set"},
		{spec.ErrInvalidRoom, "Invalid room name"},
		{spec.ErrAlreadyInRoom, "Already in room"},
		{spec.ErrNotInRoom, "Not in a room"},
		{spec.ErrUserNotFound, "User not found"},
		{spec.ErrServerFull, "Server full"},
		{spec.ErrIdleTimeout, "Idle timeout"},
		{spec.ErrShuttingDown, "Server shutting down"},
		{spec.OKSent, "Sent"},
		{spec.OKGoodbye, "Goodbye!"},
		{spec.OKWelcome("alice"), "Welcome, alice!"},
		{spec.OKWelcome("b_o-b"), "Welcome, b_o-b!"},
		{spec.OKJoined("#general", 0), "Joined #general (0 users)"},
		{spec.OKJoined("#general", 1), "Joined #general (1 users)"}, // never "1 user" (D-9)
		{spec.OKJoined("#Tea", 12345), "Joined #Tea (12345 users)"},
		{spec.OKLeft("#tea"), "Left #tea"},
		// GRAM-2
		{spec.Usage(spec.Username), "Usage: USERNAME <name>"},
		{spec.Usage(spec.Join), "Usage: JOIN <room>"},
		{spec.Usage(spec.Leave), "Usage: LEAVE"},
		{spec.Usage(spec.Msg), "Usage: MSG <text>"},
		{spec.Usage(spec.Privmsg), "Usage: PRIVMSG <user> <text>"},
		{spec.Usage(spec.Rooms), "Usage: ROOMS"},
		{spec.Usage(spec.Users), "Usage: USERS"},
		{spec.Usage(spec.Quit), "Usage: QUIT"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	if spec.MaxLineLen != 512 || spec.HistoryLen != 10 || spec.MaxClients != 10000 ||
		spec.MaxQueueBytes != 1<<20 || spec.WriteTimeout.Seconds() != 10 || spec.IdleTimeout.Seconds() != 300 {
		t.Errorf("limits differ from PROTOCOL.md section 8")
	}
}

// TestTextsMatchProtocol checks the package against the tables of
// PROTOCOL.md: every reply of section 10 and every usage error of GRAM-2
// is one the package produces, and the reverse.
func TestTextsMatchProtocol(t *testing.T) {
	doc, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Skipf("PROTOCOL.md: %v", err)
	}
	section := func(start, end string) string {
		s := string(doc)
		i := strings.Index(s, start)
		j := strings.Index(s[i+1:], end)
		if i < 0 || j < 0 {
			t.Fatalf("PROTOCOL.md has no section between %q and %q", start, end)
		}
		return s[i : i+1+j]
	}
	cell := regexp.MustCompile("(?m)^\\| `((?:OK|ERROR)[^`]*)` \\|")

	// Section 10, with the placeholders the table uses.
	var replies []string
	for _, m := range cell.FindAllStringSubmatch(section("## 10. Replies", "\n## "), -1) {
		replies = append(replies, m[1])
	}
	ours := []string{
		"OK " + spec.OKWelcome("<name>"),
		"OK " + strings.Replace(spec.OKJoined("<room>", 0), "(0 ", "(<n> ", 1),
		"OK " + spec.OKLeft("<room>"),
		"OK " + spec.OKSent,
		"OK " + spec.OKGoodbye,
		"OK " + spec.OKEnabled([]string{"<ext>", "..."}),
		"OK " + spec.OKRegistered("<name>"),
		"OK " + spec.OKPasswordChanged,
		"OK " + strings.Replace(spec.OKHistory("<room>", 0), "(0 ", "(<n> ", 1),
		"ERROR Usage: ...",
	}
	for _, e := range []string{
		spec.ErrLineTooLong, spec.ErrInvalidUTF8, spec.ErrInvalidCharacter, spec.ErrUsernameRequired,
		spec.ErrUsernameTaken, spec.ErrInvalidUsername, spec.ErrUsernameSet, spec.ErrInvalidRoom,
		spec.ErrAlreadyInRoom, spec.ErrNotInRoom, spec.ErrUserNotFound, spec.ErrServerFull,
		spec.ErrIdleTimeout, spec.ErrShuttingDown,
		spec.ErrUnknownExt, spec.ErrInvalidPassword, spec.ErrAlreadyRegistered, spec.ErrLoginFailed,
		spec.ErrNotRegistered, spec.ErrWrongPassword, spec.ErrStorageFailed,
		spec.ErrTooManyRooms, spec.ErrNotInThatRoom, spec.ErrRoomRequired, spec.ErrClusterUnavailable,
	} {
		ours = append(ours, "ERROR "+e)
	}
	slices.Sort(replies)
	slices.Sort(ours)
	if !slices.Equal(replies, ours) {
		t.Errorf("replies of PROTOCOL.md section 10:\n%q\nreplies of package spec:\n%q", replies, ours)
	}

	// GRAM-2
	usageRow := regexp.MustCompile("(?m)^\\s*\\| ([A-Z]+) \\| `ERROR (Usage: [^`]*)` \\|")
	rows := usageRow.FindAllStringSubmatch(section("**GRAM-2**", "**GRAM-3**"), -1)
	if len(rows) != 8 {
		t.Fatalf("found %d rows in the GRAM-2 table, want 8", len(rows))
	}
	kinds := map[string]spec.Kind{
		"USERNAME": spec.Username, "JOIN": spec.Join, "LEAVE": spec.Leave, "MSG": spec.Msg,
		"PRIVMSG": spec.Privmsg, "ROOMS": spec.Rooms, "USERS": spec.Users, "QUIT": spec.Quit,
	}
	for _, r := range rows {
		k, ok := kinds[r[1]]
		if !ok {
			t.Errorf("GRAM-2 lists unknown command %q", r[1])
			continue
		}
		if got := spec.Usage(k); got != r[2] {
			t.Errorf("Usage(%v) = %q; GRAM-2 says %q", k, got, r[2])
		}
	}

	// 13.4: the usage errors of a connection that enabled rooms.
	rooms := section("### 13.4", "- **MULTI-1**")
	for _, k := range []spec.Kind{spec.Leave, spec.Msg, spec.Users} {
		if want := "`ERROR " + spec.UsageWith(k, spec.ExtRooms) + "`"; !strings.Contains(rooms, want) {
			t.Errorf("PROTOCOL.md 13.4 does not give %s", want)
		}
	}
}
