package client

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

// recent is a msg-time a moment before the tests' clock: a message that
// arrives as it is sent.
var recent = spec.FormatMsgTime(fixedClock().Add(-10 * time.Second))

// wantNoSecret fails if anything shown contains one of the passwords.
func wantNoSecret(t *testing.T, ui *fakeUI, passwords ...string) {
	t.Helper()
	all := ui.all()
	for _, p := range passwords {
		if strings.Contains(all, p) {
			t.Errorf("password %q shown:\n%s", p, all)
		}
	}
	if strings.Contains(all, "BUG") {
		t.Errorf("shown:\n%s", all)
	}
}

// TestRunExtensions: on a server that offers accounts and history, the
// client enables both with one CAPS, sent with the USERNAME before any
// answer (ORDER-2); then MESSAGE lines are room messages, /register and
// /password ask for passwords without echo, and /history and PgUp page
// back from the oldest message shown until the beginning.
func TestRunExtensions(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("CAPS accounts history durable")
	srv.expect("CAPS accounts history")
	srv.expect("USERNAME bob")
	srv.send("OK Enabled accounts history", "OK Welcome, bob!")
	ui.waitShown(t, "Welcome, bob!")
	if strings.Contains(ui.all(), "Enabled") || strings.Contains(ui.all(), "CAPS") {
		t.Errorf("the exchange of CAPS is shown:\n%s", ui.all())
	}

	ui.type_(t, "/join #log")
	srv.expect("JOIN #log")
	srv.send("OK Joined #log (1 users)", "JOIN #log alice", "MESSAGE 41 "+recent+" #log alice hi")
	ui.waitShown(t, "15:04 [#log] alice: hi")
	ui.type_(t, "hello")
	srv.expect("MSG hello")
	ui.waitPending(t, "--:-- [#log] <you> hello")
	srv.send("MESSAGE 42 " + recent + " #log bob hello")
	ui.waitShown(t, "15:04 [#log] <you> hello")
	ui.waitPending(t)

	ui.type_(t, "/register")
	ui.waitPrompt(t, "new password: ")
	ui.typeSecret(t, "correct-horse")
	ui.waitPrompt(t, "new password again: ")
	ui.typeSecret(t, "correct-horse")
	srv.expect("REGISTER correct-horse")
	ui.waitPrompt(t, "#log> ")
	srv.send("OK Registered bob")
	ui.waitShown(t, "15:04 registered bob: next time log in with /login bob")

	ui.type_(t, "/password")
	ui.waitPrompt(t, "current password: ")
	ui.typeSecret(t, "correct-horse")
	ui.typeSecret(t, "battery-staple")
	ui.typeSecret(t, "battery-stable")
	ui.waitShown(t, "the two new passwords differ")
	ui.type_(t, "/password")
	ui.typeSecret(t, "wrong-horse")
	ui.typeSecret(t, "battery-staple")
	ui.typeSecret(t, "battery-staple")
	srv.expect("PASSWORD wrong-horse battery-staple")
	srv.send("ERROR Wrong password")
	ui.waitShown(t, "! wrong password: the password is unchanged")

	ui.type_(t, "/history 2")
	srv.expect("HISTORY #log 41 2")
	srv.send("HISTORY 39 "+recent+" #log alice one", "HISTORY 40 "+recent+" #log bob two", "OK History #log (2 messages)")
	page := ui.waitShown(t, "— earlier messages of #log —")
	want := "— earlier messages of #log —\n15:04 [#log] alice: one\n15:04 [#log] <you> two\n— end of the earlier messages; PgUp or /history for more —"
	if page != want {
		t.Errorf("page:\n%s\nwant:\n%s", page, want)
	}
	ui.press(t, errPageUp)
	srv.expect(fmt.Sprintf("HISTORY #log 39 %d", historyPageSize))
	srv.send("OK History #log (0 messages)")
	ui.waitShown(t, "— beginning of history of #log —")
	// At the beginning, PgUp asks nothing more: the next line the server
	// receives is the message.
	ui.press(t, errPageUp)
	ui.type_(t, "x")
	srv.expect("MSG x")

	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	if n := strings.Count(ui.all(), "beginning of history"); n != 2 {
		t.Errorf("beginning of history shown %d times, want 2:\n%s", n, ui.all())
	}
	wantNoSecret(t, ui, "horse", "staple", "stable")
}

// TestRunCoreServer: against a core server the client sends CAPS, takes
// ERROR Username required as "nothing offered", and is the core client it
// was: the commands of the extensions are refused locally, and nothing of
// them is sent.
func TestRunCoreServer(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("ERROR Username required")
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!", "OK Joined #a (0 users)", "ROOM #a alice hi")
	ui.waitShown(t, "[#a] alice: hi")
	ui.type_(t, "/register")
	ui.waitShown(t, "! this server has no accounts")
	ui.type_(t, "/history")
	ui.waitShown(t, "! this server keeps no history")
	ui.press(t, errPageUp)
	ui.type_(t, "/help")
	ui.waitShown(t, "this server has no accounts and keeps no history")
	ui.type_(t, "hi")
	srv.expect("MSG hi")
	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	if strings.Contains(ui.all(), "Username required") {
		t.Errorf("the answer to CAPS is shown:\n%s", ui.all())
	}
}

