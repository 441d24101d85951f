package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"roomchat.dev/roomchat/impl/transport/web"
	"roomchat.dev/roomchat/spec"
)

// WSPath is the path at which a WebSocket listener opens chats (TRANS-5).
// The path "/" and the files it loads serve the web client of package
// web, which opens its chat at WSPath; every other path answers 404.
const WSPath = "/chat"

// maxWSHeaderBytes bounds the HTTP request of a WebSocket handshake.
const maxWSHeaderBytes = 16 << 10

// wsCloseNormal is a close message of status 1000, normal closure, as a
// server sends it: unmasked, with no reason (RFC 6455 5.5.1).
var wsCloseNormal = []byte{0x88, 0x02, 0x03, 0xe8}

// WSOptions configures a WebSocket listener.
type WSOptions struct {
	// AllowedOrigins are the origins, besides the listener's own host,
	// whose web pages may open a chat (TRANS-6): patterns as
	// websocket.AcceptOptions.OriginPatterns of github.com/coder/websocket,
	// matched with path.Match, case-insensitively, against the host (and
	// port) of the Origin header, or against scheme://host if the pattern
	// has "://". A handshake without an Origin header (not a browser) or
	// whose origin's host is the request's Host is always accepted; any
	// other is refused with 403.
	AllowedOrigins []string
}

// WebSocket returns a listener whose connections carry the protocol in
// WebSocket messages (TRANS-5, TRANS-6). It serves HTTP on ln: a
// WebSocket handshake at WSPath opens a connection, which Accept returns;
// GET / serves the web client (web.Handler);
// a client must send its handshake request within
// DefaultHandshakeTimeout, and a connection idle between HTTP requests is
// closed after as long. Close stops the HTTP server and closes ln; the
// connections already accepted stay open. Its Transport method returns
// "ws".
//
// Each connection reads as the byte stream of section 2, one message at a
// time, text and binary alike: its payload, then a bare LF. Inside a
// payload, CR and LF read as NUL, so that the line is rejected with ERROR
// Invalid character (FRAME-8). Of a message longer than
// spec.MaxFramePayload only spec.MaxLineLen bytes are read as the line,
// which the line reader reports as too long (FRAME-5); the rest is
// discarded as it arrives, never held. The end of the stream, or a close
// message from the client, reads as io.EOF; a message cut short by it is
// no line (FRAME-10). Any other read error, the passing of the read
// deadline included, ends the stream.
//
// Each CRLF-terminated line written goes out as one text message, whatever
// its length (FRAME-11); the messages of one Write are sent in one write,
// and a line may be split over several writes. A write that returns at
// its deadline keeps the connection usable, as the package documentation
// says. After SetLinger(0), Close resets the TCP connection without a
// close message (LIMIT-8, TRANS-6); any other Close, and CloseWrite, first
// send a close message of status 1000 if the socket takes it at once.
// CloseWrite then half-closes the TCP connection: as on a stream, the
// client reads every line, then the end (the close message and a FIN),
// and may still send until it closes its side.
func WebSocket(ln net.Listener, opts WSOptions) net.Listener {
	l := &wsListener{
		ln:      ln,
		conns:   make(chan *wsConn),
		closed:  make(chan struct{}),
		served:  make(chan struct{}),
		origins: append([]string(nil), opts.AllowedOrigins...),
	}
	mux := http.NewServeMux()
	mux.HandleFunc(WSPath, l.handshake)
	mux.Handle("/", web.Handler())
	l.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: DefaultHandshakeTimeout,
		IdleTimeout:       DefaultHandshakeTimeout,
		MaxHeaderBytes:    maxWSHeaderBytes,
		ErrorLog:          log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, wsSocketKey{}, c)
		},
	}
	go func() {
		l.serveErr = l.srv.Serve(wsSocketListener{ln})
		close(l.served)
	}()
	return l
}

// wsListener is the listener WebSocket returns.
type wsListener struct {
	ln      net.Listener // the TCP listener, served by srv
	srv     *http.Server
	origins []string

	conns     chan *wsConn  // handshake handlers -> Accept
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
	served    chan struct{} // closed when srv.Serve has returned serveErr
	serveErr  error
}

// wsSocketKey is the key of a request's *wsSocket in its context.
type wsSocketKey struct{}

// Accept waits for the next WebSocket opened at WSPath.
func (l *wsListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-l.served:
		select {
		case <-l.closed:
			return nil, net.ErrClosed
		default:
			return nil, l.serveErr
		}
	}
}

// Close stops serving HTTP and closes the TCP listener.
func (l *wsListener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.closeErr = l.srv.Close()
		<-l.served
	})
	return l.closeErr
}

// Addr returns the TCP listener's address.
func (l *wsListener) Addr() net.Addr { return l.ln.Addr() }

// Transport names the transport: "ws".
func (l *wsListener) Transport() string { return "ws" }

