package impl

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("impl: server closed")

// Server is the reference roomchat server. Create it with New, start it with
// Serve, stop it with Shutdown.
type Server struct {
	// Immutable after New.
	cfg     Config // with defaults filled in
	log     *slog.Logger
	loop    *loop
	closing chan struct{} // closed by Shutdown: stop accepting, shut the loop down
	clock   clock         // monotonic, unless a test stands in for it (clock.go)

	db           *store.DB // with Config.DB: the database, open until the loop ends
	backendsOnce sync.Once // closeBackends

	active  atomic.Int64  // connections holding a MaxClients slot (LIMIT-1)
	nextID  atomic.Uint64 // connection ids, for logs
	refused atomic.Int64  // connections refused since the loop last logged the counts (log.go)

	// wg counts every goroutine the server runs: the loop, each reader and
	// writer, each refusal, and each Serve call. Add is only called while
	// the count is above zero (by a Serve call or the loop) or under mu
	// before closing, so Shutdown may Wait.
	wg sync.WaitGroup

	mu        sync.Mutex // guards the fields below
	listeners []net.Listener
	conns     map[*client]struct{} // open sockets, to force closed
	started   bool                 // the loop is running
	shutdown  bool                 // Shutdown has been called
}

// New returns a server with the given limits and extensions, kept in
// memory. It starts nothing but, if accounts are offered, the password
// pool, which Shutdown stops. A server with a database (Config.DB) is made
// by Open, which can fail; New panics if cfg.DB is set.
func New(cfg Config) *Server {
	if cfg.DB != "" {
		panic("impl: New with Config.DB set; use Open")
	}
	s, err := Open(cfg)
	if err != nil {
		panic("impl: " + err.Error()) // not reached: only a database can fail
	}
	return s
}

// newServer returns a server without its backends (backend.go).
func newServer(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		closing: make(chan struct{}),
		clock:   monotonic{},
		conns:   make(map[*client]struct{}),
	}
	s.loop = newLoop(s)
	return s
}

// Addr returns the address of the first listener Serve was given, or nil.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 {
		return nil
	}
	return s.listeners[0].Addr()
}

// Serve accepts connections on ln and serves them until Shutdown, then
// returns ErrServerClosed. On a temporary accept error, such as running out
// of file descriptors, it waits and tries again, from 5 ms doubling up to
// 1 s, as net/http does. Any other accept error is returned; the
// connections already served are not affected. Serve closes ln when it
// returns. It may be called on several listeners at once; all of them
// share the server's clients, rooms and MaxClients. It logs "listening"
// with addr=, or, for a listener with a Transport method (a transport of
// another kind, such as those of package impl/transport), with listen= and
// transport= naming it.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners = append(s.listeners, ln)
	s.wg.Add(1)
	s.startLoopLocked()
	s.mu.Unlock()
	defer s.wg.Done()
	defer ln.Close()

	if t, ok := ln.(interface{ Transport() string }); ok {
		// A listener of another transport (PROTOCOL.md 2.1) names itself.
		// Its address is listen=, so that the first addr= a tool finds in
		// the log is still the line listener's.
		s.log.Info("listening", "listen", ln.Addr().String(), "transport", t.Transport())
	} else {
		s.log.Info("listening", "addr", ln.Addr().String())
	}
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.shuttingDown() {
				return ErrServerClosed
			}
			if te, ok := err.(interface{ Temporary() bool }); !ok || !te.Temporary() {
				return err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "delay", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.closing:
				t.Stop()
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		s.handle(conn)
	}
}

// shuttingDown reports whether Shutdown has been called.
func (s *Server) shuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// startLoopLocked starts the loop goroutine if it is not running. s.mu must
// be held, and Shutdown not yet called.
func (s *Server) startLoopLocked() {
	if !s.started {
		s.started = true
		s.wg.Add(1)
		go s.loop.run()
	}
}

// handle takes a newly accepted connection: it is refused if the server is
// full (LIMIT-2), and otherwise handed to the loop.
func (s *Server) handle(conn net.Conn) {
	if s.active.Add(1) > int64(s.cfg.MaxClients) {
		s.active.Add(-1)
		s.wg.Add(1)
		go s.refuse(conn)
		return
	}
	c := newClient(s, s.nextID.Add(1), conn)
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	select {
	case s.loop.registerIn <- c:
	case <-s.loop.done:
		c.closeConn()
	}
}

// refuse answers a connection beyond MaxClients with "ERROR Server full" and
// closes it (LIMIT-2). It never touches the loop or its state.
func (s *Server) refuse(conn net.Conn) {
	defer s.wg.Done()
	if s.refused.Add(1) == 1 {
		// The loop's "connections" record will count it (log.go).
		select {
		case s.loop.refusedIn <- struct{}{}:
		default:
		}
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("refused", "remote", conn.RemoteAddr().String(), "reason", ServerFull.String())
	}
	conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
	if _, err := conn.Write(spec.ErrorLine(spec.ErrServerFull).AppendWire(nil)); err == nil {
		closeWrite(conn)
		conn.SetReadDeadline(time.Now().Add(lingerTimeout))
		discard(conn)
	}
	conn.Close()
}

// forget drops c from the set of open sockets.
func (s *Server) forget(c *client) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Shutdown stops the server (SHUT-1): it closes the listeners, sends every
// client "ERROR Server shutting down", writes what is queued, and closes
// every connection. Lines that wait for a password hash, the database or a
// login token are abandoned; then the password pool, the store (which
// commits what was queued to it) and the database are closed, before
// Shutdown returns, whether or not ctx ended first. It returns when all of the server's goroutines have
// ended, or, if ctx ends first, closes the remaining sockets at once and
// returns ctx.Err(). Serve returns ErrServerClosed.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	// The listeners close before the loop hears of the shutdown, so that
	// no connection is accepted once a client has read the notice (SHUT-2);
	// an accept that fails meanwhile finds s.shutdown set (shuttingDown).
	first := !s.shutdown
	s.shutdown = true
	for _, ln := range s.listeners {
		ln.Close()
	}
	if first {
		close(s.closing)
	}
	started := s.started
	s.mu.Unlock()
	if !started {
		s.closeBackends() // the loop, which would, never ran
	}

	allDone := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(allDone)
	}()
	select {
	case <-allDone:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		open := make([]*client, 0, len(s.conns))
		for c := range s.conns {
			open = append(open, c)
		}
		s.mu.Unlock()
		for _, c := range open {
			c.closeConn()
		}
		if started {
			// The loop ends at once, never waiting on a socket; it closes
			// the database as it does, and the database must be closed
			// when Shutdown returns, so that it can be opened again.
			<-s.loop.done
			s.closeBackends()
		}
		return ctx.Err()
	}
}
