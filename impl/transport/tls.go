package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHandshakeTimeout bounds a TLS handshake, from the connection's
// accept: a client that has not completed it by then is closed, so that a
// connection that never speaks TLS holds no goroutine or socket for long.
const DefaultHandshakeTimeout = 10 * time.Second

// closeNotifyWait is the longest Close waits for the socket to take a
// close_notify. Close may be called by the server's loop, which must not
// wait on a peer that does not read: such a peer simply gets none.
const closeNotifyWait = time.Millisecond

// TLS returns a listener whose connections carry the protocol inside TLS
// 1.2 or later (TRANS-1), with cfg, which must hold a certificate. Its
// Transport method returns "tls". The handshake happens on the first Read
// or Write, within DefaultHandshakeTimeout of the accept.
//
// Unlike a bare tls.Conn, a connection survives a write that times out
// (see the package documentation), and it can be reset: after SetLinger(0),
// Close resets the TCP connection without a close_notify (LIMIT-8,
// TRANS-1). Any other Close sends a close_notify first if the socket takes
// it at once; CloseWrite sends one, then half-closes the TCP connection.
func TLS(ln net.Listener, cfg *tls.Config) net.Listener {
	if cfg == nil {
		cfg = new(tls.Config)
	} else {
		cfg = cfg.Clone()
	}
	cfg.MinVersion = max(cfg.MinVersion, tls.VersionTLS12)
	return &tlsListener{Listener: ln, cfg: cfg, handshakeTimeout: DefaultHandshakeTimeout}
}

// tlsListener is the listener TLS returns.
type tlsListener struct {
	net.Listener
	cfg              *tls.Config
	handshakeTimeout time.Duration
}

// Accept waits for the next connection and returns it as TLS, its
// handshake yet to come.
func (l *tlsListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newTLSConn(conn, l.cfg, time.Now().Add(l.handshakeTimeout)), nil
}

// Transport names the transport: "tls".
func (l *tlsListener) Transport() string { return "tls" }

// tlsConn is a server-side TLS connection that survives write timeouts and
// can be reset. Under its tls.Conn lies a rawConn, which holds the records
// a timed-out write could not send (held.go).
type tlsConn struct {
	tc       *tls.Conn
	raw      *rawConn
	deadline time.Time   // the end of the time allowed for the handshake
	shaken   atomic.Bool // the handshake has succeeded
	reset    atomic.Bool // SetLinger(0): Close resets, without close_notify

	wmu  sync.Mutex // serialises writes and guards owed
	owed int        // bytes of the caller's that raw.held stands for (held.go)
}

func newTLSConn(conn net.Conn, cfg *tls.Config, deadline time.Time) *tlsConn {
	raw := &rawConn{Conn: conn}
	return &tlsConn{tc: tls.Server(raw, cfg), raw: raw, deadline: deadline}
}

// handshake runs the handshake if it has not run, within c.deadline; past
// it the connection is closed.
func (c *tlsConn) handshake() error {
	if c.shaken.Load() {
		return nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), c.deadline)
	defer cancel()
	if err := c.tc.HandshakeContext(ctx); err != nil {
		return err
	}
	c.shaken.Store(true)
	return nil
}

// Read reads the plaintext.
func (c *tlsConn) Read(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.tc.Read(p)
}

// Write encrypts and sends p. If the socket's write deadline passes first,
// the records that did not go out are held and go out first on the next
// Write; meanwhile Write counts as written as many bytes of p as went out,
// but fewer than all (held.go).
func (c *tlsConn) Write(p []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	if c.owed > 0 {
		sent, all, err := c.raw.flushHeld()
		if !all {
			n := credit(sent, c.owed)
			c.owed -= n
			return n, err
		}
		done = min(c.owed, len(p))
		c.owed = 0
		p = p[done:]
	}
	if len(p) == 0 {
		return done, nil
	}
	c.raw.startCount()
	n, err := c.tc.Write(p)
	sent, timeout := c.raw.stopCount()
	if err != nil {
		return done + n, err
	}
	if timeout == nil {
		return done + len(p), nil
	}
	n = credit(sent, len(p))
	c.owed = len(p) - n
	return done + n, timeout
}

// Close closes the connection: after SetLinger(0) abortively, without a
// close_notify (LIMIT-8); otherwise with one first, if the socket takes it
// at once.
func (c *tlsConn) Close() error {
	if c.reset.Load() || !c.shaken.Load() {
		return c.raw.Conn.Close()
	}
	c.raw.closing.Store(true)
	c.raw.Conn.SetWriteDeadline(time.Now().Add(closeNotifyWait))
	err := c.tc.Close()
	if errors.Is(err, errBusy) || errors.Is(err, os.ErrDeadlineExceeded) {
		return nil // a close_notify that could not go out at once is no failure to close
	}
	return err
}

