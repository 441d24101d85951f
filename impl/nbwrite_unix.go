//go:build unix

package impl

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// rawWriter writes to a socket without waiting, for the writer groups
// (writer.go); one serves a group's clients one after another. Its method
// value is made once, so that a write allocates nothing.
type rawWriter struct {
	p   []byte // what is left to write
	n   int    // written by the last call of do
	err error
	do  func(fd uintptr) bool
}

var rawWriters = sync.Pool{New: func() any {
	w := new(rawWriter)
	w.do = w.write
	return w
}}

// getRawWriter returns a rawWriter from the pool.
func getRawWriter() *rawWriter { return rawWriters.Get().(*rawWriter) }

// putRawWriter gives w back.
func putRawWriter(w *rawWriter) { rawWriters.Put(w) }

// write is a syscall.RawConn.Write callback: it writes as much of w.p as
// the socket takes now, and is done whatever happens: it never waits.
func (w *rawWriter) write(fd uintptr) bool {
	for len(w.p) > 0 {
		n, err := syscall.Write(int(fd), w.p)
		if n > 0 {
			w.n += n
			w.p = w.p[n:]
		}
		switch err {
		case nil:
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return true
		default:
			w.err = err
			return true
		}
	}
	return true
}

// rawConnOf returns conn's raw connection if it is a socket whose writes
// the writer groups can make without waiting, or nil.
func rawConnOf(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// writeNow writes as much of p to c's socket as it takes without waiting,
// and returns how much that was. An error is a failed socket's; a write
// that would wait is no error.
func (c *client) writeNow(w *rawWriter, p []byte) (int, error) {
	w.p, w.n, w.err = p, 0, nil
	err := c.raw.Write(w.do)
	if errors.Is(err, os.ErrDeadlineExceeded) && w.n == 0 {
		// A deadline left by c's own writer has passed: the socket was
		// not tried. Writes here need none.
		c.conn.SetWriteDeadline(time.Time{})
		c.writeDeadline = 0
		err = c.raw.Write(w.do)
	}
	n := w.n
	if err == nil {
		err = w.err
	}
	w.p, w.err = nil, nil
	return n, err
}
