package impl

// Write coalescing.
//
// A write system call costs far more than the bytes it carries, so output
// that arrives while a client's writer is busy waits and goes out with the
// next write (writer.go). At a moderate, steady rate a queue is empty
// between lines, and each line would cost a write of its own: a member of a
// room where a few thousand lines a second are said would receive them one
// system call each.
//
// So a queue that was written to less than Config.CoalesceDelay ago does not
// start its writer at once for a line caused by another client; the loop
// puts the client on its flush list and starts the writers of every client
// on it when one timer fires, CoalesceDelay after the first was put there.
// A busy client thus receives at most about one write per CoalesceDelay,
// whatever the rate, and each line waits at most CoalesceDelay more.
//
// Output that answers the client's own line (its replies, the echo of its
// message, its PONG) is urgent and is written at once, with whatever waits
// before it; so is output to a client not written to recently. A client in
// a conversation, or one that uses PING as a barrier, never waits for the
// timer.

// flushLater puts c on the flush list, arming the flush timer if the list
// was empty.
func (l *loop) flushLater(c *client) {
	if c.flushQueued {
		return
	}
	c.flushQueued = true
	l.flushList = append(l.flushList, c)
	if !l.flushArmed {
		l.flushArmed = true
		l.flushTimer.Reset(l.cfg.CoalesceDelay)
	}
}

// onFlushTimer starts the writer of every client on the flush list that
// still has lines waiting and none running.
func (l *loop) onFlushTimer() {
	l.flushArmed = false
	for _, c := range l.flushList {
		c.flushQueued = false
		if c.out.flush() {
			l.startWriter(c)
		}
	}
	clear(l.flushList)
	l.flushList = l.flushList[:0]
}
