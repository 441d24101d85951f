package impl

import (
	"bytes"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// lingerTimeout bounds how long a gracefully closed connection is kept open
// after its last byte, reading and discarding what the client still sends.
// Closing a socket with unread input makes the kernel send a reset, which can
// destroy output the client has not yet received (QUIT-1, DISC-2, SHUT-1).
const lingerTimeout = time.Second

// writerEvent is what a writer reports to the loop.
type writerEvent struct {
	c       *client
	drained bool        // the queue went from over high water to low water
	reason  CloseReason // otherwise the write failed: SlowConsumer or Disconnected
	err     error
}

// report hands a writer's event to the loop. It returns false if the loop
// has exited and will not take it.
type report func(writerEvent) bool

// toLoop returns the report of a writer goroutine: a send on writerOut,
// unless loopDone is closed.
func toLoop(writerOut chan<- writerEvent, loopDone <-chan struct{}) report {
	return func(ev writerEvent) bool {
		select {
		case writerOut <- ev:
			return true
		case <-loopDone:
			return false
		}
	}
}

// startWriter has c's writer goroutine started at the end of the current
// turn of the loop (startWriters). The loop calls it when handOver or
// close says that none is running; the queue records from then on that one
// runs, so that the lines the rest of the turn queues for c wait for it,
// and it takes them all at once: one write a client a turn at most.
func (l *loop) startWriter(c *client) {
	l.starting = append(l.starting, c)
}

// startWriters hands over the lines the turn queued, and starts the
// writers that startWriter and handOver ask for. The loop calls it when a
// turn is done (settle) and before it exits (shutdown).
//
// Up to writerGroup clients, the loop is their writer itself, as an epoll
// relay is (writeSoon): a socket nearly always takes what a turn queued
// for it at once, without waiting, and a goroutine would cost its start,
// its exit and a wake-up of another thread. What a socket does not take
// at once goes on in a writer goroutine of the client's own (writeLoop),
// and what the writes report is applied when the turn is done (run).
// More clients, the members of a big room that a line goes to, share
// goroutines, up to writerGroup clients each (writeGroup): a goroutine per
// member per line would cost its start and exit, and leave the runtime
// holding the descriptor of every goroutine of the largest fan-out ever
// made (about 400 bytes a member) for the rest of the process.
func (l *loop) startWriters() {
	if len(l.handing) > 0 {
		now := l.srv.clock.now()
		for _, c := range l.handing {
			switch c.out.handOver(l.cfg.CoalesceDelay, now) {
			case writerStart:
				l.startWriter(c)
			case writerLater:
				l.flushLater(c)
			}
		}
		clear(l.handing)
		l.handing = l.handing[:0]
	}
	switch n := len(l.starting); {
	case n == 0:
		return
	case n <= writerGroup:
		w := getRawWriter()
		for _, c := range l.starting {
			c.writeSoon(w, l.reportInline, l.toLoop)
		}
		putRawWriter(w)
	default:
		all := slices.Clone(l.starting) // the groups' lists, in one allocation a turn
		for i := 0; i < n; i += writerGroup {
			j := min(i+writerGroup, n)
			l.srv.wg.Add(1)
			go writeGroup(all[i:j:j], l.toLoop)
		}
	}
	clear(l.starting)
	l.starting = l.starting[:0]
}

// writerGroup is the most clients a writer goroutine of a group serves.
const writerGroup = 64

// writeGroup is a goroutine that is the writer of each client of group
// in turn, as long as the client's socket takes what its queue holds at
// once (writeSoon). A client whose socket would make it wait, or that is
// no socket, or whose queue has filled again meanwhile, or whose
// connection ends gracefully, gets a writer goroutine of its own to carry
// on, so that no client ever waits for another, and a client that is sent
// a stream of lines has its batches grow while its writer waits for the
// socket, as before.
func writeGroup(group []*client, rep report) {
	defer group[0].srv.wg.Done()
	w := getRawWriter()
	defer putRawWriter(w)
	for _, c := range group {
		c.writeSoon(w, rep, rep)
	}
}

// writeSoon is c's writer in a group (writeGroup), or in the loop
// (startWriters): it takes what c's queue holds and writes it without
// waiting, then either records that no writer runs, if the queue is still
// empty, or starts a writer goroutine of c's own for the rest, which
// reports with later. rep reports what happens meanwhile.
func (c *client) writeSoon(w *rawWriter, rep, later report) {
	if c.raw == nil {
		c.srv.wg.Add(1)
		go c.writeLoop(nil, queueOpen, later)
		return
	}
	b, mode := c.out.take(nil)
	if mode == queueOpen && b != nil {
		rest, err := c.writeBatchNow(w, b.lines, rep)
		if err != nil {
			c.writeFailed(b, mode, err, rep)
			return
		}
		if len(rest) > 0 {
			b.lines = rest
		} else {
			clear(b.lines)
			b.lines = b.lines[:0]
			b, mode = c.out.take(b) // nil, and no writer runs, unless more came
		}
	}
	if mode == abort || b == nil && mode == queueOpen {
		putBatch(b)
		return // as in writeLoop
	}
	c.srv.wg.Add(1)
	go c.writeLoop(b, mode, later)
}

// writeBatchNow writes batch as write does, but only as much as c's socket
// takes without waiting, and returns the lines left, the first of which
// may be what is left of several: a copy, since the batch's lines are
// shared. The lines written are cleared from batch.
func (c *client) writeBatchNow(w *rawWriter, batch net.Buffers, rep report) (net.Buffers, error) {
	start := c.srv.clock.now()
	lowWater := c.srv.cfg.lowWater()
	var buf *writeBuffer
	defer func() { buf.put() }()
	for len(batch) > 0 {
		p, from := batch[0], 1
		if len(batch) > 1 && len(p) < writeChunk {
			if buf == nil {
				buf = getWriteBuffer(batch)
			}
			p, from = buf.b[:0], 0
			for from < len(batch) && len(p)+len(batch[from]) <= cap(p) {
				p = append(p, batch[from]...)
				from++
			}
			if from == 0 { // not reached, as in write
				p, from = batch[0], 1
			}
		}
		n, err := c.writeNow(w, p)
		if c.out.written(n, lowWater, start) {
			rep(writerEvent{c: c, drained: true})
		}
		if err != nil {
			return nil, err
		}
		if n < len(p) {
			// The socket is full: what is left of p becomes the first
			// line of the rest.
			clear(batch[:from-1])
			batch[from-1] = bytes.Clone(p[n:])
			return batch[from-1:], nil
		}
		clear(batch[:from])
		batch = batch[from:]
	}
	return nil, nil
}

// writeLoop is the connection's writer goroutine. It runs only while there
// is output: it takes everything pending and writes it (write), so a burst
// of lines costs one system call, and it exits when the queue is empty, so
// that an idle connection has no writer. It is the only goroutine that
// writes to the socket. b, if not nil, is a batch to write first, taken
// from the queue in mode by the writer of a group (writeSoon).
func (c *client) writeLoop(b *batch, mode closeMode, rep report) {
	defer c.srv.wg.Done()
	if b == nil {
		b, mode = c.out.take(nil)
	}
	for {
		if mode == abort {
			putBatch(b)
			return // whoever aborted closes the socket
		}
		if b == nil {
			if mode == flushThenClose {
				c.closeGracefully()
			}
			return // open: take has recorded that no writer runs
		}
		err := c.write(b.lines, rep)
		clear(b.lines) // drop the references to shared lines
		b.lines = b.lines[:0]
		if err != nil {
			c.writeFailed(b, mode, err, rep)
			return
		}
		b, mode = c.out.take(b)
	}
}

// writeFailed ends a writer whose write of b, taken in mode, failed with
// err.
func (c *client) writeFailed(b *batch, mode closeMode, err error, rep report) {
	clear(b.lines)
	b.lines = b.lines[:0]
	putBatch(b)
	if mode == queueOpen {
		// The loop decides what happens to the socket: it may still
		// have lines from this client to process (DISC-2).
		ev := writerEvent{c: c, reason: Disconnected, err: err}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			ev.reason = SlowConsumer
		}
		if rep(ev) {
			return
		}
	}
	c.closeConn() // the loop has forgotten the client
}

