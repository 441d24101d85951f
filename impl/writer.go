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

// writeLoop is the connection's writer goroutine. It waits for lines, takes
// everything pending and writes it with one vectored write (net.Buffers), so
// a burst of lines costs one system call. It is the only goroutine that
// writes to the socket.
func (c *client) writeLoop(writerOut chan<- writerEvent, loopDone <-chan struct{}) {
	defer c.srv.wg.Done()
	var spare net.Buffers
	for range c.out.wakeIn {
		for {
			batch, mode := c.out.take(spare)
			if mode == abort {
				return // whoever aborted closes the socket
			}
			if len(batch) == 0 {
				spare = batch
				if mode == flushThenClose {
					c.closeGracefully()
					return
				}
				break
			}
			err := c.write(batch, writerOut, loopDone)
			clear(batch) // drop the references to shared lines
			spare = batch[:0]
			if err == nil {
				continue
			}
			if mode == open {
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
}

// write writes batch. Under LIMIT-4 a client is slow when its socket accepts
// no byte for WriteTimeout, so a deadline that passes after some progress
// only starts a new period. Each chunk written is accounted at once, and
// the loop told when a hot queue has drained.
func (c *client) write(batch net.Buffers, writerOut chan<- writerEvent, loopDone <-chan struct{}) error {
	cfg := &c.srv.cfg
	for len(batch) > 0 {
		c.conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		n, err := batch.WriteTo(c.conn) // consumes what it wrote from batch
		if c.out.written(int(n), cfg.lowWater()) {
			select {
			case writerOut <- writerEvent{c: c, drained: true}:
			case <-loopDone:
			}
		}
		if err != nil && !(n > 0 && errors.Is(err, os.ErrDeadlineExceeded)) {
			return err
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
