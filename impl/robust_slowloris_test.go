package impl_test

import (
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestRobustSlowloris: hundreds of connections hold on to the server
// without finishing a line: some never send a byte (never USERNAME), some
// send half a line and stop, some dribble a line out a byte at a time. Each
// costs the server a bounded amount of memory and two goroutines; the
// members of a room talk all the while and lose nothing; a newcomer is
// served at once; when the attackers finish their lines they are answered,
// and when they leave, the server is back to its baseline.
func TestRobustSlowloris(t *testing.T) {
	n := size(200, 2500) // of each kind
	ts, log := startLogged(t, impl.Config{})
	r := newRoom(t, ts, "#calm", "m", 3)
	b := newBounds(t, "slowloris")

	silent := dialCrowd(t, ts.addr, n)
	partial := dialCrowd(t, ts.addr, n)
	partial.each("USERNAME p%d")
	dribble := dialCrowd(t, ts.addr, n)
	line := "PING drip\r\n"
	for i := range len(line) - 1 { // all but the LF, one byte per round
		dribble.each(line[i : i+1])
		r.say(i%3, 5, 20)
	}
	r.check(nil)
	servedNow(t, ts, "newcomer")
	// 512 bytes of line buffer, a client and two goroutines per connection.
	b.peak(3*n, 16*KiB, 2.1)

	dribble.each("\n")
	dribble.expectEach("PONG drip")
	partial.each("\r\n")
	partial.expectEach("OK Welcome, p%d!")
	silent.each("PING\r\n")
	silent.expectEach("PONG")
	r.say(0, 10, 20)
	r.check(nil)

	silent.close(false)
	partial.close(true)
	dribble.close(false)
	log.waitCount(t, "msg=disconnect", 1+3*n) // with the newcomer
	b.after(3 * n)
	servedNow(t, ts, "late")
	r.check(nil)
}

// TestRobustSlowlorisIdle: with an idle timeout, the server sheds
// slowloris connections by itself. Bytes that do not complete a line are
// not activity (LIMIT-7), so a connection dribbling a line is closed like
// one that sends nothing, with "ERROR Idle timeout", while the members of a
// room, who send lines, stay and lose nothing.
//
// The server's clock is the test's (impl.JumpClock), and the IdleTimeout of
// an hour passes only when the test moves the clock on: who has been idle
// for it is decided by the order of events, never by how fast the machine
// is. (With an IdleTimeout of a second of real time, the members were timed
// out with the attackers when setting up the attack took most of it.)
func TestRobustSlowlorisIdle(t *testing.T) {
	const idle = time.Hour
	n := size(100, 2000)
	clock := new(impl.JumpClock)
	ts, log := startLogged(t, impl.Config{IdleTimeout: idle}, func(s *impl.Server) { s.UseClockForTest(clock) })
	r := newRoom(t, ts, "#calm", "m", 2)
	b := newBounds(t, "slowloris-idle")

	silent := dialCrowd(t, ts.addr, n)
	partial := dialCrowd(t, ts.addr, n)
	partial.each("USERNAME p%d")
	dribble := dialCrowd(t, ts.addr, n)
	dribble.each("PI")
	log.waitCount(t, "msg=connect", 2+3*n) // every attacker is registered, and idle from now on

	// Nearly an hour later, the members talk, and the dribblers dribble.
	clock.Jump(idle - time.Minute)
	r.say(0, 5, 20)
	r.say(1, 5, 20)
	r.sync()
	dribble.each("NG d")
	// An hour after the attackers came, the members have been idle for a
	// minute; the attackers, whatever bytes they sent, for an hour.
	clock.Jump(time.Minute)
	for _, cr := range []*crowd{silent, partial, dribble} {
		cr.expectEach("ERROR " + spec.ErrIdleTimeout)
		cr.expectGoneEach()
	}
	log.waitCount(t, "reason=idle-timeout", 3*n)
	b.after(3 * n)
	servedNow(t, ts, "newcomer")
	if got := log.count("reason=idle-timeout"); got != 3*n {
		t.Errorf("%d idle timeouts logged, want %d: the members were closed too", got, 3*n)
	}
	r.check(nil)
}
