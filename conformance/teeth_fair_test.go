package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTeethUnfairReading runs the scripts of LIMIT-12 against a stand-in
// server that reads unfairly: once it takes a line from a client, it goes
// on with that client's lines for as long as more of them arrive. Each
// script must miss the SHOULD (NON-STRICT). The same server taking turns,
// one read of each client at a time, passes them, so that nothing else
// makes them fail.
//
// The unfair server lets another client have a turn once the flooding
// client has sent nothing for greedyGap, which a machine loaded enough
// could make the runner take between the two parts of the flood. As in
// TestTeethTimeouts, a script that passes against it gets two more tries:
// the test asks whether the script can tell.
func TestTeethUnfairReading(t *testing.T) {
	if testing.Short() {
		t.Skip("floods of hundreds of thousands of lines")
	}
	scripts := loadSuite(t)
	for _, tc := range []struct {
		how    string
		greedy bool
		want   Status
		tries  int
	}{
		{"takes turns", false, Pass, 1},
		{"reads a flood to its end", true, NonStrict, teethTries},
	} {
		start := func([]string) (Server, error) { return startGreedy(tc.greedy) }
		for _, name := range []string{"limit_fair_room", "limit_fair_private"} {
			t.Run(strings.ReplaceAll(tc.how, " ", "_")+"/"+name, func(t *testing.T) {
				t.Parallel()
				for try := 1; ; try++ {
					res := runOne(t, Config{Start: start, Scripts: scripts}, name)
					if res.Status == tc.want {
						return
					}
					verdict := fmt.Sprintf("%s %s against a server that %s (try %d of %d); want %s", res.Status, name, tc.how, try, tc.tries, tc.want)
					if try == tc.tries {
						t.Errorf("%s\n%s", verdict, Details(res))
						return
					}
					t.Log(verdict)
				}
			})
		}
	}
}

// greedyServer serves what the scripts of LIMIT-12 use (USERNAME, JOIN,
// MSG, PRIVMSG). The client whose bytes it is handling holds the server
// (turn) for one read; if the server is greedy and the client floods (it
// has sent greedyFlood lines), until none has arrived from it for
// greedyGap. Output is queued without bound and written by a goroutine per client,
// so that a member who does not read holds no one back.
type greedyServer struct {
	ln     net.Listener
	greedy bool
	wg     sync.WaitGroup

	turn  sync.Mutex // held by the client being served; guards users and rooms
	users map[string]*greedyConn
	rooms map[string][]*greedyConn

	connsMu sync.Mutex // not turn: Stop must not wait for a greedy turn
	conns   map[*greedyConn]struct{}
	stopped bool // under connsMu: a connection accepted now is closed
}

// A greedy server keeps the turn of a client that has sent greedyFlood
// lines until it has sent nothing for greedyGap. Clients that send a line
// or two, as in the scripts' setup, are served as by a fair server, so
// that the gap does not slow the scripts down.
const (
	greedyFlood = 100
	greedyGap   = 5 * time.Second
)

// greedyConn is one connection of a greedyServer.
type greedyConn struct {
	conn  net.Conn
	lines int    // lines handled; under turn
	name  string // under turn
	room  string // under turn

	mu     sync.Mutex
	ready  *sync.Cond
	out    []byte
	closed bool
}