// TestRunLoginConfig: -login with its password logs in at once, after the
// CAPS that enables accounts; the name is then the one the server gives,
// as registered (ACCT-2).
func TestRunLoginConfig(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(false)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Login: "ALICE", Password: "correct-horse"}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("CAPS accounts")
	srv.expect("CAPS accounts")
	srv.expect("LOGIN ALICE correct-horse")
	srv.send("OK Enabled accounts", "OK Welcome, alice!")
	ui.waitShown(t, "Welcome, alice!")
	ui.type_(t, "/join #a")
	srv.expect("JOIN #a")
	ui.type_(t, "hi")
	srv.expect("MSG hi")
	srv.send("OK Joined #a (0 users)", "ROOM #a alice hi")
	ui.waitShown(t, "[#a] <you> hi")
	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	wantNoSecret(t, ui, "horse")
}

// TestRunLoginConfigFails: a failed -login without a person to ask ends
// the client with StatusError, as a refused -name does.
func TestRunLoginConfigFails(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(false)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Login: "alice", Password: "wrong-horse"}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("CAPS accounts history")
	srv.expect("CAPS accounts history")
	srv.expect("LOGIN alice wrong-horse")
	srv.send("OK Enabled accounts history", "ERROR Login failed")
	ui.waitShown(t, "! login failed: wrong name or password")
	ui.waitShown(t, `notice: ! login as "alice" failed`)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusError)
	wantNoSecret(t, ui, "horse")
}

// TestRunLoginConfigCoreServer: -login on a server without accounts sends
// no password and ends with StatusError.
func TestRunLoginConfigCoreServer(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(false)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Login: "alice", Password: "correct-horse"}, ui)
	srv.accept()
	srv.core()
	ui.waitShown(t, "! this server has no accounts: cannot log in as alice")
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusError)
}

// TestRunLoginTyped: at the username prompt, /login NAME asks for the
// password without echo; a failed login, or a name taken, asks for a name
// again, and a taken name suggests /login when the server has accounts.
func TestRunLoginTyped(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String()}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("CAPS accounts")
	srv.expect("CAPS accounts")
	srv.send("OK Enabled accounts")
	ui.waitPrompt(t, "username: ")
	ui.type_(t, "/login alice")
	ui.waitPrompt(t, "password for alice: ")
	ui.typeSecret(t, "wrong-horse")
	srv.expect("LOGIN alice wrong-horse")
	srv.send("ERROR Login failed")
	ui.waitShown(t, "! login failed: wrong name or password")
	ui.waitPrompt(t, "username: ")

	ui.type_(t, "alice")
	srv.expect("USERNAME alice")
	srv.send("ERROR Username taken")
	ui.waitShown(t, "if alice is your registered name, log in with /login alice")
	ui.type_(t, "/login alice")
	ui.typeSecret(t, "") // an empty password cancels
	ui.waitShown(t, "cancelled: nothing sent")
	ui.waitPrompt(t, "username: ")
	ui.type_(t, "/register")
	ui.waitShown(t, "choose a username first, or log in with /login name")
	ui.type_(t, "/login")
	ui.waitShown(t, "usage: /login name")
	ui.type_(t, "/login alice")
	ui.typeSecret(t, "correct-horse")
	srv.expect("LOGIN alice correct-horse")
	srv.send("OK Welcome, alice!")
	ui.waitShown(t, "Welcome, alice!")
	ui.type_(t, "/login alice")
	ui.waitShown(t, "you have a name already")
	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	wantNoSecret(t, ui, "horse")
}

// TestRunHistoryWaits: a script's /history right after /join waits for
// the room, and what is typed after a /history waits for its page: the
// script's lines take effect in order. A first page asked for with "*"
// that crosses the replay of JOIN-6 brings only messages shown already,
// and is asked for again from the oldest one.
func TestRunHistoryWaits(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(false)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("CAPS history")
	srv.expect("CAPS history")
	srv.expect("USERNAME bob")
	srv.send("OK Enabled history", "OK Welcome, bob!")
	ui.type_(t, "/join #log")
	ui.type_(t, "/history 2")
	srv.expect("JOIN #log")
	srv.send("OK Joined #log (1 users)")
	srv.expect("HISTORY #log * 2")
	srv.send("JOIN #log alice", "MESSAGE 8 "+recent+" #log alice eight", "MESSAGE 9 "+recent+" #log alice nine",
		"HISTORY 8 "+recent+" #log alice eight", "HISTORY 9 "+recent+" #log alice nine", "OK History #log (2 messages)")
	srv.expect("HISTORY #log 8 2")
	srv.send("HISTORY 6 "+recent+" #log alice six", "HISTORY 7 "+recent+" #log alice seven", "OK History #log (2 messages)")
	ui.type_(t, "/history")
	srv.expect("HISTORY #log 6 50")
	srv.send("HISTORY 5 "+recent+" #log alice five", "OK History #log (1 messages)")
	ui.type_(t, "/history") // the beginning: nothing is asked
	ui.type_(t, "/quit")
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	var got []string
	for _, l := range strings.Split(ui.all(), "\n") {
		if strings.Contains(l, "[#log]") || strings.Contains(l, "—") {
			got = append(got, l)
		}
	}
	want := []string{
		"15:04 [#log] alice: eight",
		"15:04 [#log] alice: nine",
		"— earlier messages of #log —",
		"15:04 [#log] alice: six",
		"15:04 [#log] alice: seven",
		"— end of the earlier messages; PgUp or /history for more —",
		"— earlier messages of #log —",
		"15:04 [#log] alice: five",
		"— beginning of history of #log —",
		"notice: — beginning of history of #log —",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("shown:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
