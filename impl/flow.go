package impl

import "roomchat.dev/roomchat/spec"

// Flow control (LIMIT-3 to LIMIT-6, D-12).
//
// A fixed cap on output queues would disconnect healthy readers during a
// burst, so the cap is the last defence, not the first. The first is a soft
// high-water mark (Config.highWater): a client whose pending output is over
// it is "hot". Before the loop applies a line it asks the gate whether the
// line could add output to a hot client — the sender itself, the members of
// the sender's room, the room a JOIN enters, the target of a PRIVMSG. If so,
// the line is deferred: the loop keeps it, registers the sender as a waiter
// on each hot client, and does not resume the sender's reader. That reader
// stops reading, its socket buffers fill, and TCP slows the sending client.
// When a hot client's writer reports that it has drained to the low-water
// mark (or the hot client is closed), its waiters are released, and a
// sender released by all of them has its line applied then, in the order it
// was taken.
//
// So a client's queue passes high water by at most one item's output plus
// what cannot be deferred (the LEAVE notes of disconnects, limit events),
// and only a client that has truly stopped reading is disconnected: when
// its socket accepts no byte for WriteTimeout (the writer's deadline), or
// when its queue would pass MaxQueueBytes (loop.send), which takes output
// that could not be held back. Its waiters are released as it closes.
//
// Reading stays fair (LIMIT-6): every reader hands over one line and waits;
// blocked senders on the loop's channel are served in turn, and a deferred
// sender only waits for the clients it would write to.

// gate reports whether c's line must wait because it could add output to
// a hot client, and if so defers it: c waits on every such client. The
// recipients are over-approximated from c's state and the command, which
// may delay a line needlessly but never lets one through to a hot client.
func (l *loop) gate(c *client, it item) bool {
	if it.errText == "" && it.cmd.Kind == spec.Empty {
		return false // FRAME-6: no output at all
	}
	l.gateEpoch++
	hot := l.scratch[:0]
	hot = l.collectHot(hot, c)
	if it.errText == "" {
		switch it.cmd.Kind {
		case spec.Text, spec.Msg, spec.Leave, spec.Quit, spec.Join:
			if c.room != nil {
				hot = l.collectHotMembers(hot, c.room)
			}
		}
		switch it.cmd.Kind {
		case spec.Join:
			if r := l.rooms[spec.Fold(it.cmd.Arg)]; r != nil {
				hot = l.collectHotMembers(hot, r)
			}
		case spec.Privmsg:
			if t := l.users[spec.Fold(it.cmd.Arg)]; t != nil {
				hot = l.collectHot(hot, t)
			}
		}
	}
	l.scratch = hot[:0]
	if len(hot) == 0 {
		return false
	}
	for _, h := range hot {
		h.waiters = append(h.waiters, c)
	}
	clear(hot)
	c.waitCount = len(hot)
	d := it // only a deferred line goes to the heap
	c.deferred = &d
	return true
}

// collectHot appends c to hot if it is hot and not yet collected.
func (l *loop) collectHot(hot []*client, c *client) []*client {
	if c.hot && c.gateMark != l.gateEpoch {
		c.gateMark = l.gateEpoch
		hot = append(hot, c)
	}
	return hot
}

// collectHotMembers appends r's hot members to hot.
func (l *loop) collectHotMembers(hot []*client, r *room) []*client {
	if r.hot == 0 {
		return hot
	}
	for _, m := range r.members {
		hot = l.collectHot(hot, m)
	}
	return hot
}

// setHot records that c's pending output went over high water (or came
// back), keeping its room's count of hot members.
func (l *loop) setHot(c *client, hot bool) {
	if c.hot == hot {
		return
	}
	c.hot = hot
	if c.room != nil {
		if hot {
			c.room.hot++
		} else {
			c.room.hot--
		}
	}
}

// onDrained handles a writer's report that c's queue is at low water.
func (l *loop) onDrained(c *client) {
	if !c.hot || c.out.stillHot(l.highWater) {
		return
	}
	l.setHot(c, false)
	l.release(c)
}

// release lets go of the senders waiting for c; those that wait for nobody
// else any more become ready to run their line (loop.settle).
func (l *loop) release(c *client) {
	for _, w := range c.waiters {
		if w.closed || w.doomed {
			continue
		}
		if w.waitCount--; w.waitCount == 0 {
			l.ready = append(l.ready, w)
		}
	}
	clear(c.waiters)
	c.waiters = c.waiters[:0]
}
