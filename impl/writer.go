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
// no byte for WriteTimeout while output is pending, so a deadline that
// passes after some progress only starts a new period. Each chunk written
// is accounted at once, and the loop told when a hot queue has drained.
//
// Setting a deadline costs a timer update, so one set for an earlier write
// is kept while it leaves at least seven eighths of WriteTimeout; should
// it pass before a full WriteTimeout without progress, it is moved to the
// end of the full period and the write goes on.
func (c *client) write(batch net.Buffers, writerOut chan<- writerEvent, loopDone <-chan struct{}) error {
	cfg := &c.srv.cfg
	clk := c.srv.clock
	wt := cfg.WriteTimeout
	since := clk.now() // when the current period without progress began
	for len(batch) > 0 {
		if c.writeDeadline-since < wt-wt/8 {
			c.writeDeadline = since + wt
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
		case n == 0 && clk.now()-since >= wt:
			return err // no byte accepted for WriteTimeout: a slow consumer
		case n == 0:
			c.writeDeadline = 0 // an early deadline: give the full period
		}
		if n > 0 && len(batch) > 0 {
			since = clk.now()
		}
	}
	return nil
}

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
