//go:build unix

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/cmd/chat/internal/client"
	"roomchat.dev/roomchat/spec"
)

// fakeChatd is a server played by the test, on 127.0.0.1: it speaks, line
// by line, what the exchange under test needs of PROTOCOL.md section 13.
type fakeChatd struct {
	ln net.Listener
}

func listenFake(t *testing.T) *fakeChatd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeChatd{ln: ln}
}

func (f *fakeChatd) addr() string { return f.ln.Addr().String() }

// accept takes the next connection; the test plays the server on it as a
// peer.
func (f *fakeChatd) accept(t *testing.T) *peer {
	t.Helper()
	f.ln.(*net.TCPListener).SetDeadline(time.Now().Add(waitLimit))
	c, err := f.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, br: bufio.NewReader(c)}
}

// send sends several lines.
func (p *peer) sendAll(lines ...string) {
	p.t.Helper()
	for _, l := range lines {
		p.send(l)
	}
}

// offerAll answers CAPS as a server offering accounts and history does,
// and checks that the client enables both and sends its USERNAME (or
// LOGIN) with them, before any answer (ORDER-2 lets it).
func (p *peer) offerAll(naming string) {
	p.t.Helper()
	p.expect("CAPS")
	p.send("CAPS accounts history")
	p.expect("CAPS accounts history")
	if naming != "" {
		p.expect(naming)
	}
	p.send("OK Enabled accounts history")
}

func wantExit(t *testing.T, status <-chan int, want int) {
	t.Helper()
	select {
	case got := <-status:
		if got != want {
			t.Errorf("exit status %d, want %d", got, want)
		}
	case <-time.After(waitLimit):
		t.Fatal("the client did not end")
	}
}

// msgTime is a msg-time (HIST-1) on the clock of the pseudo-terminal tests.
func msgTime(d time.Duration) string { return spec.FormatMsgTime(ptyNow.Add(d)) }

