package impl

import "time"

// clock is the time the server reads for its idle timeouts (idle.go), its
// writers' deadlines (writer.go) and the age of a queue's last write, which
// decides whether output waits for the flush (flush.go). In the server it
// is the monotonic clock with real timers (monotonic); a test of the
// package may stand in for it before the server runs, to stop time or to
// move it on at once. Flow control (flow.go) and the flush and stall
// timers read the monotonic clock directly.
type clock interface {
	// now returns the current reading.
	now() time.Duration
	// newTimer returns a stopped timer that fires by this clock, and the
	// channel it fires on.
	newTimer() (timer, <-chan time.Time)
}

// timer is what the loop does with a *time.Timer.
type timer interface {
	Reset(d time.Duration) bool
	Stop() bool
}

// monotonic is the server's clock: the monotonic clock and real timers.
type monotonic struct{}

func (monotonic) now() time.Duration { return now() }

func (monotonic) newTimer() (timer, <-chan time.Time) {
	t := newStoppedTimer()
	return t, t.C
}

// epoch is the origin of now.
var epoch = time.Now()

// now reads the monotonic clock.
func now() time.Duration { return time.Since(epoch) }

// newStoppedTimer returns a timer that is not running.
func newStoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}
