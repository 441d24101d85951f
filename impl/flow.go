package impl

import (
	"math"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Flow control (LIMIT-3, LIMIT-4, LIMIT-8 to LIMIT-10, D-12).
//
// Output is queued, never waited for: a client's queue absorbs any burst up
// to MaxQueueBytes, and a client whose pending output would pass it is a
// slow consumer, closed at once with a reset (loop.send, loop.kill).
//
// Before that, the loop may pace, within a budget. A client whose pending
// output is over a soft high-water mark (Config.highWater) is "over"; if
// it also has stall budget left it is "hot". Before the loop applies a
// line it asks the gate whether the line could add output to a hot client
// — the members of the room the line goes to (or, for a QUIT, of each of
// the sender's rooms), the room a JOIN enters, the target of a PRIVMSG —
// or whether the sender itself is over. If so, the line is postponed: the
// loop keeps it, registers the sender as a waiter on each such client, and
// does not resume the sender's reader, whose socket buffers then fill, so
// that TCP slows the sending client. The postponed
// line runs, in the order it was taken, when every client it waits for has
// drained to the low-water mark, or is closed, or has spent its budget.
//
// The budget (LIMIT-9): the time during which any other client's line
// waits for a client is charged to that client, and once
// Config.StallBudget is spent over its connection it is never hot again:
// output to it is only queued, until it drains or passes MaxQueueBytes.
// Nor do one client's lines, in all, wait for others for more than
// StallBudget over its connection (waitLeft): with several clients that stop
// reading one after another, the stalls a sender sees do not add up. One
// timer (stallTimer) fires at the earliest moment a budget or a line's wait
// runs out. A client that stops reading thus holds its room back once, for
// StallBudget at most; one that reads a trickle cannot hold its room to its
// pace; and no sender is held back for others longer than StallBudget,
// however many of them stop reading. A sender that is over itself waits for itself without
// limit: that delays nobody else, and it holds a client that sends faster
// than it reads its own echoes to its reading pace, instead of dropping it.
//
// A member of several rooms (PROTOCOL.md 13.4) is one client: it is hot in
// every room it is in (each room counts it in room.hot), so that a line
// into any of them waits for it, and its budgets are its own, however many
// rooms it is in (MULTI-8).
//
// Reading stays fair (LIMIT-12): every reader hands over a batch of at most
// readBatch lines and waits; blocked senders on the loop's channel are
// served in turn, and a postponed sender only waits for the clients it
// would write to.

// waiter is a sender waiting for a hot client to drain. gen is the
// sender's deferGen when it started waiting: a line that stopped waiting
// early (its own budget ran out) leaves entries with an older gen, which
// are ignored.
type waiter struct {
	c   *client
	gen uint32
}

// gate reports whether c's line must wait, and if so postpones it: c
// waits on every hot client the line could add output to, unless its lines
// have waited StallBudget for others already, and on itself if it is over. The
// recipients are over-approximated from c's state and the command, which
// may postpone a line needlessly but never lets one through to a hot
// client within the budget.
func (l *loop) gate(c *client, it item) bool {
	if l.cfg.StallBudget < 0 {
		return false // pacing is off
	}
	if it.errText == "" && it.cmd.Kind == spec.Empty {
		return false // FRAME-6: no output at all
	}
	t := now()
	hot := l.scratch[:0]
	if c.waitLeft > 0 && (c.deferredAt == 0 || t-c.deferredAt < c.waitLeft) {
		hot = l.collectRecipients(hot, c, it)
	}
	l.scratch = hot[:0]
	if len(hot) == 0 && !c.over {
		return false
	}
	c.deferGen++
	for _, h := range hot {
		h.waiters = append(h.waiters, waiter{c: c, gen: c.deferGen})
		if !h.stalling {
			h.stalling, h.stallFrom = true, t
			l.watch(&l.stallers, h, &h.listed)
			l.armStall(t + h.stallLeft)
		}
	}
	c.waitCount = len(hot)
	if c.over {
		c.waiters = append(c.waiters, waiter{c: c, gen: c.deferGen})
		c.waitCount++
	}
	if len(hot) > 0 && c.deferredAt == 0 {
		c.deferredAt = t
		l.watch(&l.postponed, c, &c.postponedListed)
		l.armStall(t + c.waitLeft)
	}
	clear(hot)
	d := it // only a postponed line goes to the heap
	c.deferred = &d
	return true
}

// collectRecipients appends to hot the hot clients other than c that c's
// line could add output to.
func (l *loop) collectRecipients(hot []*client, c *client, it item) []*client {
	if it.errText != "" {
		return hot // an ERROR goes to c alone
	}
	l.gateEpoch++
	c.gateMark = l.gateEpoch // c itself is handled by the caller
	multi := c.ext.Has(spec.ExtRooms)
	switch it.cmd.Kind {
	case spec.Quit: // every room hears LEAVE (QUIT-2, MULTI-7)
		for _, r := range c.rooms {
			hot = l.collectHotMembers(hot, r)
		}
	case spec.Text: // the user's room, if it has exactly one (MSG-4, MULTI-5)
		if len(c.rooms) == 1 {
			hot = l.collectHotMembers(hot, c.rooms[0])
		}
	case spec.Msg, spec.Leave: // the user's room, or the one named (MULTI-3, MULTI-4)
		if multi {
			if r := c.roomOf(it.cmd.Arg); r != nil {
				hot = l.collectHotMembers(hot, r)
			}
		} else if len(c.rooms) > 0 {
			hot = l.collectHotMembers(hot, c.rooms[0])
		}
	case spec.Join: // the room entered, and the room left (JOIN-3) unless rooms (MULTI-2)
		if !multi && len(c.rooms) > 0 {
			hot = l.collectHotMembers(hot, c.rooms[0])
		}
		if r := l.rooms[spec.Fold(it.cmd.Arg)]; r != nil {
			hot = l.collectHotMembers(hot, r)
		}
	case spec.Privmsg:
		if t := l.users[spec.Fold(it.cmd.Arg)]; t != nil {
			hot = l.collectHot(hot, t)
		}
	}
	return hot
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

// setOver records that c's pending output is over high water, or back
// under it; c is then hot if it has stall budget left.
func (l *loop) setOver(c *client, over bool) {
	c.over = over
	l.setHot(c, over && c.stallLeft > 0)
}

// setHot records whether c may hold back other clients' lines (it is over
// high water with budget left), keeping the count of hot members of each
// of its rooms (MULTI-8: a client hot in one of its rooms is hot in all).
func (l *loop) setHot(c *client, hot bool) {
	if c.hot == hot {
		return
	}
	c.hot = hot
	d := -1
	if hot {
		d = 1
	}
	for _, r := range c.rooms {
		r.hot += d
	}
}

// onDrained handles a writer's report that c's queue is at low water.
func (l *loop) onDrained(c *client) {
	if !c.over || c.out.stillHot(l.highWater) {
		return
	}
	l.setOver(c, false)
	l.release(c)
}

// release ends c's stall, if it is stalling senders, charging its budget
// with the time it lasted, and lets its waiters go: those that wait for
// nobody else any more become ready to run their line (loop.settle).
func (l *loop) release(c *client) {
	if c.stalling {
		c.stalling = false
		c.stallLeft = max(0, c.stallLeft-(now()-c.stallFrom))
	}
	for _, w := range c.waiters {
		s := w.c
		if w.gen != s.deferGen || !s.reading() || s.deferred == nil {
			continue
		}
		if s.waitCount--; s.waitCount == 0 {
			l.ready = append(l.ready, s)
		}
	}
	clear(c.waiters)
	c.waiters = c.waiters[:0]
}

// endWait charges c's waiting budget with the time its line, about to
// run, waited for other clients (since deferredAt).
func (l *loop) endWait(c *client) {
	if c.deferredAt != 0 {
		c.waitLeft = max(0, c.waitLeft-(now()-c.deferredAt))
		c.deferredAt = 0
	}
}

// watch puts c on list unless *listed says it is there already. The lists
// of the stall timer are pruned lazily, when it fires.
func (l *loop) watch(list *[]*client, c *client, listed *bool) {
	if !*listed {
		*listed = true
		*list = append(*list, c)
	}
}

// armStall makes sure the stall timer fires no later than at (a now()
// reading).
func (l *loop) armStall(at time.Duration) {
	if l.stallArmed && at >= l.stallAt {
		return
	}
	l.stallArmed, l.stallAt = true, at
	l.stallTimer.Reset(at - now())
}

// onStallTimer ends the stalls whose client has spent its budget, and the
// waits of lines whose sender has spent what it may wait for others, then
// arms the timer for the next such moment.
func (l *loop) onStallTimer() {
	l.stallArmed = false
	t := now()
	next := time.Duration(math.MaxInt64)
	keep := l.stallers[:0]
	for _, h := range l.stallers {
		switch end := h.stallFrom + h.stallLeft; {
		case !h.stalling || h.phase == phaseClosed:
			h.listed = false
		case end <= t:
			h.listed = false
			l.release(h) // charges the whole budget
			h.stallLeft = 0
			l.setHot(h, false) // never again (LIMIT-9); it may still be over
			l.log.Info("stall budget spent", "conn", h.id, "user", h.name)
		default:
			next = min(next, end)
			keep = append(keep, h)
		}
	}
	clear(l.stallers[len(keep):])
	l.stallers = keep
	keepP := l.postponed[:0]
	for _, c := range l.postponed {
		switch end := c.deferredAt + c.waitLeft; {
		case c.deferred == nil || !c.reading():
			c.postponedListed = false
		case end <= t:
			// The sender has waited for others as long as it may: the
			// line runs now, whoever it waits for; its entries in their
			// waiter lists are stale.
			c.postponedListed = false
			c.deferGen++
			c.waitCount = 0
			l.ready = append(l.ready, c)
		default:
			next = min(next, end)
			keepP = append(keepP, c)
		}
	}
	clear(l.postponed[len(keepP):])
	l.postponed = keepP
	if next != math.MaxInt64 {
		l.armStall(next)
	}
}