// handshake answers a request at WSPath: it accepts the WebSocket, unless
// the request is no handshake or comes from a page of another origin
// (TRANS-6), and hands the connection to Accept.
func (l *wsListener) handshake(w http.ResponseWriter, r *http.Request) {
	sock, ok := r.Context().Value(wsSocketKey{}).(*wsSocket)
	if !ok {
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns: l.origins,
		// A client that does not read gets no pong while output waits for
		// it, so that pings cannot pile pongs up in memory.
		OnPingReceived: func(context.Context, []byte) bool { return !sock.pending() },
	})
	if err != nil {
		return // Accept has answered: 403 for a foreign origin, 4xx for no handshake
	}
	ws.SetReadLimit(-1) // an overlong message is discarded as it arrives, not refused
	c := &wsConn{ws: ws, sock: sock}
	select {
	case l.conns <- c:
	case <-l.closed:
		sock.Conn.Close()
	}
}

// wsSocketListener hands the HTTP server each TCP connection as a
// *wsSocket, which the WebSocket then writes to: the hijacked connection
// is the one the listener returned.
type wsSocketListener struct{ net.Listener }

func (l wsSocketListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &wsSocket{Conn: conn}, nil
}

// wsSocket is the TCP connection under a WebSocket. The library writes
// every frame to it through a bufio.Writer, whose first error sticks, and
// a write that times out makes it close the connection. So no write to
// it fails at a deadline: what did not go out is held, and every later
// frame queues behind it in order, so that the stream of frames stays
// whole. Only the next wsConn.Write learns, from flush, that bytes are
// held, and reports it. While corked, frames are held without a write, so
// that the messages of one wsConn.Write go out in one system call.
type wsSocket struct {
	net.Conn // the TCP connection

	mu     sync.Mutex // serialises writes to Conn and guards the fields below
	corked bool       // a wsConn.Write is framing its lines: hold, send later
	held   []byte     // frames not yet sent, in order
}

// Write sends b, or holds it: while corked, behind frames already held,
// or, if the write deadline passes, what did not go out.
func (s *wsSocket) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.corked || len(s.held) > 0 {
		s.held = append(s.held, b...)
		if !s.corked {
			if _, err := s.flushLocked(); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, err
			}
		}
		return len(b), nil
	}
	n, err := s.Conn.Write(b)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		s.held = append(s.held, b[n:]...)
		return len(b), nil
	}
	return n, err
}

// cork holds what is written from now on, until flush.
func (s *wsSocket) cork() {
	s.mu.Lock()
	s.corked = true
	s.mu.Unlock()
}

// flush uncorks s and sends what is held. It returns how many bytes went
// out, and an error if any are still held (the write deadline passed) or
// the socket failed.
func (s *wsSocket) flush() (sent int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corked = false
	sent, err = s.flushLocked()
	if err == nil && len(s.held) > 0 {
		err = io.ErrShortWrite
	}
	return sent, err
}

func (s *wsSocket) flushLocked() (int, error) {
	if len(s.held) == 0 {
		return 0, nil
	}
	n, err := s.Conn.Write(s.held)
	switch {
	case n < len(s.held):
		s.held = s.held[n:]
	case cap(s.held) <= maxKeptWriteBuf:
		s.held = s.held[:0]
	default:
		s.held = nil
	}
	return n, err
}

// pending reports whether frames are held.
func (s *wsSocket) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held) > 0
}

// sendNow writes b if the socket takes it within wait, with nothing held
// before it; it reports whether b went out.
func (s *wsSocket) sendNow(b []byte, wait time.Duration) bool {
	if !s.mu.TryLock() {
		return false // a write is under way, and may never end
	}
	defer s.mu.Unlock()
	if len(s.held) > 0 {
		return false
	}
	s.Conn.SetWriteDeadline(time.Now().Add(wait))
	n, err := s.Conn.Write(b)
	return n == len(b) && err == nil
}

// wsConn turns WebSocket messages into lines and lines into messages.
type wsConn struct {
	ws   *websocket.Conn
	sock *wsSocket // the TCP connection under ws

	// Owned by the goroutine that reads; reads are not concurrent.
	msg   io.Reader // the message being read; nil between messages
	given int       // bytes of msg handed over as the line
	lf    bool      // the LF ending the line is still to hand over
	skip  bool      // after the LF, discard the rest of msg: it is overlong
	ended error     // the end of the stream, returned from then on

	wmu   sync.Mutex // serialises writes and guards the fields below
	carry []byte     // the start of a line whose end a later Write brings
	owed  int        // bytes of the caller's that sock's held frames stand for (held.go)

	reset     atomic.Bool // SetLinger(0): Close resets, without a close message
	closeSent atomic.Bool // a close message was sent, or given up on
}

