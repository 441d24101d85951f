package spec_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

func TestParseServerLine(t *testing.T) {
	tests := []struct {
		line string
		want spec.ServerLine
	}{
		{"OK", spec.OKLine("")},
		{"OK Welcome, alice!", spec.OKLine("Welcome, alice!")},
		{"OK Joined #general (1 users)", spec.OKLine("Joined #general (1 users)")},
		{"OK  spaced", spec.OKLine(" spaced")},
		{"OK  ", spec.OKLine(" ")},
		{"ERROR Usage: USERNAME <name>", spec.ErrorLine("Usage: USERNAME <name>")},
		{"ERROR  x", spec.ErrorLine(" x")},
		{"ROOM #general alice Hello everyone!", spec.RoomLine("#general", "alice", "Hello everyone!")},
		{"ROOM #general alice   spaced  out", spec.RoomLine("#general", "alice", "  spaced  out")},
		{"ROOM #general alice join #other", spec.RoomLine("#general", "alice", "join #other")},
		{"ROOM #a b é 😀", spec.RoomLine("#a", "b", "é 😀")},
		{"ROOM #a b  ", spec.RoomLine("#a", "b", " ")},
		{"PRIVMSG alice Hey, private message!", spec.PrivateLine("alice", "Hey, private message!")},
		{"PRIVMSG alice  note to self", spec.PrivateLine("alice", " note to self")},
		{"JOIN #general bob", spec.JoinLine("#general", "bob")},
		{"LEAVE #Tea B_o-b9", spec.LeaveLine("#Tea", "B_o-b9")},
		{"USERLIST", spec.UserListLine(nil)},
		{"USERLIST alice", spec.UserListLine([]string{"alice"})},
		{"USERLIST alice bob", spec.UserListLine([]string{"alice", "bob"})},
		{"ROOMLIST", spec.RoomListLine(nil)},
		{"ROOMLIST #Apple #zoo", spec.RoomListLine([]string{"#Apple", "#zoo"})},
		{"PONG", spec.PongLine("")},
		{"PONG x", spec.PongLine("x")},
		{"PONG 42 and more", spec.PongLine("42 and more")},
		{"PONG  x", spec.PongLine(" x")},
		{"JOIN #" + strings.Repeat("r", 31) + " " + strings.Repeat("u", 32),
			spec.JoinLine("#"+strings.Repeat("r", 31), strings.Repeat("u", 32))},
	}
	for _, tt := range tests {
		got, err := spec.ParseServerLine(tt.line)
		if err != nil {
			t.Errorf("ParseServerLine(%q) error %v", tt.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseServerLine(%q) = %#v, want %#v", tt.line, got, tt.want)
		}
		if s := got.String(); s != tt.line {
			t.Errorf("ParseServerLine(%q).String() = %q", tt.line, s)
		}
	}
}

func TestParseServerLineMalformed(t *testing.T) {
	long := strings.Repeat("a", 33)
	for _, line := range []string{
		"",
		" ",
		"ok",
		"Ok fine",
		"HELLO",
		" OK",
		"OK ",             // trailing space, no text
		"OK\tWelcome",     // control character
		"OK a\tb",         // control character
		"OK a\r",          // CR
		"OK a\x1b[31m",    // ESC
		"OK a\u0085",      // C1 control
		"OK a\x7f",        // DEL
		"OK \xff",         // invalid UTF-8
		"OK \xed\xa0\x80", // an encoded surrogate is not UTF-8
		"ERROR",
		"ERROR ",
		"ROOM",
		"ROOM ",
		"ROOM #a",
		"ROOM #a bob",
		"ROOM #a bob ",
		"ROOM  #a bob hi",
		"ROOM a bob hi",
		"ROOM # bob hi",
		"ROOM #a b!b hi",
		"ROOM #a  hi",
		"ROOM #" + long + " bob hi",
		"ROOM #a " + long + " hi",
		"PRIVMSG",
		"PRIVMSG ",
		"PRIVMSG bob",
		"PRIVMSG bob ",
		"PRIVMSG  bob hi",
		"PRIVMSG b@b hi",
		"PRIVMSG #a hi",
		"PRIVMSG " + long + " hi",
		"JOIN",
		"JOIN #a",
		"JOIN #a ",
		"JOIN #a bob ",
		"JOIN #a bob x",
		"JOIN  #a bob",
		"JOIN #a  bob",
		"JOIN bob #a",
		"JOIN #a #b",
		"LEAVE",
		"LEAVE #a",
		"LEAVE #a bob!",
		"USERLIST ",
		"USERLIST alice ",
		"USERLIST  alice",
		"USERLIST alice  bob",
		"USERLIST #a",
		"USERLIST " + long,
		"ROOMLIST ",
		"ROOMLIST a",
		"ROOMLIST #a #",
		"ROOMLIST #a  #b",
		"ROOMLIST #" + long,
		"PONG ",
		"PING x",
		"USERNAME alice",
		"MSG hi",
	} {
		got, err := spec.ParseServerLine(line)
		var se *spec.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("ParseServerLine(%q) = %#v, %v; want a *SyntaxError", line, got, err)
			continue
		}
		if se.Line != line || se.Reason == "" {
			t.Errorf("ParseServerLine(%q): %#v", line, se)
		}
		if !reflect.DeepEqual(got, spec.ServerLine{}) {
			t.Errorf("ParseServerLine(%q) returned %#v with its error", line, got)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", line)) {
			t.Errorf("error %q does not quote the line", err.Error())
		}
	}
}

