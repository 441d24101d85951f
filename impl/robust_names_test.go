package impl_test

import (
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestRobustNameReuse: a name is free for the taking the moment its
// owner's QUIT is answered (QUIT-3), or its disconnect has been seen
// (DISC-3), in any case (NAME-3); names and rooms of the maximum length
// work, one more character does not (NAME-1, NAME-2).
func TestRobustNameReuse(t *testing.T) {
	t.Parallel() // it measures nothing
	ts, _ := startLogged(t, impl.Config{})
	r := newRoom(t, ts, "#names", "m", 1)
	n := size(200, 5000)
	// Taken and freed n times over, by QUIT: each newcomer gets it at once.
	for i := range n {
		c := ts.dial(t, "q")
		name := "Reuse"
		if i%2 == 1 {
			name = "rEUSE"
		}
		c.send("USERNAME " + name)
		c.expect("OK Welcome, " + name + "!")
		c.send("QUIT")
		c.expect("OK Goodbye!")
		c.expectClosed()
	}
	// By a disconnect (a close or a reset), once its LEAVE note has been
	// seen in the room: the name is free from that point of ORDER-1 on.
	m0 := r.members[0]
	m0.watch("gone", "GONE")
	for i := range n {
		c := ts.dial(t, "d")
		name := "gone"
		if i%2 == 1 {
			name = "GONE"
		}
		c.send("USERNAME " + name + "\r\nJOIN #names")
		c.expect("OK Welcome, "+name+"!", "OK Joined #names (1 users)", "JOIN #names m0")
		if i%4 >= 2 {
			c.reset()
		} else {
			c.conn.Close()
		}
		m0.waitLeaves(name, i/2+1)
	}
	r.sync()
	if j, l := r.members[0].noteTotals(); j != n || l != n {
		t.Errorf("m0 saw %d JOIN and %d LEAVE notes, want %d of each", j, l, n)
	}
	again := ts.dial(t, "again")
	again.send("USERNAME GoNe")
	again.expect("OK Welcome, GoNe!")

	// The longest names, and one character more.
	c := ts.dial(t, "long")
	long := strings.Repeat("u", spec.MaxNameLen)
	c.send("USERNAME " + long + "x")
	c.expect("ERROR " + spec.ErrInvalidUsername)
	c.send("USERNAME " + long)
	c.expect("OK Welcome, " + long + "!")
	room := "#" + strings.Repeat("R", spec.MaxRoomLen-1)
	c.send("JOIN " + room + "x")
	c.expect("ERROR " + spec.ErrInvalidRoom)
	c.send("JOIN " + room)
	c.expect("OK Joined " + room + " (0 users)")
	c.send("MSG hi")
	c.expect("ROOM " + room + " " + long + " hi")
	other := ts.dial(t, "other")
	other.send("USERNAME " + strings.ToUpper(long))
	other.expect("ERROR " + spec.ErrUsernameTaken)
	r.check(nil)
}

// TestRobustThousandsOfRooms: thousands of users, each in a room of its
// own. ROOMS lists them all, sorted by folded name (ROOMS-1), a case
// variant of one's own room is the same room, and when they leave the
// rooms are gone (LEAVE-3) and the memory they took is back. Each room
// costs the server a bounded amount.
func TestRobustThousandsOfRooms(t *testing.T) {
	n := size(1000, 8000)
	ts, log := startLogged(t, impl.Config{})
	watcher := ts.dial(t, "w")
	watcher.send("USERNAME w")
	watcher.expect("OK Welcome, w!")
	b := newBounds(t, "rooms")

	users := dialCrowd(t, ts.addr, n)
	users.each("USERNAME u%d\r\nJOIN #Room%d\r\n")
	users.expectEach("OK Welcome, u%d!")
	users.expectEach("OK Joined #Room%d (0 users)")
	b.peak(n, 16*KiB, 2.1)

	watcher.send("ROOMS")
	line, err := watcher.readLine()
	if err != nil {
		t.Fatal(err)
	}
	rooms := strings.Fields(strings.TrimPrefix(line, "ROOMLIST"))
	if len(rooms) != n {
		t.Fatalf("ROOMLIST has %d rooms, want %d", len(rooms), n)
	}
	if !slices.IsSortedFunc(rooms, func(a, b string) int { return strings.Compare(spec.Fold(a), spec.Fold(b)) }) {
		t.Errorf("ROOMLIST is not sorted by folded name: %s...", line[:min(len(line), 200)])
	}
	t.Logf("a ROOMLIST of %d rooms is %d bytes", n, len(line))

	users.each("JOIN #ROOM%d\r\n")
	users.expectEach("ERROR " + spec.ErrAlreadyInRoom)
	users.each("LEAVE\r\n")
	users.expectEach("OK Left #Room%d")
	watcher.send("ROOMS")
	watcher.expect("ROOMLIST")
	users.close(false)
	log.waitCount(t, "msg=disconnect", n)
	b.after(n)
	servedNow(t, ts, "newcomer")
}

// TestRobustJoinLeaveLoop: one user joins and leaves a room in a tight
// loop while another watches; every JOIN and LEAVE note arrives, in
// order, and the room's state stays right.
func TestRobustJoinLeaveLoop(t *testing.T) {
	loops := size(5000, 200000)
	ts, _ := startLogged(t, impl.Config{})
	r := newRoom(t, ts, "#loop", "m", 2)
	b := newBounds(t, "join-leave")
	for _, m := range r.members {
		m.watch("jumpy")
	}
	j := ts.dial(t, "jumpy")
	j.send("USERNAME jumpy")
	j.expect("OK Welcome, jumpy!")
	var burst strings.Builder
	for range loops {
		burst.WriteString("JOIN #loop\r\nLEAVE\r\n")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		j.conn.Write([]byte(burst.String()))
	}()
	for i := range loops {
		for _, want := range []string{"OK Joined #loop (2 users)", "JOIN #loop m0", "JOIN #loop m1", "OK Left #loop"} {
			got, err := j.readLine()
			if err != nil || got != want {
				t.Fatalf("round %d: got %q (%v), want %q", i, got, err, want)
			}
		}
	}
	<-done
	r.check(nil)
	for _, m := range r.members {
		if n := m.notesOf("jumpy"); n.joins != loops || n.leaves != loops {
			t.Errorf("%s saw %d JOIN and %d LEAVE notes of jumpy, want %d of each", m.label, n.joins, n.leaves, loops)
		}
	}
	r.members[0].send("USERS")
	r.members[0].expect("USERLIST m0 m1")
	b.after(1)
}
