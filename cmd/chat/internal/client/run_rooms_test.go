package client

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// newWindowedUI is a fakeUI that shows one room at a time, as a terminal
// does.
func newWindowedUI() *fakeUI {
	u := newFakeUI(true)
	u.windowed = true
	return u
}

// waitStatus waits until the room bar is want.
func (u *fakeUI) waitStatus(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		u.mu.Lock()
		got := u.status
		u.mu.Unlock()
		if got == want {
			return
		}
		select {
		case <-u.changed:
		case <-deadline:
			t.Fatalf("room bar %q, want %q", got, want)
		}
	}
}

// lastRedraw returns the lines of the last Redraw, and how many there were.
func (u *fakeUI) lastRedraw() ([]string, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.redraws) == 0 {
		return nil, 0
	}
	return u.redraws[len(u.redraws)-1], len(u.redraws)
}

// offerRooms answers CAPS as a server offering rooms alone does, and
// welcomes name.
func (s *fakeServer) offerRooms(name string) {
	s.t.Helper()
	s.expect("CAPS")
	s.send("CAPS rooms")
	s.expect("CAPS rooms")
	s.expect("USERNAME " + name)
	s.send("OK Enabled rooms", "OK Welcome, "+name+"!")
}

// TestRunRooms: with rooms (PROTOCOL.md 13.4), /join adds a room and shows
// it; the lines of the room not shown wait in its window and count in the
// room bar; /win and Alt-digit show another room, whose chat replaces the
// one shown; text, /users and /part name the room shown; /join of one of
// the user's rooms shows it, and sends nothing.
func TestRunRooms(t *testing.T) {
	srv := newFakeServer(t)
	ui := newWindowedUI()
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.offerRooms("bob")
	ui.waitShown(t, "Welcome, bob!")

	ui.type_(t, "/join #a")
	srv.expect("JOIN #a")
	srv.send("OK Joined #a (1 users)", "JOIN #a alice")
	ui.waitShown(t, "* alice is in #a")
	ui.type_(t, "one room")
	srv.expect("MSG #a one room")
	srv.send("ROOM #a bob one room")
	ui.waitShown(t, "[#a] <you> one room")
	if _, n := ui.lastRedraw(); n != 0 {
		t.Errorf("%d redraws with one room", n)
	}

	ui.type_(t, "/join #b")
	srv.expect("JOIN #b")
	srv.send("OK Joined #b (0 users)")
	ui.waitPrompt(t, "#b> ")
	ui.waitStatus(t, "1:#a [2:#b]")
	if lines, n := ui.lastRedraw(); n != 1 || len(lines) != 0 {
		t.Errorf("redraw %d: %q, want #b's, empty", n, lines)
	}
	srv.send("ROOM #a alice for a", "JOIN #a carol", "ROOM #a carol also for a")
	ui.waitStatus(t, "1:#a(2) [2:#b]")
	ui.type_(t, "to b")
	srv.expect("MSG #b to b")
	srv.send("ROOM #b bob to b")
	ui.waitShown(t, "[#b] <you> to b")
	if all := ui.all(); strings.Contains(all, "for a") || strings.Contains(all, "carol") {
		t.Errorf("lines of #a shown while #b is:\n%s", all)
	}

	ui.press(t, windowKey(1))
	ui.waitPrompt(t, "#a> ")
	ui.waitStatus(t, "[1:#a] 2:#b")
	lines, _ := ui.lastRedraw()
	want := []string{
		"15:04 Welcome, bob!",
		"15:04 joined #a (1 other user)",
		"15:04 * alice is in #a",
		"15:04 [#a] <you> one room",
		"15:04 [#a] alice: for a",
		"15:04 * carol joined #a",
		"15:04 [#a] carol: also for a",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("#a's chat:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	ui.type_(t, "/users")
	srv.expect("USERS #a")
	srv.send("USERLIST alice bob carol")
	ui.waitShown(t, "users in #a: alice, bob, carol")

	ui.type_(t, "/win #B")
	ui.waitPrompt(t, "#b> ")
	ui.type_(t, "/join #A") // one of bob's rooms: shown, nothing sent
	ui.waitPrompt(t, "#a> ")
	ui.type_(t, "/win 3")
	ui.waitShown(t, "! no room 3: you are in 2 rooms")
	ui.type_(t, "/win #c")
	ui.waitShown(t, "! you are not in #c: /join it")
	ui.press(t, windowKey(2))
	ui.waitPrompt(t, "#b> ")

	ui.type_(t, "/join #c")
	srv.expect("JOIN #c")
	srv.send("ERROR Too many rooms")
	ui.waitShown(t, "! Too many rooms")
	ui.type_(t, "/part #a")
	srv.expect("LEAVE #a")
	srv.send("OK Left #a")
	ui.waitShown(t, "left #a")
	ui.waitStatus(t, "")
	ui.type_(t, "/part")
	srv.expect("LEAVE #b")
	srv.send("OK Left #b")
	ui.waitPrompt(t, "> ")
	ui.type_(t, "nowhere")
	ui.waitShown(t, "! you are in no room: /join one first")
	ui.type_(t, "/users")
	ui.waitShown(t, "! you are in no room: /join one first")

	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
}

// TestRunRoomsNotOffered: on a server that offers no rooms, the client is
// in one room at a time, as before: /join moves it, text is MSG <text>,
// /part names only the room it is in, /win and Alt-digit show nothing
// else, and nothing is redrawn.
func TestRunRoomsNotOffered(t *testing.T) {
	srv := newFakeServer(t)
	ui := newWindowedUI()
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.expect("CAPS")
	srv.send("CAPS history")
	srv.expect("CAPS history")
	srv.expect("USERNAME bob")
	srv.send("OK Enabled history", "OK Welcome, bob!")
	ui.type_(t, "/join #a")
	srv.expect("JOIN #a")
	ui.type_(t, "/join #b") // sent at once: the server decides
	srv.expect("JOIN #b")
	srv.send("OK Joined #a (0 users)", "OK Joined #b (0 users)")
	ui.waitPrompt(t, "#b> ")
	ui.type_(t, "hi")
	srv.expect("MSG hi")
	ui.type_(t, "/win #a")
	ui.waitShown(t, "! you are not in #a: this server allows one room at a time, /join moves you")
	ui.press(t, windowKey(2))
	ui.waitShown(t, "! no room 2: you are in 1 room")
	ui.type_(t, "/part #a")
	ui.waitShown(t, "! you are not in #a")
	ui.type_(t, "/part #B")
	srv.expect("LEAVE")
	ui.type_(t, "/help")
	ui.waitShown(t, "this server allows one room at a time")
	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	if _, n := ui.lastRedraw(); n != 0 {
		t.Errorf("%d redraws without rooms", n)
	}
}

// TestMainScriptedRooms: for a script, with rooms, what is typed after a
// /join or /part waits for its answer, which decides the room it goes to;
// every room's lines are printed, each with its room.
func TestMainScriptedRooms(t *testing.T) {
	srv := newFakeServer(t)
	in := strings.NewReader("/join #a\n/join #b\nto b\n/win #a\nto a\n/part\nto b again\n/quit\n")
	var out, diag strings.Builder
	status := make(chan int, 1)
	go func() {
		status <- Main(context.Background(), Config{Addr: srv.ln.Addr().String(), Name: "bob", Now: fixedClock}, in, &out, &diag)
	}()
	srv.accept()
	srv.offerRooms("bob")
	srv.expect("JOIN #a")
	srv.send("OK Joined #a (0 users)")
	srv.expect("JOIN #b")
	srv.send("OK Joined #b (0 users)", "ROOM #a carol meanwhile")
	srv.expect("MSG #b to b")
	srv.expect("MSG #a to a")
	srv.expect("LEAVE #a")
	srv.send("ROOM #b bob to b", "ROOM #a bob to a", "OK Left #a")
	srv.expect("MSG #b to b again")
	srv.expect("QUIT")
	srv.send("ROOM #b bob to b again", "OK Goodbye!")
	wantStatus(t, status, StatusOK)
	want := "15:04 Welcome, bob!\n15:04 joined #a (nobody else here)\n15:04 joined #b (nobody else here)\n" +
		"15:04 [#a] carol: meanwhile\n15:04 [#b] <you> to b\n15:04 [#a] <you> to a\n15:04 left #a\n" +
		"15:04 [#b] <you> to b again\n15:04 Goodbye!\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", out.String(), want, diag.String())
	}
}
