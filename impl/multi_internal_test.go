package impl

import (
	"io"
	"testing"

	"roomchat.dev/roomchat/spec"
)

// checkHotCounts fails the test unless each room's count of hot members
// is the number of its members that are hot (flow.go).
func checkHotCounts(t *testing.T, l *loop) {
	t.Helper()
	for _, r := range l.rooms {
		n := 0
		for _, m := range r.members {
			if m.hot {
				n++
			}
		}
		if r.hot != n {
			t.Fatalf("room %s counts %d hot members, has %d", r.name, r.hot, n)
		}
	}
}

// TestHotInEveryRoom: a hot member of several rooms is hot in each
// (MULTI-8): a line into any of its rooms waits for it, and each room's
// count of hot members follows its hot transitions, and its joining and
// leaving rooms while hot, up to its end, which leaves every room and
// lets the waiting lines run. The loop is driven by hand; the rooms it
// joins and leaves while hot are changed by the loop's own functions,
// since its own lines would wait for itself.
func TestHotInEveryRoom(t *testing.T) {
	// Every line is written at once; alice and bob are core, in #r.
	h := newHandLoop(t, Config{Offer: spec.ExtRooms, CoalesceDelay: -1})
	alice, bob := twoInRoom(h)
	x := h.connect()
	h.send(x, "CAPS rooms")
	x.expect("OK Enabled rooms")
	h.send(x, "USERNAME x")
	x.expect("OK Welcome, x!")
	h.send(x, "JOIN #r")
	x.expect("OK Joined #r (2 users)", "JOIN #r alice", "JOIN #r bob")
	alice.expect("JOIN #r x")
	bob.expect("JOIN #r x")
	h.send(x, "JOIN #s")
	x.expect("OK Joined #s (0 users)")
	carol := h.connect()
	h.send(carol, "USERNAME carol")
	carol.expect("OK Welcome, carol!")
	h.send(carol, "JOIN #s")
	carol.expect("OK Joined #s (1 users)", "JOIN #s x")
	x.expect("JOIN #s carol")
	checkHotCounts(t, h.l)

	h.l.setOver(x.client, true)
	checkHotCounts(t, h.l)
	if h.l.rooms["#r"].hot != 1 || h.l.rooms["#s"].hot != 1 {
		t.Fatalf("x is hot, but #r counts %d hot members and #s %d", h.l.rooms["#r"].hot, h.l.rooms["#s"].hot)
	}
	h.send(alice, "MSG one")
	h.send(carol, "MSG two")
	if alice.deferred == nil || carol.deferred == nil {
		t.Fatal("a line into a room of the hot x did not wait")
	}
	h.send(bob, "PRIVMSG bob not to x") // adds nothing to x: it runs
	bob.expect("OK Sent", "PRIVMSG bob not to x")

	h.l.joinRoom(x.client, "#t")
	h.l.settle() // the end of the turn, which starts the writers
	x.expect("OK Joined #t (0 users)")
	checkHotCounts(t, h.l)
	h.l.leaveRoom(x.client, h.l.rooms["#s"])
	h.l.settle()
	carol.expect("LEAVE #s x")
	checkHotCounts(t, h.l)
	if h.l.rooms["#t"].hot != 1 || h.l.rooms["#s"].hot != 0 {
		t.Fatalf("#t counts %d hot members, #s %d; want 1 and 0", h.l.rooms["#t"].hot, h.l.rooms["#s"].hot)
	}
	h.l.setOver(x.client, false)
	checkHotCounts(t, h.l)
	h.l.setOver(x.client, true)
	checkHotCounts(t, h.l)

	// x's end: it leaves #r and #t, in that order; the lines that waited
	// for it run.
	h.end(x, io.EOF)
	checkHotCounts(t, h.l)
	if h.l.rooms["#t"] != nil {
		t.Error("#t, left empty, still exists")
	}
	alice.expect("LEAVE #r x", "ROOM #r alice one")
	bob.expect("LEAVE #r x", "ROOM #r alice one")
	carol.expect("ROOM #s carol two")
	x.expectEOF()
}
