package impl

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ServeConnForTest hands conn to the server as if Serve had accepted it, so
// that benchmarks can use in-memory connections. It fails after Shutdown.
func (s *Server) ServeConnForTest(conn net.Conn) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return errors.New("impl: server closed")
	}
	s.startLoopLocked()
	s.wg.Add(1) // as a Serve call would hold it, for refusals
	s.mu.Unlock()
	defer s.wg.Done()
	s.handle(conn)
	return nil
}

// useClock makes the server read c instead of the monotonic clock
// (clock.go). The server must not run yet.
func (s *Server) useClock(c clock) {
	s.clock = c
	s.loop.idleTimer, s.loop.idleFired = c.newTimer()
	s.loop.countsTimer, s.loop.countsFired = c.newTimer()
	s.loop.counts.since = c.now()
}

// UseClockForTest makes the server read c for its idle timeouts, its
// writers' deadlines, the coalescing of writes and the period of its
// connection counts (clock.go, log.go). Call it before Serve.
func (s *Server) UseClockForTest(c *JumpClock) { s.useClock(c) }

// JumpClock is a clock for a server under test: it runs with the monotonic
// clock, and Jump moves it on at once, firing the server's idle timer if
// that is then due. An IdleTimeout of an hour thus passes exactly when the
// test says so. The zero value is ready to use.
type JumpClock struct {
	mu     sync.Mutex
	ahead  time.Duration // how far it is ahead of the monotonic clock
	timers []*jumpTimer
}

func (c *JumpClock) now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return now() + c.ahead
}

func (c *JumpClock) newTimer() (timer, <-chan time.Time) {
	t := &jumpTimer{clock: c, fired: make(chan time.Time, 1)}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return t, t.fired
}

// Jump moves the clock d on and fires the timers that are then due.
func (c *JumpClock) Jump(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ahead += d
	at := now() + c.ahead
	for _, t := range c.timers {
		if t.armed && t.at <= at {
			t.fireLocked()
		}
	}
}

// jumpTimer is a timer of a JumpClock. It fires when its time comes on the
// monotonic clock (a real timer) or when a jump passes it, whichever is
// first. Its fields are guarded by clock.mu.
type jumpTimer struct {
	clock *JumpClock
	fired chan time.Time
	armed bool
	at    time.Duration // when it is due, by the clock
	gen   int           // counts Reset and Stop calls, so that a stale real timer does not fire it
	real  *time.Timer
}

func (t *jumpTimer) Reset(d time.Duration) bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := t.stopLocked()
	t.armed, t.at = true, now()+t.clock.ahead+d
	gen := t.gen
	t.real = time.AfterFunc(d, func() {
		t.clock.mu.Lock()
		defer t.clock.mu.Unlock()
		if t.gen == gen && t.armed {
			t.fireLocked()
		}
	})
	return was
}

func (t *jumpTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	return t.stopLocked()
}

// stopLocked disarms t and drops a value it fired and nobody took, as a
// time.Timer does.
func (t *jumpTimer) stopLocked() bool {
	was := t.armed
	t.armed = false
	t.gen++
	if t.real != nil {
		t.real.Stop()
	}
	select {
	case <-t.fired:
	default:
	}
	return was
}

func (t *jumpTimer) fireLocked() {
	t.armed = false
	t.gen++
	if t.real != nil {
		t.real.Stop()
	}
	select {
	case t.fired <- time.Now():
	default:
	}
}

// FakeCluster is a cluster whose log is in memory (clusterfake_test.go):
// its nodes are servers of one test process.
type FakeCluster struct{ hub fakeHub }

// Node returns the cluster configuration of a node called name.
func (c *FakeCluster) Node(name string) *ClusterConfig {
	return &ClusterConfig{Node: name, link: c.hub.link(name)}
}

// Kill cuts the node called name off, as a crash would, and tells the
// other nodes that its heartbeats stopped.
func (c *FakeCluster) Kill(name string) { c.hub.kill(name) }

// Revive gives the node called name back its link, as for a node that was
// paused rather than dead, and lets it find the others silent.
func (c *FakeCluster) Revive(name string) { c.hub.revive(name) }
