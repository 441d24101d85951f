package impl_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// room is a set of well-behaved clients in one room, each following it
// (harness_follow_test.go), who talk with numbered messages and check that
// everyone receives everything in order.
type room struct {
	t       testing.TB
	name    string
	members []*testClient
	sent    map[string]int // sender -> messages sent so far
}

// newRoom connects n members called <prefix>0 ... and has them join room
// one after the other, checking the roster and notes of JOIN-4 and JOIN-5;
// then each follows the room.
func newRoom(t testing.TB, ts *testServer, roomName, prefix string, n int) *room {
	t.Helper()
	r := &room{t: t, name: roomName, sent: map[string]int{}}
	var names []string
	for i := range n {
		name := prefix + strconv.Itoa(i)
		c := ts.dial(t, name)
		enterRoom(c, name, roomName, r.members, names)
		r.members = append(r.members, c)
		names = append(names, name)
	}
	for _, c := range r.members {
		c.follow(roomName, names...)
	}
	return r
}

// messages returns n room messages of sender, numbered from first, with
// pad bytes of padding each, as one buffer to write.
func messages(sender string, first, n, pad int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "MSG %s-%d %s\r\n", sender, i, strings.Repeat("p", pad))
	}
	return b
}

// say has member i send n numbered messages of pad bytes of padding, in
// one write.
func (r *room) say(i, n, pad int) {
	m := r.members[i]
	m.write(messages(m.label, r.sent[m.label], n, pad))
	r.sent[m.label] += n
}

// sync is a barrier for every member, twice over: after it, every line any
// member sent before has been processed, and every member has received
// what it caused.
func (r *room) sync() {
	r.t.Helper()
	syncAll(r.members...)
	syncAll(r.members...)
}

// check syncs, then fails the test unless every member has received every
// numbered message of every sender in sent, and of the extra senders as
// many as given, in order, and nothing unexpected.
func (r *room) check(extra map[string]int) {
	r.t.Helper()
	r.sync()
	for _, m := range r.members {
		if errs := m.followErrors(); len(errs) > 0 {
			r.t.Fatalf("%s", strings.Join(errs, "\n"))
		}
		for _, want := range []map[string]int{r.sent, extra} {
			for sender, n := range want {
				if got := m.received(sender); got != n {
					r.t.Errorf("%s received %d messages of %s, want %d", m.label, got, sender, n)
				}
			}
		}
		if line, ok := m.unexpected(); ok {
			r.t.Errorf("%s: unexpected %q", m.label, line)
		}
	}
}

// servedNow checks that the server serves a newcomer at once: it
// registers, joins a room of its own and leaves.
func servedNow(t testing.TB, ts *testServer, name string) {
	t.Helper()
	c := ts.dial(t, name)
	c.join(name, "#"+name)
	c.send("QUIT")
	c.expect("OK Goodbye!")
	c.expectClosed()
}
