package impl

import (
	"time"

	"roomchat.dev/roomchat/spec"
)

// The idle timeout (LIMIT-7). The loop keeps its clients in a list ordered
// by the time their last line arrived, oldest first: a line moves its client
// to the back. One timer is armed for the oldest, so checking costs nothing
// per line and nothing per client that is not due.

// touch records that a line from c arrived now.
func (l *loop) touch(c *client) {
	c.lastActive = l.activeNow()
	l.idle.MoveToBack(c.idleElem)
}

// activeNow returns the time to record as a client's last activity: the
// server's clock, read once a turn of the loop. A turn takes at most
// turnReads lines from readers, a few milliseconds even in a big room,
// against an idle timeout of seconds; and a clock read for every line
// was a few per cent of the loop's work flat out.
func (l *loop) activeNow() time.Duration {
	if !l.turnClockRead {
		l.turnClock, l.turnClockRead = l.srv.clock.now(), true
	}
	return l.turnClock
}

// armIdle arms the timer for the oldest client, if it is not armed. A timer
// armed for a client that has since been active fires early; onIdleTimer
// then just arms it again.
func (l *loop) armIdle() {
	if l.idleArmed {
		return
	}
	front := l.idle.Front()
	if front == nil {
		return
	}
	l.idleTimer.Reset(front.Value.(*client).lastActive + l.cfg.IdleTimeout - l.srv.clock.now())
	l.idleArmed = true
}

// onIdleTimer closes every client whose idle time has passed, each as one
// item of ORDER-1: "ERROR Idle timeout", then the close with LEAVE to its
// room. A client whose line is held back by flow control, waits for work
// outside the loop (async.go) or is paused after a failed login
// (logins.go) is not idle: the server is the slow one.
func (l *loop) onIdleTimer() {
	l.idleArmed = false
	t := l.srv.clock.now()
	for e := l.idle.Front(); e != nil; e = l.idle.Front() {
		c := e.Value.(*client)
		if t-c.lastActive < l.cfg.IdleTimeout {
			break
		}
		if c.deferred != nil || c.task != nil || c.pauseUntil != 0 {
			l.touch(c)
			continue
		}
		if l.clustered() {
			// The timeout applies when its entry comes back from the
			// log (clusternode.go); until then the client is not timed.
			l.idle.Remove(e)
			l.publishMust(entry{kind: entryIdle, conn: c.id})
			continue
		}
		c.freeSlot() // before the notice, which a writer may send at once (DISC-4)
		l.reply(c, spec.ErrorLine(spec.ErrIdleTimeout))
		l.closeClient(c, closeCause{reason: IdleTimeout, detail: "no line for " + l.cfg.IdleTimeout.String()})
		l.settleItems()
	}
	l.armIdle()
}
