package impl

import (
	"errors"
	"net"
	"os"
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

// startWriter starts c's writer goroutine. The loop calls it when push or
// close says that none is running.
func (l *loop) startWriter(c *client) {
	l.srv.wg.Add(1)
	go c.writeLoop(l.writerIn, l.done)
}

// writeLoop is the connection's writer goroutine. It runs only while there
// is output: it takes everything pending and writes it with one vectored
// write (net.Buffers), so a burst of lines costs one system call, and it
// exits when the queue is empty, so that an idle connection has no writer.
// It is the only goroutine that writes to the socket.
func (c *client) writeLoop(writerOut chan<- writerEvent, loopDone <-chan struct{}) {
	defer c.srv.wg.Done()
	var b *batch
	for {
		var mode closeMode
		b, mode = c.out.take(b)
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
		err := c.write(b.lines, writerOut, loopDone)
		clear(b.lines) // drop the references to shared lines
		b.lines = b.lines[:0]
		if err == nil {
			continue
		}
		putBatch(b)
		if mode == queueOpen {
			// The loop decides what happens to the socket: it may still
			// have lines from this client to process (DISC-2).
			ev := writerEvent{c: c, reason: Disconnected, err: err}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				ev.reason = SlowConsumer
			}
			select {
			case writerOut <- ev:
				return
			case <-loopDone:
			}
		}
		c.closeConn() // the loop has forgotten the client
		return
	}
}

// write writes batch. Under LIMIT-4 a client is slow when its socket accepts
// no byte for WriteTimeout while output is pending: the period starts when
// the write begins and again each time the socket accepts a byte. Each
// chunk written is accounted at once, and the loop told when a hot queue
// has drained.
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
func (c *client) write(batch net.Buffers, writerOut chan<- writerEvent, loopDone <-chan struct{}) error {
	cfg := &c.srv.cfg
	clk := c.srv.clock
	wt := cfg.WriteTimeout
	slice := deadlineSlice(wt)
	since := clk.now() // when the current period without progress began
	for len(batch) > 0 {
		now := clk.now()
		end := since + wt
		if dl := c.writeDeadline; dl-now < slice/2 || dl > end {
			c.writeDeadline = min(now+slice, end)
			c.conn.SetWriteDeadline(epoch.Add(c.writeDeadline))
		}
		n, err := batch.WriteTo(c.conn) // consumes what it wrote from batch
		if c.out.written(int(n), cfg.lowWater(), since) {
			select {
			case writerOut <- writerEvent{c: c, drained: true}:
			case <-loopDone:
			}
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

// discard reads from conn until an error, such as the read deadline.
func discard(conn net.Conn) {
	var buf [512]byte
	for {
		if _, err := conn.Read(buf[:]); err != nil {
			return
		}
	}
}
