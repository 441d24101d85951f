//go:build unix

package main

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/cmd/chat/internal/client"
	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// waitVisible waits until the rows on the screen are exactly want, the
// prompt last: a line written and drawn again over, as the input line is,
// may leave the screen between the two for a moment.
func (s *screen) waitVisible(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		got := s.emulate(t).Visible()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestTerminalRooms: on a server that offers rooms (PROTOCOL.md 13.4), bob
// joins #tea and #coffee and the screen shows one of them at a time, the
// room bar above the prompt. A message to the room not shown stays off the
// screen and counts in the bar; /win and Alt-1 or Alt-2 show another room
// with its own chat, and its count clears; what is typed goes, as
// MSG <room> <text>, to the room shown; PgUp pages back through the room
// shown; /part leaves it, and the other room is shown.
func TestTerminalRooms(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	srv := listenFake(t)
	scr, keys, status := startTerminal(t, srv.addr(), "bob")
	c := srv.accept(t)
	c.expect("CAPS")
	c.send("CAPS history rooms")
	c.expect("CAPS history rooms")
	c.expect("USERNAME bob")
	c.sendAll("OK Enabled history rooms", "OK Welcome, bob!")
	mark := scr.waitPrinted(t, 0, "09:30 Welcome, bob!", "> ")

	// One room: the screen is as it always was, without a bar.
	keys("/join #tea\r")
	c.expect("JOIN #tea")
	c.sendAll("OK Joined #tea (1 users)", "JOIN #tea alice", "MESSAGE 1 "+msgTime(-5*time.Second)+" #tea alice tea time")
	mark = scr.waitPrinted(t, mark, "09:30 [#tea] alice: tea time", "#tea> ")
	teaChat := []string{
		"09:30 Welcome, bob!",
		"09:30 joined #tea (1 other user)",
		"09:30 * alice is in #tea",
		"09:30 [#tea] alice: tea time",
	}
	scr.waitVisible(t, append([]string{"connected to " + srv.addr() + "; type /help for help"}, append(teaChat, "#tea>")...)...)

	// A second room is added, and shown, empty; the bar lists both.
	keys("/join #coffee\r")
	c.expect("JOIN #coffee")
	c.send("OK Joined #coffee (0 users)")
	mark = scr.waitPrinted(t, mark, "09:30 joined #coffee (nobody else here)", "#coffee> ")
	scr.waitVisible(t, "09:30 joined #coffee (nobody else here)", "1:#tea [2:#coffee]", "#coffee>")

	// A message to #tea, not shown: the bar counts it, the screen does
	// not show it.
	c.send("MESSAGE 2 " + msgTime(-5*time.Second) + " #tea alice are you there?")
	mark = scr.waitPrinted(t, mark, "1:#tea(1) [2:#coffee]", "#coffee> ")
	scr.waitVisible(t, "09:30 joined #coffee (nobody else here)", "1:#tea(1) [2:#coffee]", "#coffee>")

	// Text goes to the room shown.
	keys("latte please\r")
	c.expect("MSG #coffee latte please")
	c.send("MESSAGE 3 " + msgTime(-5*time.Second) + " #coffee bob latte please")
	mark = scr.waitPrinted(t, mark, "09:30 [#coffee] <you> latte please", "#coffee> ")

	// /win shows #tea, with its chat and the message that waited; its
	// count clears.
	keys("/win #tea\r")
	mark = scr.waitPrinted(t, mark, "[1:#tea] 2:#coffee", "#tea> ")
	teaChat = append(teaChat, "09:30 [#tea] alice: are you there?")
	scr.waitVisible(t, append(teaChat, "[1:#tea] 2:#coffee", "#tea>")...)
	keys("here\r")
	c.expect("MSG #tea here")
	c.send("MESSAGE 4 " + msgTime(-5*time.Second) + " #tea bob here")
	mark = scr.waitPrinted(t, mark, "09:30 [#tea] <you> here", "#tea> ")
	teaChat = append(teaChat, "09:30 [#tea] <you> here")

	// A message to #coffee counts; Alt-2 shows #coffee, with what was
	// being typed kept, and the count clears.
	c.send("MESSAGE 5 " + msgTime(-5*time.Second) + " #coffee carol black for me")
	mark = scr.waitPrinted(t, mark, "[1:#tea] 2:#coffee(1)", "#tea> ")
	keys("espr")
	mark = scr.waitText(t, mark, "#tea> espr")
	keys("\x1b2")
	mark = scr.waitPrinted(t, mark, "1:#tea [2:#coffee]", "#coffee> espr")
	scr.waitVisible(t,
		"09:30 joined #coffee (nobody else here)",
		"09:30 [#coffee] <you> latte please",
		"09:30 [#coffee] carol: black for me",
		"1:#tea [2:#coffee]",
		"#coffee> espr")
	keys("esso\r")
	c.expect("MSG #coffee espresso")
	c.send("MESSAGE 6 " + msgTime(-5*time.Second) + " #coffee bob espresso")
	mark = scr.waitPrinted(t, mark, "09:30 [#coffee] <you> espresso", "#coffee> ")

	// PgUp pages back through the room shown.
	keys("\x1b[5~")
	c.expect("HISTORY #coffee 3 50")
	c.send("OK History #coffee (0 messages)")
	mark = scr.waitPrinted(t, mark, "— beginning of history of #coffee —", "#coffee> ")

	// Alt-1 and back to #tea; /part there leaves it, and #coffee, the
	// only room left, is shown, without a bar.
	keys("\x1b1")
	mark = scr.waitPrinted(t, mark, "[1:#tea] 2:#coffee", "#tea> ")
	scr.waitVisible(t, append(teaChat, "[1:#tea] 2:#coffee", "#tea>")...)
	keys("/part\r")
	c.expect("LEAVE #tea")
	c.send("OK Left #tea")
	mark = scr.waitPrinted(t, mark, "09:30 left #tea", "#coffee> ")
	scr.waitVisible(t,
		"09:30 joined #coffee (nobody else here)",
		"09:30 [#coffee] <you> latte please",
		"09:30 [#coffee] carol: black for me",
		"09:30 [#coffee] <you> espresso",
		"— beginning of history of #coffee —",
		"09:30 left #tea",
		"#coffee>")
	keys("still here\r")
	c.expect("MSG #coffee still here")

	keys("\x04")
	c.expect("QUIT")
	c.send("OK Goodbye!")
	wantExit(t, status, client.StatusOK)
	scr.waitText(t, mark, "09:30 Goodbye!\r\n")
}

// TestScriptedRooms pipes a script into the real command against the
// reference server offering rooms: each line typed after /join, /win or
// /part goes to the room then shown, as MSG <room> <text>, so that alice,
// a core client in #a, hears what was said there and nothing of #b; /users
// names #a, and /part leaves #a alone.
func TestScriptedRooms(t *testing.T) {
	addr, _ := startServerConfig(t, impl.Config{Offer: spec.ExtRooms})
	alice := dialPeer(t, addr)
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	alice.send("JOIN #a")
	alice.expect("OK Joined #a (0 users)")

	cmd := chatCommand(t, "-addr", addr, "-name", "bob")
	cmd.Stdin = strings.NewReader("/join #a\n/join #b\nto b\n/win #a\nto a\n/users\n/part\nto b again\n/quit\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chat: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	alice.expect("JOIN #a bob")
	alice.expect("ROOM #a bob to a")
	alice.expect("LEAVE #a bob")
	alice.send("PING")
	alice.expect("PONG") // and nothing of #b before it

	want := regexp.MustCompile(`^` +
		stamp + `Welcome, bob!\n` +
		stamp + `joined #a \(1 other user\)\n` +
		stamp + `\* alice is in #a\n` +
		stamp + `joined #b \(nobody else here\)\n` +
		stamp + `\[#b\] <you> to b\n` +
		stamp + `\[#a\] <you> to a\n` +
		stamp + `users in #a: alice, bob\n` +
		stamp + `left #a\n` +
		stamp + `\[#b\] <you> to b again\n` +
		stamp + `Goodbye!\n$`)
	if !want.Match(stdout.Bytes()) {
		t.Errorf("stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	}
}
