package racyserver

import (
	"cmp"
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"roomchat.dev/roomchat/spec"
)

// client is one connection and the user behind it.
type client struct {
	id   uint64   // immutable; the order in which write locks are taken
	srv  *Server  // immutable
	conn net.Conn // immutable

	// Owned by the client's goroutine. name is also read by other
	// goroutines, but only after they found the client in a room's member
	// list or in the names map, which it entered after setting name.
	name string
	room *room // the room the user is in; nil in NEW and LOBBY

	// wmu is the write side: it guards staged, dead and every write to
	// conn.
	wmu sync.Mutex
	// staged is output written to the client's buffer but not yet to its
	// socket; the next write sends it first. Only UnorderedFanOut stages
	// output: otherwise it is always empty.
	staged []byte
	dead   bool // no more writes: the user is gone (QUIT, disconnect) or a write failed

	closeOnce sync.Once
}

// serve reads c's lines one at a time and handles each, until QUIT or
// the end of the connection.
func (c *client) serve() {
	defer c.srv.wg.Done()
	defer c.srv.forget(c)
	lr := spec.NewLineReader(c.conn, spec.MaxLineLen)
	for {
		line, err := lr.ReadLine()
		switch {
		case errors.Is(err, spec.ErrLineOverflow):
			c.replyError(spec.ErrLineTooLong) // FRAME-5
			continue
		case err != nil:
			// End of stream, reset, or Stop: every complete line before it
			// has been handled (DISC-2); bytes of an unfinished line are
			// dropped (FRAME-10).
			c.disconnect()
			c.closeConn()
			return
		}
		if c.handle(line) {
			c.closeAfterQuit()
			return
		}
	}
}

// closeConn closes the connection once.
func (c *client) closeConn() {
	c.closeOnce.Do(func() { c.conn.Close() })
}

// closeAfterQuit ends the connection after QUIT (QUIT-1): OK Goodbye! is
// written; the server half-closes, so that the client sees the end of
// the stream after it, and reads and discards what the client sent after
// QUIT (STATE-4) until the client closes or quitDrain passes, so that
// unread bytes do not turn the close into a reset that could cost the
// client its OK Goodbye!.
func (c *client) closeAfterQuit() {
	if tc, ok := c.conn.(*net.TCPConn); ok {
		tc.CloseWrite()
		c.conn.SetReadDeadline(time.Now().Add(quitDrain))
		io.Copy(io.Discard, c.conn)
	}
	c.closeConn()
}

// send writes wire (whole lines with their CRLF) to c under its write
// lock.
func (c *client) send(wire []byte) {
	c.wmu.Lock()
	c.writeLocked(wire)
	c.wmu.Unlock()
}

// stage appends wire to c's buffer, to be written with the next write.
func (c *client) stage(wire []byte) {
	c.wmu.Lock()
	c.staged = append(c.staged, wire...)
	c.wmu.Unlock()
}

// flushStaged writes what is staged for c, if anything.
func (c *client) flushStaged() { c.send(nil) }

// writeLocked writes wire to c; c.wmu is held. After a failed write
// nothing more is written: a client that accepted nothing for
// writeTimeout is closed, so that its reader ends and processes the
// disconnect; after any other error the reader sees the end of the
// connection by itself.
func (c *client) writeLocked(wire []byte) {
	if len(c.staged) > 0 {
		wire = append(c.staged, wire...)
		c.staged = nil
	}
	if c.dead || len(wire) == 0 {
		return
	}
	c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := c.conn.Write(wire); err != nil {
		c.dead = true
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.closeConn()
		}
	}
}

// reply sends c one line that depends on nothing shared.
func (c *client) reply(l spec.ServerLine) { c.send(l.AppendWire(nil)) }

// replyError sends c ERROR text.
func (c *client) replyError(text string) { c.reply(spec.ErrorLine(text)) }

// outbox collects what one operation sends, per recipient in order, and
// delivers it atomically with respect to every other operation: flush
// takes the write lock of every recipient, in the order of their ids (so
// that two flushes cannot deadlock), writes, and only then releases them.
// Called with the locks of the shared structures the operation read or
// changed still held, this is strict two-phase locking: the operations
// are serializable in an order that agrees with real time (ORDER-1,
// ORDER-4), and every recipient receives its lines in that order
// (ORDER-2).
type outbox struct {
	to    []*client
	lines map[*client][]byte
	kill  map[*client]bool // recipients to mark dead once written to
}

// add queues l for c.
func (o *outbox) add(c *client, l spec.ServerLine) { o.addWire(c, l.AppendWire(nil)) }

// addWire queues wire, whole lines with CRLF, for c.
func (o *outbox) addWire(c *client, wire []byte) {
	o.recipient(c)
	o.lines[c] = append(o.lines[c], wire...)
}

// end marks c dead in the same atomic step as the writes: the user is
// gone and is sent nothing more (STATE-4).
func (o *outbox) end(c *client) {
	o.recipient(c)
	if o.kill == nil {
		o.kill = map[*client]bool{}
	}
	o.kill[c] = true
}

func (o *outbox) recipient(c *client) {
	if o.lines == nil {
		o.lines = map[*client][]byte{}
	}
	if _, ok := o.lines[c]; !ok {
		o.lines[c] = nil
		o.to = append(o.to, c)
	}
}

// flush delivers everything queued; see outbox.
func (o *outbox) flush() {
	cs := slices.Clone(o.to)
	slices.SortFunc(cs, func(a, b *client) int { return cmp.Compare(a.id, b.id) })
	for _, c := range cs {
		c.wmu.Lock()
	}
	for _, c := range cs {
		c.writeLocked(o.lines[c])
		if o.kill[c] {
			c.dead = true
		}
	}
	for _, c := range cs {
		c.wmu.Unlock()
	}
	*o = outbox{}
}
