//go:build unix

package impl

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawReader reads from a client's socket without waiting, for the loop's
// reads on behalf of a reader that waits to be resumed (loop.fillNow).
// Only the loop uses it. Its method value is made once, so that a read
// allocates nothing.
type rawReader struct {
	c   *client // whose socket, during a read
	p   []byte
	n   int
	err error
	do  func(fd uintptr) bool
}

func newRawReader() *rawReader {
	r := new(rawReader)
	r.do = r.read
	return r
}

// read is a syscall.RawConn.Read callback: one read of what the socket
// holds, done whatever it returns: it never waits.
func (r *rawReader) read(fd uintptr) bool {
	for {
		n, err := syscall.Read(int(fd), r.p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
		case err != nil:
			r.err = err
		case n == 0:
			r.err = io.EOF
		default:
			r.n = n
		}
		return true
	}
}

// readNow reads into p what r.c's socket holds, without waiting. It
// returns 0 and no error when the socket holds nothing yet, or cannot be
// read now (a deadline passed, or it is closed): the reader goroutine
// finds out when it reads next. Errors are those of a net.Conn's Read.
func (r *rawReader) readNow(p []byte) (int, error) {
	c := r.c
	r.p, r.n, r.err = p, 0, nil
	err := c.raw.Read(r.do)
	n, rerr := r.n, r.err
	r.p, r.err = nil, nil
	switch {
	case err != nil:
		return 0, nil
	case rerr != nil && rerr != io.EOF:
		rerr = &net.OpError{Op: "read", Net: c.conn.LocalAddr().Network(), Source: c.conn.LocalAddr(), Addr: c.conn.RemoteAddr(), Err: os.NewSyscallError("read", rerr)}
	}
	return n, rerr
}