// TestTerminalCapsCoreServer: against a core server, which answers CAPS
// with ERROR Username required, the session is today's: nothing of the
// exchange shows, the keys and commands of the extensions say that the
// server has none and send nothing, and the screen is what it always was.
func TestTerminalCapsCoreServer(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	srv := listenFake(t)
	scr, keys, status := startTerminal(t, srv.addr(), "bob")
	c := srv.accept(t)
	c.expect("CAPS")
	c.send("ERROR Username required")
	c.expect("USERNAME bob")
	c.send("OK Welcome, bob!")
	mark := scr.waitPrinted(t, 0, "09:30 Welcome, bob!", "> ")
	keys("/join #a\r")
	c.expect("JOIN #a")
	c.sendAll("OK Joined #a (0 users)", "ROOM #a alice hi")
	mark = scr.waitPrinted(t, mark, "09:30 [#a] alice: hi", "#a> ")
	keys("\x1b[5~")
	mark = scr.waitPrinted(t, mark, "! this server keeps no history", "#a> ")
	keys("/register\r")
	mark = scr.waitPrinted(t, mark, "! this server has no accounts", "#a> ")
	keys("hi\r")
	c.expect("MSG hi") // the first line sent since JOIN
	c.send("ROOM #a bob hi")
	mark = scr.waitPrinted(t, mark, "09:30 [#a] <you> hi", "#a> ")
	keys("\x04")
	c.expect("QUIT")
	c.send("OK Goodbye!")
	wantExit(t, status, client.StatusOK)
	scr.waitText(t, mark, "09:30 Goodbye!\r\n")
	want := []string{
		"connected to " + srv.addr() + "; type /help for help",
		"09:30 Welcome, bob!",
		"09:30 joined #a (nobody else here)",
		"09:30 [#a] alice: hi",
		"! this server keeps no history",
		"! this server has no accounts",
		"09:30 [#a] <you> hi",
		"09:30 Goodbye!",
	}
	if got := scr.emulate(t).Lines(); !slices.Equal(got, want) {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTerminalRegisterAndLogin: alice registers her name with /register,
// typing the password twice; bob's terminal then logs in to it with
// /login alice, failing once. No password is ever drawn, not even as
// stars.
func TestTerminalRegisterAndLogin(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	srv := listenFake(t)

	scr, keys, status := startTerminal(t, srv.addr(), "alice")
	c := srv.accept(t)
	c.offerAll("USERNAME alice")
	c.send("OK Welcome, alice!")
	mark := scr.waitPrinted(t, 0, "09:30 Welcome, alice!", "> ")
	keys("/register\r")
	mark = scr.waitText(t, mark, "new password: ")
	keys("correct-")
	// The keys are taken: the prompt is drawn again, and nothing else.
	mark = scr.waitText(t, mark, "\r\x1b[Jnew password: ")
	wantScreen(t, scr.emulate(t), len("new password: "), "09:30 Welcome, alice!", "new password:")
	keys("horse\r")
	mark = scr.waitText(t, mark, "new password again: ")
	keys("correct-horse\r")
	c.expect("REGISTER correct-horse")
	c.send("OK Registered alice")
	mark = scr.waitPrinted(t, mark, "09:30 registered alice: next time log in with /login alice", "> ")
	keys("\x04")
	c.expect("QUIT")
	c.send("OK Goodbye!")
	wantExit(t, status, client.StatusOK)
	scr.waitText(t, mark, "09:30 Goodbye!\r\n")
	if out := scr.String(); strings.Contains(out, "horse") || strings.Contains(out, "*") {
		t.Errorf("a password on the terminal:\n%q", out)
	}

	// Without -name, the username prompt takes /login.
	scr, keys, status = startTerminal(t, srv.addr(), "")
	c = srv.accept(t)
	c.offerAll("")
	mark = scr.waitText(t, 0, "username: ")
	keys("/login alice\r")
	mark = scr.waitText(t, mark, "password for alice: ")
	keys("wrong\x03") // Ctrl-C cancels, and sends nothing
	mark = scr.waitPrinted(t, mark, "! cancelled: nothing sent", "username: ")
	keys("/login alice\r")
	mark = scr.waitText(t, mark, "password for alice: ")
	keys("wrong-horse\r")
	c.expect("LOGIN alice wrong-horse")
	c.send("ERROR Login failed")
	mark = scr.waitPrinted(t, mark, "09:30 ! login failed: wrong name or password", "username: ")
	keys("/login alice\r")
	mark = scr.waitText(t, mark, "password for alice: ")
	keys("correct-horse\r")
	c.expect("LOGIN alice correct-horse")
	c.send("OK Welcome, alice!")
	mark = scr.waitPrinted(t, mark, "09:30 Welcome, alice!", "> ")
	keys("\x04")
	c.expect("QUIT")
	c.send("OK Goodbye!")
	wantExit(t, status, client.StatusOK)
	scr.waitText(t, mark, "09:30 Goodbye!\r\n")
	if out := scr.String(); strings.Contains(out, "horse") {
		t.Errorf("a password on the terminal:\n%q", out)
	}
	want := []string{
		"connected to " + srv.addr() + "; type /help for help",
		"! cancelled: nothing sent",
		"09:30 ! login failed: wrong name or password",
		"09:30 Welcome, alice!",
		"09:30 Goodbye!",
	}
	if got := scr.emulate(t).Lines(); !slices.Equal(got, want) {
		t.Errorf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTerminalPageUp: in a room, PgUp fetches the 50 messages before the
// oldest one shown, which come as a marked block below the chat while the
// line being typed stays; a short page is the beginning, after which PgUp
// asks nothing more.
func TestTerminalPageUp(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	srv := listenFake(t)
	scr, keys, status := startTerminal(t, srv.addr(), "bob")
	c := srv.accept(t)
	c.offerAll("USERNAME bob")
	c.send("OK Welcome, bob!")
	mark := scr.waitPrinted(t, 0, "09:30 Welcome, bob!", "> ")
	keys("/join #log\r")
	c.expect("JOIN #log")
	// The replay of the room's last messages (JOIN-6) has their times;
	// a message sent as it arrives has the time it is shown.
	c.sendAll("OK Joined #log (1 users)", "JOIN #log alice",
		"MESSAGE 51 "+msgTime(-90*time.Minute)+" #log alice replayed",
		"MESSAGE 52 "+msgTime(-5*time.Second)+" #log alice live")
	mark = scr.waitPrinted(t, mark, "08:00 [#log] alice: replayed", "#log> ")
	mark = scr.waitPrinted(t, mark, "09:30 [#log] alice: live", "#log> ")

	keys("draft")
	mark = scr.waitText(t, mark, "#log> draft")
	keys("\x1b[5~")
	c.expect("HISTORY #log 51 50")
	yesterday := time.Date(2024, 1, 1, 7, 0, 0, 0, time.Local)
	for id := 1; id <= 50; id++ {
		c.send(fmt.Sprintf("HISTORY %d %s #log bob m%d", id, spec.FormatMsgTime(yesterday.Add(time.Duration(id)*time.Minute)), id))
	}
	c.send("OK History #log (50 messages)")
	mark = scr.waitPrinted(t, mark, "— end of the earlier messages; PgUp or /history for more —", "#log> draft")
	vt := scr.emulate(t)
	wantScreen(t, vt, len("#log> draft"), "Jan 01 07:50 [#log] <you> m50", "— end of the earlier messages; PgUp or /history for more —", "#log> draft")
	lines := vt.Lines()
	head := slices.Index(lines, "— earlier messages of #log —")
	if head < 0 || slices.Index(lines, "09:30 [#log] alice: live") > head || len(lines) < head+52 {
		t.Fatalf("no block after the chat:\n%s", vt)
	}
	for i := 1; i <= 50; i++ {
		if want := fmt.Sprintf("Jan 01 07:%02d [#log] <you> m%d", i, i); lines[head+i] != want {
			t.Fatalf("line %d of the block: %q, want %q", i, lines[head+i], want)
		}
	}

	keys("\x1b[5~")
	c.expect("HISTORY #log 1 50")
	c.send("OK History #log (0 messages)")
	mark = scr.waitPrinted(t, mark, "— beginning of history of #log —", "#log> draft")
	keys("\x1b[5~")
	mark = scr.waitPrinted(t, mark, "— beginning of history of #log —", "#log> draft")
	// No HISTORY for that PgUp: the next line is the draft, kept all along.
	keys("\r")
	c.expect("MSG draft")
	keys("\x04")
	c.expect("QUIT")
	c.send("OK Goodbye!")
	wantExit(t, status, client.StatusOK)
}

// TestScriptedLogin: for a script, -login takes the password from
// CHAT_PASSWORD; it is sent in LOGIN and written nowhere.
func TestScriptedLogin(t *testing.T) {
	srv := listenFake(t)
	cmd := chatCommand(t, "-addr", srv.addr(), "-login", "ALICE")
	cmd.Env = append(cmd.Env, "CHAT_PASSWORD=correct-horse")
	cmd.Stdin = strings.NewReader("/join #a\nhi\n/quit\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := srv.accept(t)
	c.offerAll("LOGIN ALICE correct-horse")
	c.send("OK Welcome, alice!")
	c.expect("JOIN #a")
	c.send("OK Joined #a (0 users)")
	c.expect("MSG hi")
	c.send("MESSAGE 1 " + spec.FormatMsgTime(time.Now()) + " #a alice hi")
	c.expect("QUIT")
	c.send("OK Goodbye!")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("chat: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	want := []string{"Welcome, alice!", "joined #a (nobody else here)", "[#a] <you> hi", "Goodbye!"}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	for i := range got {
		got[i] = got[i][len("15:04 "):]
	}
	if !slices.Equal(got, want) {
		t.Errorf("stdout:\n%s", &stdout)
	}
	if strings.Contains(stdout.String()+stderr.String(), "horse") {
		t.Errorf("the password is written:\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	}
}

// TestNameAndLogin: -name and -login do not go together.
func TestNameAndLogin(t *testing.T) {
	if got := run([]string{"-name", "bob", "-login", "alice"}); got != 2 {
		t.Errorf("exit status %d, want 2", got)
	}
}