func TestServerLineFormat(t *testing.T) {
	tests := []struct {
		line spec.ServerLine
		want string
	}{
		// The replies of PROTOCOL.md, built from the constructors and texts.
		{spec.OKLine(spec.OKWelcome("alice")), "OK Welcome, alice!"},
		{spec.OKLine(spec.OKJoined("#general", 1)), "OK Joined #general (1 users)"},
		{spec.OKLine(spec.OKJoined("#zoo", 0)), "OK Joined #zoo (0 users)"},
		{spec.OKLine(spec.OKLeft("#tea")), "OK Left #tea"},
		{spec.OKLine(spec.OKSent), "OK Sent"},
		{spec.OKLine(spec.OKGoodbye), "OK Goodbye!"},
		{spec.OKLine(""), "OK"},
		{spec.ErrorLine(spec.Usage(spec.Privmsg)), "ERROR Usage: PRIVMSG <user> <text>"},
		{spec.ErrorLine(spec.ErrLineTooLong), "ERROR Line too long"},
		{spec.ErrorLine(""), "ERROR "}, // not a valid line, but the formatter does not check
		{spec.RoomLine("#general", "alice", "  spaced  out"), "ROOM #general alice   spaced  out"},
		{spec.PrivateLine("alice", " note to self"), "PRIVMSG alice  note to self"},
		{spec.JoinLine("#general", "bob"), "JOIN #general bob"},
		{spec.LeaveLine("#general", "bob"), "LEAVE #general bob"},
		{spec.UserListLine(nil), "USERLIST"},
		{spec.UserListLine([]string{}), "USERLIST"},
		{spec.UserListLine([]string{"alice", "bob"}), "USERLIST alice bob"},
		{spec.RoomListLine(nil), "ROOMLIST"},
		{spec.RoomListLine([]string{"#Apple", "#zoo"}), "ROOMLIST #Apple #zoo"},
		{spec.PongLine(""), "PONG"},
		{spec.PongLine("42 and more"), "PONG 42 and more"},
	}
	for _, tt := range tests {
		if got := tt.line.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.line, got, tt.want)
		}
		if got := string(tt.line.Append(nil)); got != tt.want {
			t.Errorf("%#v.Append(nil) = %q, want %q", tt.line, got, tt.want)
		}
		prefix := []byte("prefix|")
		if got := string(tt.line.AppendWire(prefix)); got != "prefix|"+tt.want+"\r\n" {
			t.Errorf("%#v.AppendWire = %q, want %q", tt.line, got, "prefix|"+tt.want+"\r\n")
		}
	}
}

func TestLineKindString(t *testing.T) {
	want := map[spec.LineKind]string{
		spec.OK: "OK", spec.Error: "ERROR", spec.Room: "ROOM", spec.Private: "PRIVMSG",
		spec.Joined: "JOIN", spec.Left: "LEAVE", spec.UserList: "USERLIST",
		spec.RoomList: "ROOMLIST", spec.Pong: "PONG",
	}
	for k, w := range want {
		if got := k.String(); got != w {
			t.Errorf("LineKind(%d).String() = %q, want %q", k, got, w)
		}
	}
	for _, k := range []spec.LineKind{0, 200} {
		if got := k.String(); got != "LineKind(?)" {
			t.Errorf("LineKind(%d).String() = %q", k, got)
		}
	}
}

// serverLineGen draws valid server lines of PROTOCOL.md 3.2. An empty list
// is drawn as nil, which is what ParseServerLine returns for no names.
var serverLineGen = rapid.Custom(func(t *rapid.T) spec.ServerLine {
	kinds := []spec.LineKind{spec.OK, spec.Error, spec.Room, spec.Private, spec.Joined,
		spec.Left, spec.UserList, spec.RoomList, spec.Pong}
	switch k := rapid.SampledFrom(kinds).Draw(t, "kind"); k {
	case spec.OK:
		return spec.OKLine(tokenGen.Draw(t, "text")) // "OK" [SP text]
	case spec.Error:
		return spec.ErrorLine(textGen.Draw(t, "text"))
	case spec.Room:
		return spec.RoomLine(roomGen.Draw(t, "room"), usernameGen.Draw(t, "user"), textGen.Draw(t, "text"))
	case spec.Private:
		return spec.PrivateLine(usernameGen.Draw(t, "user"), textGen.Draw(t, "text"))
	case spec.Joined:
		return spec.JoinLine(roomGen.Draw(t, "room"), usernameGen.Draw(t, "user"))
	case spec.Left:
		return spec.LeaveLine(roomGen.Draw(t, "room"), usernameGen.Draw(t, "user"))
	case spec.UserList:
		return spec.UserListLine(nilIfEmpty(rapid.SliceOfN(usernameGen, 0, 8).Draw(t, "users")))
	case spec.RoomList:
		return spec.RoomListLine(nilIfEmpty(rapid.SliceOfN(roomGen, 0, 8).Draw(t, "rooms")))
	default:
		return spec.PongLine(tokenGen.Draw(t, "token"))
	}
})

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestServerLineRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := serverLineGen.Draw(t, "line")
		s := l.String()
		got, err := spec.ParseServerLine(s)
		if err != nil {
			t.Fatalf("ParseServerLine(%q): %v", s, err)
		}
		if !reflect.DeepEqual(got, l) {
			t.Fatalf("ParseServerLine(%q) = %#v, want %#v", s, got, l)
		}
		wire := l.AppendWire(nil)
		if !bytes.HasSuffix(wire, []byte("\r\n")) || string(wire[:len(wire)-2]) != s {
			t.Fatalf("AppendWire = %q, want %q", wire, s+"\r\n")
		}
		if bytes.ContainsAny(wire[:len(wire)-2], "\r\n") {
			t.Fatalf("AppendWire = %q holds a line break before its end", wire)
		}
	})
}

