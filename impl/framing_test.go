package impl_test

import (
	"bytes"
	"strings"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestCoalescedWrites sends a whole session in one write (FRAME-3).
func TestCoalescedWrites(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	a.write([]byte("USERNAME a\r\nJOIN #r\nhello\r\n\r\n\nPRIVMSG a self\nUSERS\r\nPING x\n"))
	a.expect("OK Welcome, a!", "OK Joined #r (0 users)", "ROOM #r a hello",
		"OK Sent", "PRIVMSG a self", "USERLIST a", "PONG x")
	a.sync()
}

// TestFrameLimits checks the 512-byte limit of FRAME-4 and FRAME-5 at its
// edge, with both terminators.
func TestFrameLimits(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	a.join("a", "#r")
	for _, eol := range []string{"\r\n", "\n"} {
		fits := "MSG " + strings.Repeat("y", spec.MaxLineLen-len("MSG ")-len(eol))
		a.write([]byte(fits + eol))
		a.expect("ROOM #r a " + fits[len("MSG "):])
		over := fits + "z"
		a.write([]byte(over + eol))
		a.expect("ERROR " + spec.ErrLineTooLong)
		a.sync()
	}
	// 511 bytes and a CR, then the LF: 513 bytes in all.
	a.write([]byte(strings.Repeat("w", 511) + "\r\n"))
	a.expect("ERROR " + spec.ErrLineTooLong)
	a.sync()
}

// TestOverlongLines sends a 513-byte and a 10 MB line: each is answered once
// with "ERROR Line too long" and the connection stays usable (FRAME-5).
func TestOverlongLines(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	b := ts.dial(t, "b")
	a.join("a", "#r")
	b.send("USERNAME b")
	b.expect("OK Welcome, b!")
	b.send("JOIN #r")
	b.expect("OK Joined #r (1 users)", "JOIN #r a")
	a.expect("JOIN #r b")

	a.send("MSG " + strings.Repeat("x", 509))
	a.expect("ERROR " + spec.ErrLineTooLong)
	a.send("after one")
	a.expect("ROOM #r a after one")
	b.expect("ROOM #r a after one")

	// 10 MB in one line, written while the server discards it; the server
	// must not buffer it (it could not: spec.LineReader holds 512 bytes).
	huge := bytes.Repeat([]byte("MSG 0123456789abcdef"), 10<<20/20)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.conn.Write(huge)
		a.conn.Write([]byte("\r\nafter ten\r\n"))
	}()
	a.expect("ERROR "+spec.ErrLineTooLong, "ROOM #r a after ten")
	<-done
	b.expect("ROOM #r a after ten")
	a.sync()
	b.sync()
}

// TestBadBytes checks FRAME-7, FRAME-8 and the order of FRAME-9.
func TestBadBytes(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	a.join("a", "#r")
	cases := []struct {
		line string
		want string
	}{
		{"lone\rcr", spec.ErrInvalidCharacter},
		{"PING a\r", spec.ErrInvalidCharacter}, // CR, then CRLF
		{"\r", spec.ErrInvalidCharacter},       // "\r\r\n"
		{"nul\x00", spec.ErrInvalidCharacter},
		{"tab\there", spec.ErrInvalidCharacter},
		{"esc\x1b[31m", spec.ErrInvalidCharacter},
		{"del\x7f", spec.ErrInvalidCharacter},
		{"c1 \u0085", spec.ErrInvalidCharacter},
		{"c1 \u009f", spec.ErrInvalidCharacter},
		{"bad \xff", spec.ErrInvalidUTF8},
		{"overlong \xc0\xaf", spec.ErrInvalidUTF8},
		{"surrogate \xed\xa0\x80", spec.ErrInvalidUTF8},
		{"cut \xe6\x97", spec.ErrInvalidUTF8},
		// FRAME-9: UTF-8 before control characters, both before usage and state.
		{"bad\x00\xff", spec.ErrInvalidUTF8},
		{"USERNAME \x07", spec.ErrInvalidCharacter},
		{"LEAVE\x00", spec.ErrInvalidCharacter},
	}
	for _, tc := range cases {
		a.send(tc.line)
		a.expect("ERROR " + tc.want)
	}
	// Still in the room with its name: the bad lines had no other effect.
	a.send("USERS")
	a.expect("USERLIST a")
	a.send("ok \u00a0 ✓")
	a.expect("ROOM #r a ok \u00a0 ✓")
	a.sync()
}

// TestTrailingBytesDiscarded: bytes after the last LF when a client closes
// are not a line (FRAME-10); the lines before them are processed before the
// disconnect (DISC-2).
func TestTrailingBytesDiscarded(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	b := ts.dial(t, "b")
	b.join("b", "#r")
	a.write([]byte("USERNAME a\nJOIN #r\nfirst\nsecond\npartial without LF"))
	a.conn.Close()
	b.expect("JOIN #r a", "ROOM #r a first", "ROOM #r a second", "LEAVE #r a")
	b.sync()
}

// TestHalfClose: after a half-close the server still processes every
// complete line, writes the replies, then closes (DISC-2).
func TestHalfClose(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	b := ts.dial(t, "b")
	b.join("b", "#r")
	a.write([]byte("USERNAME a\nJOIN #r\nbye all\nPING last\n"))
	if err := a.conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	a.expect("OK Welcome, a!", "OK Joined #r (1 users)", "JOIN #r b", "ROOM #r a bye all", "PONG last")
	a.expectClosed()
	b.expect("JOIN #r a", "ROOM #r a bye all", "LEAVE #r a")
	b.send("USERNAME a") // freed
	b.expect("ERROR " + spec.ErrUsernameSet)
	c := ts.dial(t, "c")
	c.send("USERNAME A")
	c.expect("OK Welcome, A!")
}

// TestSeedSessionBytewise plays the example session of PROTOCOL.md section
// 11 with bare LF, alice one byte per write and bob all at once.
func TestSeedSessionBytewise(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	alice := ts.dial(t, "alice")
	bob := ts.dial(t, "bob")
	say := func(line string) {
		for _, b := range []byte(line + "\n") {
			alice.write([]byte{b})
		}
	}
	say("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	say("JOIN #general")
	alice.expect("OK Joined #general (0 users)")
	say("Hello everyone!")
	alice.expect("ROOM #general alice Hello everyone!")
	bob.write([]byte("USERNAME bob\nJOIN #general\nHi alice!\n"))
	bob.expect("OK Welcome, bob!", "OK Joined #general (1 users)", "JOIN #general alice",
		"ROOM #general alice Hello everyone!", "ROOM #general bob Hi alice!")
	alice.expect("JOIN #general bob", "ROOM #general bob Hi alice!")
	say("PRIVMSG bob Hey, private message!")
	alice.expect("OK Sent")
	bob.expect("PRIVMSG alice Hey, private message!")
	say("USERS")
	alice.expect("USERLIST alice bob")
	say("ROOMS")
	alice.expect("ROOMLIST #general")
	say("LEAVE")
	alice.expect("OK Left #general")
	bob.expect("LEAVE #general alice")
	say("QUIT")
	alice.expect("OK Goodbye!")
	alice.expectClosed()
	bob.sync()
}
