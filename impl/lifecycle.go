package impl

import (
	"context"
	"time"
)

// The life of a client, as the loop sees it.
//
// A client is open from register until something ends it. A slow
// consumer is doomed first: its output is dropped at once and it is closed
// as soon as the current item is done (LIMIT-8). A client whose socket
// fails for writing is mute: its output is dropped, but the lines it sent
// before are still processed (DISC-2) until its reader reports the end of
// the stream. Every path ends in closed, once: the loop forgets the client
// and ignores its late events.
//
//	open ──► doomed ──────► closed
//	  │                       ▲
//	  ├──► mute ──────────────┤
//	  └───────────────────────┘
//
// How a connection ends is decided by the reason it is closed for
// (closeRules), and by whether its output was dropped already.

// phase is where a client is in its life. Owned by the loop; it only moves
// forward, from open to closed.
type phase uint8

const (
	phaseOpen   phase = iota // its lines are processed and output to it is queued
	phaseDoomed              // a slow consumer: output dropped, closed after the current item (loop.settle)
	phaseMute                // its socket failed for writing: output dropped, lines still processed until the end of its stream
	phaseClosed              // forgotten by the loop; its late events are ignored
)

// closeCause is why a connection ends: the reason, which decides how it
// ends (closeRules) and is logged, and a detail for the log in more words.
type closeCause struct {
	reason CloseReason
	detail string
}

// ending is what becomes of a connection's socket and queued output.
type ending uint8

const (
	// endGraceful writes what is queued, then half-closes, lingers and
	// closes (writer.closeGracefully), so that the client reads every line
	// before the end (QUIT-1, DISC-2, SHUT-1). For a client whose output
	// was dropped already there is nothing to write: its socket is simply
	// closed.
	endGraceful ending = iota
	// endReset drops what is queued and resets the connection, so that its
	// buffers are freed at once (LIMIT-8).
	endReset
)

// closeRule says how a connection closed for one reason ends.
type closeRule struct {
	end   ending
	leave bool // the rooms hear LEAVE <room> <user>
}

// closeRules is how a connection ends, by the reason it is closed for.
// ServerFull is absent: a refused connection never reaches the loop.
var closeRules = [...]closeRule{
	Quit:         {endGraceful, true},  // QUIT-1, QUIT-2: "OK Goodbye!" is read before the close
	Disconnected: {endGraceful, true},  // DISC-1, DISC-2: the replies to the lines before the end are written
	IdleTimeout:  {endGraceful, true},  // LIMIT-7: "ERROR Idle timeout" is read before the close
	SlowConsumer: {endReset, true},     // LIMIT-4, LIMIT-8
	Shutdown:     {endGraceful, false}, // SHUT-1: the notice is read before the close; no LEAVE notes
}

// queuing reports whether output to c is still queued: it is open.
func (c *client) queuing() bool { return c.phase == phaseOpen }

// reading reports whether c's lines are still processed: it is open, or
// only its writes have failed (DISC-2).
func (c *client) reading() bool { return c.phase == phaseOpen || c.phase == phaseMute }

// doom makes c a slow consumer: nothing more is queued for it, what is
// queued is dropped, and loop.settle closes it for why as soon as the
// current item is done (LIMIT-8), unless the item itself closes it first
// (a QUIT whose goodbye did not fit, an idle timeout, the shutdown): then
// it is closed for that reason, without a further line.
func (l *loop) doom(c *client, why closeCause) {
	if c.phase != phaseOpen {
		return
	}
	c.phase = phaseDoomed
	c.cause = why
	c.out.close(abort)
	c.held = nil
	l.doomed = append(l.doomed, c)
}

// mute handles a socket that failed for writing, most likely reset by a
// client that closed without reading everything. Lines it sent before are
// still to be processed (DISC-2); the reader reports the end of the stream
// after them, and the read deadline makes sure it comes. Until then nothing
// more is written, and nobody waits for this client.
func (l *loop) mute(c *client, err error) {
	c.phase = phaseMute
	c.cause = closeCause{reason: Disconnected, detail: err.Error()}
	c.out.close(abort)
	l.setOver(c, false)
	l.release(c)
	c.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
}

// endClient ends c for a reason the loop found itself (a slow consumer, a
// failed write): at once on a single server; on a cluster node, when the
// entry that says so comes back from the log (clusternode.go).
func (l *loop) endClient(c *client, why closeCause) {
	if l.clustered() {
		l.endLocal(c, why)
		return
	}
	l.closeClient(c, why)
}

// closeClient forgets c: it leaves its rooms, with LEAVE to the others
// unless the reason says otherwise (SHUT-1), and its name is freed
// (NAME-4). Then the connection ends as closeRules says for why.reason. A
// cause without a detail keeps the detail of what ended the client's
// output before, if anything did.
func (l *loop) closeClient(c *client, why closeCause) {
	if c.phase == phaseClosed {
		return
	}
	if c.ghost {
		l.dropGhost(c, why)
		return
	}
	if l.clustered() {
		delete(l.cl.local, c.id)
	}
	dropped := c.phase != phaseOpen // doomed or mute: its output is gone already
	c.phase = phaseClosed
	if why.detail == "" {
		why.detail = c.cause.detail
	}
	c.cause = why
	rule := closeRules[why.reason]
	// The slot is free from this point of ORDER-1 on, like the name: a
	// client that has seen an effect of this close may connect again, even
	// while this socket is still being flushed.
	c.freeSlot()
	close(c.done)
	delete(l.clients, c)
	l.idle.Remove(c.idleElem)
	if rule.leave {
		l.leaveAll(c) // MULTI-7: every room, in join order
	}
	if c.name != "" {
		delete(l.users, c.fold)
	}
	l.release(c)
	c.deferred = nil
	c.more = nil // lines read after the end are not processed (STATE-4)
	l.dropTask(c)
	switch {
	case rule.end == endReset:
		c.out.close(abort)
		c.resetConn() // LIMIT-8
	case dropped:
		c.closeConn()
	default:
		if c.out.close(flushThenClose) {
			l.startWriter(c)
		}
	}
	// The name passed NAME-1, so it holds no raw peer bytes; lines are
	// only ever logged quoted (onRead). The record is at the debug level,
	// but a slow consumer's at the info level (log.go).
	l.countDisconnect(why.reason)
	if level := logLevel(why.reason); l.log.Enabled(context.Background(), level) {
		attrs := []any{"conn", c.id, "remote", c.remote(), "user", c.name, "reason", why.reason.String()}
		if why.detail != "" {
			attrs = append(attrs, "detail", why.detail)
		}
		l.log.Log(context.Background(), level, "disconnect", attrs...)
	}
}