// write writes batch. On Linux, to a plain socket, each step is a
// vectored write of up to 64 lines, from where they are, with short lines
// copied together first (writeVectored). Otherwise lines are copied, in
// order, into a buffer of the writer's (writeBuffer) and each buffer goes
// out with one write system call: one per batch up to writeChunk bytes; a
// single line, or one of at least writeChunk bytes (a big room's roster),
// is written from where it is. Neither uses Go's own vectored write
// (net.Buffers): the socket would keep the largest iovec array it was
// ever given (up to 1,024 iovecs, 16 KiB) for the rest of the connection,
// so that a member that once received a burst in one write would keep
// that memory while idle.
//
// Under LIMIT-4 a client is slow when its socket accepts no byte for
// WriteTimeout while output is pending: the period starts when the write
// begins and again each time the socket accepts a byte. Each chunk written
// is accounted at once, and the loop told when a hot queue has drained.
//
// A blocked write reports the bytes it got through only when it returns, not
// when the socket took them, so no write may block for long: its deadline
// is at most deadlineSlice (an eighth of WriteTimeout) ahead, and never past
// the end of the period. A write that returns at its deadline having got
// some bytes through starts a new period then, at most a slice after the
// last byte went; one that got none, with the period over, fails. So a
// client is dropped no sooner than WriteTimeout after the last byte its
// socket accepted, and no later than a slice after that.
//
// Setting a deadline costs a timer update, so one set for an earlier write
// is kept while it leaves at least half a slice and does not pass the end
// of the period: a client that is written to often costs one update every
// half slice at most.
func (c *client) write(batch net.Buffers, rep report) error {
	cfg := &c.srv.cfg
	clk := c.srv.clock
	wt := cfg.WriteTimeout
	slice := deadlineSlice(wt)
	since := clk.now() // when the current period without progress began
	var g gathered
	defer g.release()
	for len(batch) > 0 || len(g.p) > 0 {
		now := clk.now()
		end := since + wt
		if dl := c.writeDeadline; dl-now < slice/2 || dl > end {
			c.writeDeadline = min(now+slice, end)
			c.conn.SetWriteDeadline(epoch.Add(c.writeDeadline))
		}
		var n int
		var err error
		if c.vectored() {
			n, batch, err = writeVectored(c.raw, batch)
		} else {
			n, batch, err = g.write(c.conn, batch)
		}
		if c.out.written(n, cfg.lowWater(), since) {
			rep(writerEvent{c: c, drained: true})
		}
		switch {
		case err == nil:
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return err
		case n == 0 && clk.now() >= end:
			return err // no byte accepted for WriteTimeout: a slow consumer
		}
		if n > 0 {
			since = clk.now()
		}
	}
	return nil
}

