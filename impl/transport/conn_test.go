package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The helpers of this package's tests: a scripted connection that stands
// in for a socket, and pairs of real loopback sockets.

// failAfter bounds every wait in these tests; it never synchronises.
const failAfter = 10 * time.Second

// scriptConn is a net.Conn over a reader and a writer, for the adapters to
// wrap in unit tests. Reads come from r, at most chunk bytes at a time if
// chunk is positive; writes go to out, at most accept(call) bytes each if
// accept is set, the rest failing with os.ErrDeadlineExceeded as a socket
// whose write deadline passed.
type scriptConn struct {
	r      io.Reader
	chunk  int
	accept func(call int) int

	mu       sync.Mutex
	out      bytes.Buffer
	writes   int // Write calls
	maxRead  int // the largest read asked for
	readIn   int // bytes read from r
	closed   bool
	deadline time.Time // the last write deadline set
}

func (c *scriptConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	c.maxRead = max(c.maxRead, len(p))
	c.mu.Unlock()
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.readIn += n
	c.mu.Unlock()
	return n, err
}

func (c *scriptConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	if c.accept != nil {
		if k := c.accept(c.writes); k < len(p) {
			c.out.Write(p[:k])
			return k, os.ErrDeadlineExceeded
		}
	}
	return c.out.Write(p)
}

func (c *scriptConn) written() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.out.Bytes())
}

func (c *scriptConn) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Len()
}

func (c *scriptConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}

func (c *scriptConn) LocalAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }
func (c *scriptConn) RemoteAddr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2} }
func (c *scriptConn) SetDeadline(t time.Time) error   { return c.SetWriteDeadline(t) }
func (c *scriptConn) SetReadDeadline(time.Time) error { return nil }
func (c *scriptConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return nil
}

// tcpPair returns the two ends of a loopback TCP connection: the server's,
// accepted from ln (wrapped as the listener wraps it), and the client's.
func tcpPair(t *testing.T, wrap func(net.Listener) net.Listener) (server net.Conn, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	l := wrap(ln)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	var d net.Dialer
	conn, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.FailNow()
	}
	t.Cleanup(func() { server.Close(); conn.Close() })
	return server, conn.(*net.TCPConn)
}

// readAllUntilErr reads r until an error and returns what it read and the
// error.
func readAllUntilErr(r io.Reader) ([]byte, error) {
	var b bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.Bytes(), err
		}
	}
}

// isReset reports whether err is a connection reset.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