func startGreedy(greedy bool) (*greedyServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &greedyServer{ln: ln, greedy: greedy, users: map[string]*greedyConn{}, rooms: map[string][]*greedyConn{}, conns: map[*greedyConn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *greedyServer) Addr() string    { return s.ln.Addr().String() }
func (s *greedyServer) Shutdown() error { return s.Stop() }
func (s *greedyServer) Log() string     { return "" }

// Stop closes the listener and every connection, and waits for their
// goroutines.
func (s *greedyServer) Stop() error {
	s.ln.Close()
	s.connsMu.Lock()
	s.stopped = true
	for c := range s.conns {
		c.conn.Close()
		c.queue(nil, true)
	}
	s.connsMu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *greedyServer) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &greedyConn{conn: conn}
		c.ready = sync.NewCond(&c.mu)
		s.connsMu.Lock()
		if s.stopped {
			s.connsMu.Unlock()
			conn.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.connsMu.Unlock()
		s.wg.Add(2)
		go s.read(c)
		go s.write(c)
	}
}

// read waits for bytes from c, then holds the turn to handle every
// complete line, and if greedy and c floods, for as long as more bytes
// keep arriving within greedyGap.
func (s *greedyServer) read(c *greedyConn) {
	defer s.wg.Done()
	buf := make([]byte, 64<<10)
	var pending []byte
	for {
		c.conn.SetReadDeadline(time.Time{})
		n, err := c.conn.Read(buf)
		if err != nil {
			s.leave(c)
			return
		}
		s.turn.Lock()
		for n > 0 {
			pending = append(pending, buf[:n]...)
			pending = s.handleLines(c, pending)
			if !s.greedy || c.lines < greedyFlood {
				break
			}
			c.conn.SetReadDeadline(time.Now().Add(greedyGap))
			n, err = c.conn.Read(buf)
			if err != nil && !isTimeout(err) {
				s.turn.Unlock()
				s.leave(c)
				return
			}
		}
		s.turn.Unlock()
	}
}

// isTimeout reports whether err is a read deadline passing.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handleLines handles the complete lines at the start of data, under
// turn, and returns what is left.
func (s *greedyServer) handleLines(c *greedyConn, data []byte) []byte {
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return append(data[:0:0], data...)
		}
		s.handle(c, strings.TrimSuffix(string(data[:i]), "\r"))
		data = data[i+1:]
	}
}

// handle applies one line, under turn.
func (s *greedyServer) handle(c *greedyConn, line string) {
	c.lines++
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case "USERNAME":
		c.name = arg
		s.users[arg] = c
		c.queue([]byte("OK Welcome, "+arg+"!\r\n"), false)
	case "JOIN":
		members := s.rooms[arg]
		c.queue(fmt.Appendf(nil, "OK Joined %s (%d users)\r\n", arg, len(members)), false)
		for _, m := range members {
			c.queue([]byte("JOIN "+arg+" "+m.name+"\r\n"), false)
			m.queue([]byte("JOIN "+arg+" "+c.name+"\r\n"), false)
		}
		c.room = arg
		s.rooms[arg] = append(members, c)
	case "MSG":
		out := []byte("ROOM " + c.room + " " + c.name + " " + arg + "\r\n")
		for _, m := range s.rooms[c.room] {
			m.queue(out, false)
		}
	case "PRIVMSG":
		to, text, _ := strings.Cut(arg, " ")
		if t := s.users[to]; t != nil {
			t.queue([]byte("PRIVMSG "+c.name+" "+text+"\r\n"), false)
		}
		c.queue([]byte("OK Sent\r\n"), false)
	default:
		c.queue([]byte("ERROR Unknown command\r\n"), false)
	}
}

// leave forgets c and ends its writer.
func (s *greedyServer) leave(c *greedyConn) {
	s.connsMu.Lock()
	delete(s.conns, c)
	s.connsMu.Unlock()
	s.turn.Lock()
	if s.users[c.name] == c {
		delete(s.users, c.name)
	}
	if c.room != "" {
		members := s.rooms[c.room]
		for i, m := range members {
			if m == c {
				s.rooms[c.room] = append(members[:i:i], members[i+1:]...)
				break
			}
		}
	}
	s.turn.Unlock()
	c.queue(nil, true)
	c.conn.Close()
}

// queue adds b to c's output, or marks c closed.
func (c *greedyConn) queue(b []byte, closed bool) {
	c.mu.Lock()
	c.out = append(c.out, b...)
	c.closed = c.closed || closed
	c.mu.Unlock()
	c.ready.Signal()
}

// write writes c's output as it comes, until c is closed.
func (s *greedyServer) write(c *greedyConn) {
	defer s.wg.Done()
	for {
		c.mu.Lock()
		for len(c.out) == 0 && !c.closed {
			c.ready.Wait()
		}
		out, closed := c.out, c.closed
		c.out = nil
		c.mu.Unlock()
		if closed {
			return
		}
		if _, err := c.conn.Write(out); err != nil {
			c.conn.Close()
			return
		}
	}
}
