package racyserver

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Races selects deliberate concurrency bugs; the zero value is the correct server.
type Races struct {
	NameCheckThenSet   bool // USERNAME: checks the name is free under the lock, releases it, then takes it under the lock again: two clients can both get "OK Welcome" for one name.
	FanOutDuringLeave  bool // room fan-out iterates a snapshot of the member list taken before a concurrent LEAVE/JOIN/disconnect is applied, without ordering against it: a member gets a message after its own LEAVE was announced, or a new member misses one that others see after its JOIN.
	UnorderedFanOut    bool // each room message is delivered to members without a room-wide order (e.g. a lock per recipient, taken in turn, released between recipients; or one goroutine per delivery): two concurrent senders' lines reach two members in different orders (ORDER-2).
	StalePrivmsgTarget bool // PRIVMSG looks up the target connection, releases the lock, then checks the name again but not its owner: if the target disconnects and a new client takes the name in between, the sender gets "OK Sent" but the message goes to the old (closed) connection; see the package documentation.
	// Window widens each race's window (e.g. a time.Sleep or a few runtime.Gosched between the check and the act); 0 means a small default (say 200µs). It must not change behaviour when no race is on.
	Window time.Duration
}

// DefaultWindow is the race window when Races.Window is 0.
const DefaultWindow = 200 * time.Microsecond

// writeTimeout bounds one write to a client. A client that accepts nothing
// for this long is closed; its reader then processes the disconnect.
const writeTimeout = 5 * time.Second

// quitDrain bounds how long the server reads and discards what a client
// sends after QUIT, after half-closing the connection, before it closes it.
const quitDrain = time.Second

// Server is a running racy server.
type Server struct {
	races  Races         // immutable
	window time.Duration // immutable: races.Window or DefaultWindow
	ln     net.Listener  // immutable
	wg     sync.WaitGroup

	connsMu sync.Mutex
	conns   map[*client]struct{} // every open connection; guarded by connsMu
	nextID  uint64               // guarded by connsMu
	stopped bool                 // guarded by connsMu

	namesMu sync.Mutex
	names   map[string]*client // folded username -> its owner; guarded by namesMu

	roomsMu sync.Mutex
	rooms   map[string]*room // folded room name -> room; guarded by roomsMu
}

// Start listens on addr (a loopback address such as "127.0.0.1:0") and
// serves the protocol with the given races until Stop.
func Start(addr string, races Races) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		races:  races,
		window: races.Window,
		ln:     ln,
		conns:  map[*client]struct{}{},
		names:  map[string]*client{},
		rooms:  map[string]*room{},
	}
	if s.window <= 0 {
		s.window = DefaultWindow
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the address clients connect to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop closes the listener and every connection, and waits for every
// goroutine of the server to return. Calling it twice is harmless.
func (s *Server) Stop() error {
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	s.connsMu.Lock()
	s.stopped = true
	for c := range s.conns {
		c.closeConn()
	}
	s.connsMu.Unlock()
	s.wg.Wait()
	return err
}

// accept accepts connections until the listener is closed, and starts a
// goroutine for each.
func (s *Server) accept() {
	defer s.wg.Done()
	delay := 5 * time.Millisecond
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: back off and retry.
			time.Sleep(delay)
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		s.connsMu.Lock()
		if s.stopped {
			s.connsMu.Unlock()
			conn.Close()
			continue
		}
		s.nextID++
		c := &client{id: s.nextID, srv: s, conn: conn}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.connsMu.Unlock()
		go c.serve()
	}
}

// forget removes c from the open connections.
func (s *Server) forget(c *client) {
	s.connsMu.Lock()
	delete(s.conns, c)
	s.connsMu.Unlock()
}

// pause is the window of a race: the time between a check and the act
// that relies on it. It is called only on the path of a race that is on.
func (s *Server) pause() { time.Sleep(s.window) }