func TestParseServerLineCanonical(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		checkParseServerLine(t, lineishGen.Draw(t, "line"))
	})
}

// checkParseServerLine asserts the properties of ParseServerLine on any
// input: an accepted line passes CheckLine, has valid names, formats back to
// exactly the input, and reparses to the same value.
func checkParseServerLine(t fataler, line string) {
	l, err := spec.ParseServerLine(line)
	if err != nil {
		var se *spec.SyntaxError
		if !errors.As(err, &se) || se.Line != line {
			t.Fatalf("ParseServerLine(%q): error %#v", line, err)
		}
		return
	}
	if msg := spec.CheckLine([]byte(line)); msg != "" {
		t.Fatalf("ParseServerLine accepted %q, which CheckLine rejects: %s", line, msg)
	}
	if l.Kind.String() != firstWord(line) {
		t.Fatalf("ParseServerLine(%q): kind %v", line, l.Kind)
	}
	if l.Room != "" && !spec.ValidRoom(l.Room) || l.User != "" && !spec.ValidUsername(l.User) {
		t.Fatalf("ParseServerLine(%q) = %#v: invalid name", line, l)
	}
	if l.List != nil && len(l.List) == 0 {
		t.Fatalf("ParseServerLine(%q): empty non-nil list", line)
	}
	if s := l.String(); s != line {
		t.Fatalf("ParseServerLine(%q).String() = %q", line, s)
	}
	again, err := spec.ParseServerLine(l.String())
	if err != nil || !reflect.DeepEqual(again, l) {
		t.Fatalf("reparse of %q = %#v, %v; want %#v", line, again, err, l)
	}
}

func FuzzParseServerLine(f *testing.F) {
	for _, s := range []string{
		"OK", "OK ", "OK Welcome, alice!", "ERROR Usage: PRIVMSG <user> <text>", "ERROR",
		"ROOM #general alice   spaced  out", "ROOM #a bob", "PRIVMSG alice  note to self",
		"PRIVMSG  bob hi", "JOIN #general bob", "LEAVE #a bob x", "USERLIST", "USERLIST alice bob",
		"USERLIST a  b", "ROOMLIST #Apple #zoo", "ROOMLIST #", "PONG", "PONG ", "PONG tok en",
		"OK a\tb", "OK \xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkParseServerLine(t, line)
	})
}

func BenchmarkServerLineAppendWire(b *testing.B) {
	for _, l := range []spec.ServerLine{
		spec.RoomLine("#general", "alice", "Hello everyone, this is a room message of a typical length!"),
		spec.OKLine(spec.OKSent),
		spec.UserListLine([]string{"alice", "bob", "carol", "dave", "eve", "mallory"}),
	} {
		b.Run(l.Kind.String(), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 1024)
			for b.Loop() {
				buf = l.AppendWire(buf[:0])
			}
		})
	}
}

// TestServerLineLengthBound checks the arithmetic of FRAME-11: with names
// and client lines at their limits, a server line other than USERLIST and
// ROOMLIST is shorter than 600 bytes.
func TestServerLineLengthBound(t *testing.T) {
	room := "#" + strings.Repeat("r", spec.MaxRoomLen-1)
	user := strings.Repeat("u", spec.MaxNameLen)
	longest := spec.MaxLineLen - 1 // the longest client line, ended by a bare LF
	for _, l := range []spec.ServerLine{
		spec.RoomLine(room, user, strings.Repeat("t", longest)),                 // a text line
		spec.PrivateLine(user, strings.Repeat("t", longest-len("PRIVMSG  ")-1)), // a one-byte target
		spec.PongLine(strings.Repeat("t", longest-len("PING "))),
		spec.OKLine(spec.OKWelcome(user)),
		spec.OKLine(spec.OKJoined(room, spec.MaxClients)),
		spec.ErrorLine(spec.Usage(spec.Privmsg)),
	} {
		if n := len(l.AppendWire(nil)); n >= 600 {
			t.Errorf("%v line of %d bytes", l.Kind, n)
		}
	}
}