// CloseWrite ends the output: a close_notify, then a TCP half-close.
func (c *tlsConn) CloseWrite() error {
	var err error
	if c.shaken.Load() {
		err = c.tc.CloseWrite() // bounded by tls's own write deadline
	}
	if cw, ok := c.raw.Conn.(interface{ CloseWrite() error }); ok {
		return errors.Join(err, cw.CloseWrite())
	}
	return err
}

// SetLinger sets the TCP connection's linger time. With 0, Close resets
// the connection and sends no close_notify (LIMIT-8, TRANS-1).
func (c *tlsConn) SetLinger(sec int) error {
	c.reset.Store(sec == 0)
	if l, ok := c.raw.Conn.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return errors.ErrUnsupported
}

func (c *tlsConn) LocalAddr() net.Addr                { return c.raw.Conn.LocalAddr() }
func (c *tlsConn) RemoteAddr() net.Addr               { return c.raw.Conn.RemoteAddr() }
func (c *tlsConn) SetDeadline(t time.Time) error      { return c.raw.SetDeadline(t) }
func (c *tlsConn) SetReadDeadline(t time.Time) error  { return c.raw.SetReadDeadline(t) }
func (c *tlsConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// ConnectionState returns the state of the TLS session.
func (c *tlsConn) ConnectionState() tls.ConnectionState { return c.tc.ConnectionState() }

// rawConn is the TCP connection under a tlsConn's tls.Conn. Once a write
// times out, what it did not send is held, and every later record queues
// behind it in order, so that the TLS stream stays whole; the tls.Conn is
// told the records went out, so its state stays good. Only the next
// tlsConn.Write learns otherwise, from stopCount, and reports it.
type rawConn struct {
	net.Conn // the TCP connection

	// closing: tlsConn.Close is sending a close_notify, which must not
	// wait for the socket, nor for a write in progress.
	closing atomic.Bool

	mu       sync.Mutex // serialises writes to Conn and guards the fields below
	held     []byte     // records not yet sent, in order
	counting bool       // a tlsConn.Write is under way: sent and timeout count for it
	sent     int        // bytes that went out meanwhile
	timeout  error      // the timeout that made Write hold records
}

// Write sends b, or holds it: behind records already held, or, if the
// write deadline passes, what did not go out.
func (r *rawConn) Write(b []byte) (int, error) {
	if r.closing.Load() {
		if !r.mu.TryLock() {
			return 0, errBusy
		}
		defer r.mu.Unlock()
		if len(r.held) > 0 {
			return 0, errBusy
		}
		return r.Conn.Write(b)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.held) == 0 {
		n, err := r.Conn.Write(b)
		r.sent += n
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return n, err
		}
		r.held = append(r.held, b[n:]...)
		r.timeout = err
		return len(b), nil
	}
	// Behind what is held, in order. Past the deadline the attempt to
	// send returns at once; a record written on its own (a key update, a
	// close_notify) goes out with the next write if not now.
	r.held = append(r.held, b...)
	n, err := r.flushLocked()
	r.sent += n
	if err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return 0, err
		}
		r.timeout = err
	}
	return len(b), nil
}

// flushHeld sends what is held. It returns how many bytes went out, and
// whether nothing is held any more.
func (r *rawConn) flushHeld() (sent int, all bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sent, err = r.flushLocked()
	if len(r.held) > 0 && err == nil {
		err = io.ErrShortWrite
	}
	return sent, len(r.held) == 0, err
}

func (r *rawConn) flushLocked() (int, error) {
	if len(r.held) == 0 {
		return 0, nil
	}
	n, err := r.Conn.Write(r.held)
	if n == len(r.held) {
		r.held = nil
	} else {
		r.held = r.held[n:]
	}
	return n, err
}

// startCount begins a tlsConn.Write.
func (r *rawConn) startCount() {
	r.mu.Lock()
	r.counting, r.sent, r.timeout = true, 0, nil
	r.mu.Unlock()
}

// stopCount ends a tlsConn.Write: it returns how many bytes went out
// meanwhile and, if some are held, why.
func (r *rawConn) stopCount() (sent int, timeout error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counting = false
	if len(r.held) > 0 {
		timeout = r.timeout
		if timeout == nil {
			timeout = os.ErrDeadlineExceeded
		}
	}
	return r.sent, timeout
}

// SetWriteDeadline sets the socket's write deadline, except while Close
// sends its close_notify: tls.Conn would give that five seconds.
func (r *rawConn) SetWriteDeadline(t time.Time) error {
	if r.closing.Load() {
		return nil
	}
	return r.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines (SetWriteDeadline).
func (r *rawConn) SetDeadline(t time.Time) error {
	if r.closing.Load() {
		return r.Conn.SetReadDeadline(t)
	}
	return r.Conn.SetDeadline(t)
}

// errBusy is why Close sent no close_notify: the socket was busy with
// output that did not go out.
var errBusy = errors.New("transport: output pending; no close_notify")
