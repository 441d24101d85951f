package impl_test

import (
	"fmt"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestRobustMaxClients: the server is full, and hundreds of connections
// beyond the limit come and are refused with "ERROR Server full" (LIMIT-2),
// one after the other and many at once, while the members inside talk and
// lose nothing. Refused connections leave nothing behind. Slots freed by
// QUIT or by a disconnect (once its LEAVE is seen) are taken at once, and a
// single slot can be taken and freed hundreds of times in a row (LIMIT-1).
func TestRobustMaxClients(t *testing.T) {
	max := size(50, 5000)
	refused := size(500, 20000)
	ts, log := startLogged(t, impl.Config{MaxClients: max})
	r := newRoom(t, ts, "#full", "m", 2)
	fill := dialCrowd(t, ts.addr, max-2)
	fill.each("PING %d\r\n")
	fill.expectEach("PONG %d")
	b := newBounds(t, "max-clients")

	// One after the other, while m0 talks.
	for i := range refused {
		expectRefused(t, ts)
		if i%50 == 0 {
			r.say(0, 5, 20)
		}
	}
	// Many at once.
	burst := dialCrowd(t, ts.addr, 100)
	burst.expectEach("ERROR " + spec.ErrServerFull)
	burst.expectGoneEach()
	burst.close(false)
	r.check(nil)
	log.waitCount(t, "reason=server-full", refused+100)
	b.after(refused + 100)

	// Ten slots freed by QUIT are taken at once, and the next is refused.
	for _, c := range fill.clients[:10] {
		c.send("QUIT")
	}
	for _, c := range fill.clients[:10] {
		c.expect("OK " + spec.OKGoodbye)
	}
	in := dialCrowd(t, ts.addr, 10)
	in.each("USERNAME in%d\r\n")
	in.expectEach("OK Welcome, in%d!")
	c := ts.dial(t, "y")
	c.expect("ERROR " + spec.ErrServerFull)
	c.expectClosed()

	// A slot freed by a disconnect is free once its LEAVE is seen.
	r.members[0].watch("m1")
	r.members[1].stop()
	r.members[0].waitLeaves("m1", 1)
	r.members = r.members[:1]
	c = ts.dial(t, "m1")
	c.send("USERNAME m1")
	c.expect("OK Welcome, m1!")

	// One slot, taken and freed by QUIT, hundreds of times in a row.
	in.clients[0].send("QUIT")
	in.clients[0].expect("OK " + spec.OKGoodbye)
	for i := range size(300, 10000) {
		c := ts.dial(t, "q")
		name := fmt.Sprintf("q%d", i)
		c.send("USERNAME " + name)
		c.expect("OK Welcome, " + name + "!")
		c.send("QUIT")
		c.expect("OK Goodbye!")
		c.expectClosed()
	}
	r.say(0, 5, 20)
	r.check(nil)
}

// expectRefused connects to ts and checks that the server refuses the
// connection: "ERROR Server full", then the close (LIMIT-2).
func expectRefused(t testing.TB, ts *testServer) {
	t.Helper()
	c := dialAddr(t, ts.addr, "refused", dialConfig{uncleaned: true})
	defer c.conn.Close()
	c.expect("ERROR " + spec.ErrServerFull)
	c.expectGone()
}