// gathered is what a writer without writev has taken from its batch and
// not yet written: p, a line written from where it is, or lines copied
// into buf.
type gathered struct {
	p   []byte
	buf *writeBuffer
}

// write makes one write to conn: of what is left of g.p, or else of the
// next lines of batch, which it takes. It returns the bytes written and
// the rest of batch.
func (g *gathered) write(conn net.Conn, batch net.Buffers) (int, net.Buffers, error) {
	if len(g.p) == 0 {
		if len(batch) == 1 || len(batch[0]) >= writeChunk {
			g.p, batch = batch[0], batch[1:]
		} else {
			if g.buf == nil {
				g.buf = getWriteBuffer(batch)
			}
			p := g.buf.b[:0]
			for len(batch) > 0 && len(p)+len(batch[0]) <= cap(p) {
				p = append(p, batch[0]...)
				batch = batch[1:]
			}
			if len(p) == 0 { // not reached: the buffer holds any line shorter than writeChunk
				p, batch = batch[0], batch[1:]
			}
			g.p = p
		}
	}
	n, err := conn.Write(g.p)
	g.p = g.p[n:]
	return n, batch, err
}

// release gives back g's buffer, if it took one.
func (g *gathered) release() { g.buf.put() }

// writeChunk is the most a writer copies into one buffer, and so writes
// with one system call; a line at least as long is written on its own.
const writeChunk = 64 << 10

// writeBuffer is a buffer a writer copies lines into. Buffers circulate
// through writeBuffers, one pool per size (1, 4, 16 and 64 KiB), so that
// a writer with a few short lines takes a small one, and none is kept by
// a connection that is not writing.
type writeBuffer struct {
	b    []byte
	pool int // its index in writeBuffers
}

var writeBuffers [4]sync.Pool

// getWriteBuffer returns a buffer for batch: the smallest that holds it, or
// one of writeChunk bytes.
func getWriteBuffer(batch net.Buffers) *writeBuffer {
	n := 0
	for _, line := range batch {
		if n += len(line); n >= writeChunk {
			break
		}
	}
	i, size := 0, writeChunk>>6 // 1 KiB
	for size < n && i < len(writeBuffers)-1 {
		i, size = i+1, size<<2
	}
	if b, ok := writeBuffers[i].Get().(*writeBuffer); ok {
		return b
	}
	return &writeBuffer{b: make([]byte, 0, size), pool: i}
}

// put gives b back to its pool; b may be nil.
func (b *writeBuffer) put() {
	if b != nil {
		writeBuffers[b.pool].Put(b)
	}
}

// deadlineSlice is the longest a write blocks before the writer looks at
// the progress it made: an eighth of WriteTimeout.
func deadlineSlice(wt time.Duration) time.Duration { return max(wt/8, 1) }

// closeGracefully ends a connection whose output has all been written: it
// sends FIN after the last byte, waits for the reader (which is discarding
// input by now) to see the client close or the linger time pass, and closes
// the socket.
func (c *client) closeGracefully() {
	closeWrite(c.conn)
	c.conn.SetReadDeadline(time.Now().Add(lingerTimeout))
	<-c.readerDone
	c.closeConn()
}

// closeWrite half-closes conn if it can.
func closeWrite(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// discard reads from conn until an error, such as the read deadline. It is
// never inlined: its buffer would then be part of the frame of every
// reader goroutine for its whole life, pushing an idle connection's stack
// past its smallest size of 2 KiB.
//
//go:noinline
func discard(conn net.Conn) {
	var buf [512]byte
	for {
		if _, err := conn.Read(buf[:]); err != nil {
			return
		}
	}
}