// Read reads the stream of lines the messages make.
func (c *wsConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch {
		case c.ended != nil:
			return 0, c.ended
		case c.lf:
			p[0] = '\n'
			c.lf = false
			return 1, nil
		case c.skip:
			if _, err := io.Copy(io.Discard, c.msg); err != nil {
				return 0, c.fail(err)
			}
			c.msg, c.skip = nil, false
		case c.msg == nil:
			_, r, err := c.ws.Reader(context.Background())
			if err != nil {
				return 0, c.fail(err)
			}
			c.msg, c.given = r, 0
		default:
			n, err := c.msg.Read(p[:min(len(p), spec.MaxLineLen-c.given)])
			for i, b := range p[:n] {
				if b == '\r' || b == '\n' {
					p[i] = 0 // FRAME-8 answers it; no terminator inside a message (TRANS-5)
				}
			}
			c.given += n
			switch {
			case err == io.EOF:
				c.msg, c.lf = nil, true
				if n < len(p) {
					p[n] = '\n'
					c.lf = false
					n++
				}
			case err != nil:
				c.fail(err)
			case c.given == spec.MaxLineLen:
				// Enough of it for the line reader to answer ERROR Line
				// too long (FRAME-5); the LF ends the line it then skips.
				c.lf, c.skip = true, true
			}
			if n > 0 {
				return n, nil
			}
		}
	}
}

// fail records the end of the stream: the end of the TCP stream, inside
// a message or not, and a close message from the client read as io.EOF.
func (c *wsConn) fail(err error) error {
	if websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	c.ended = err
	return err
}

// Write sends each CRLF-terminated line of p as one text message, all of
// them in one write; bytes after the last LF wait for the rest of their
// line.
//
// If the write deadline passes first, the frames that did not go out are
// held and go out first on the next Write; meanwhile Write counts as
// written as many bytes of p as went out, but fewer than all (held.go).
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	if c.owed > 0 {
		sent, err := c.sock.flush()
		if err != nil {
			n := 0
			if errors.Is(err, os.ErrDeadlineExceeded) {
				n = credit(sent, c.owed)
				c.owed -= n
			}
			return n, err
		}
		done = min(c.owed, len(p))
		c.owed = 0
		p = p[done:]
	}
	if len(p) == 0 {
		return done, nil
	}
	c.sock.cork()
	err := c.send(p)
	sent, ferr := c.sock.flush()
	switch {
	case err != nil:
		return done, err
	case ferr == nil:
		return done + len(p), nil
	case !errors.Is(ferr, os.ErrDeadlineExceeded):
		return done, ferr
	}
	n := credit(sent, len(p))
	c.owed = len(p) - n
	return done + n, ferr
}

// send frames each line p completes as a text message, the first of them
// after c.carry, and keeps the rest of p in c.carry. The server's lines
// end in CRLF and hold no other CR or LF.
func (c *wsConn) send(p []byte) error {
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.carry = append(c.carry, p...)
			return nil
		}
		line := p[:i]
		if len(c.carry) > 0 {
			c.carry = append(c.carry, line...)
			line = c.carry
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if err := c.ws.Write(context.Background(), websocket.MessageText, line); err != nil {
			return err
		}
		if cap(c.carry) > maxKeptWriteBuf {
			c.carry = nil
		}
		c.carry = c.carry[:0]
		p = p[i+1:]
	}
}

// sendClose sends a close message of status 1000, once, if it can go out
// at once, after every line written: with no write under way and nothing
// held. It is written on the socket, past the library, whose Close would
// wait for the client's answer; every frame before it went out whole,
// since a message's frames are written under wmu, and a control frame
// (a pong) in one write.
func (c *wsConn) sendClose() {
	if !c.closeSent.CompareAndSwap(false, true) {
		return
	}
	if !c.wmu.TryLock() {
		return
	}
	defer c.wmu.Unlock()
	c.sock.sendNow(wsCloseNormal, closeNotifyWait)
}

// Close closes the connection: after SetLinger(0) abortively, without a
// close message (LIMIT-8, TRANS-6); otherwise with a close message of
// status 1000 first, if the socket takes it at once (TRANS-6). It never
// waits for the client.
func (c *wsConn) Close() error {
	if !c.reset.Load() {
		c.sendClose()
	}
	return c.sock.Conn.Close()
}

// CloseWrite ends the output: a close message of status 1000, then a TCP
// half-close. The client may still send; its own close message, or the
// end of its stream, ends the input.
func (c *wsConn) CloseWrite() error {
	c.sendClose()
	if cw, ok := c.sock.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// SetLinger sets the TCP connection's linger time. With 0, Close resets
// the connection and sends no close message (LIMIT-8, TRANS-6).
func (c *wsConn) SetLinger(sec int) error {
	c.reset.Store(sec == 0)
	if l, ok := c.sock.Conn.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return errors.ErrUnsupported
}

func (c *wsConn) LocalAddr() net.Addr                { return c.sock.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr               { return c.sock.RemoteAddr() }
func (c *wsConn) SetDeadline(t time.Time) error      { return c.sock.SetDeadline(t) }
func (c *wsConn) SetReadDeadline(t time.Time) error  { return c.sock.SetReadDeadline(t) }
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.sock.SetWriteDeadline(t) }
