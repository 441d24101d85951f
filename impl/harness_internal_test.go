package impl

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The harness of the tests inside the package: a clock that stands still
// and a loop driven by hand.

// testClock is a clock for a server (Server.clock, clock.go) that
// stands still unless the test, or a fake connection, moves it. It starts
// at the real reading, so that deadlines derived from it are not in the
// past.
type testClock struct {
	mu sync.Mutex
	t  time.Duration
}

func newTestClock() *testClock { return &testClock{t: now()} }

func (c *testClock) now() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// newTimer returns a real timer: a test that stops the clock fires the
// loop's timers by hand.
func (c *testClock) newTimer() (timer, <-chan time.Time) { return monotonic{}.newTimer() }

// advanceTo moves the clock forward to t, if it is not there yet.
func (c *testClock) advanceTo(t time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = max(c.t, t)
}

// handLoop is a server whose loop the test drives by hand: no loop
// goroutine runs, so the test applies each event itself (send), and a
// timer fires only when the test calls its handler. The output clock
// stands still (testClock). Clients' sockets are pipes, written by the
// server's own writers.
type handLoop struct {
	t     *testing.T
	srv   *Server
	l     *loop
	clock *testClock
	ids   uint64
}

// pipeClient is a client of a handLoop and the test's end of its socket.
type pipeClient struct {
	*client
	t      *testing.T
	peer   net.Conn
	r      *bufio.Reader
	socket *pipeSocket
}

// pipeSocket is the server's end of a pipeClient's socket. It records an
// abortive close, which a pipe cannot show its other end.
type pipeSocket struct {
	net.Conn
	reset  atomic.Bool  // SetLinger(0) was called: the close is a reset
	writes atomic.Int64 // calls of Write
}

func (s *pipeSocket) Write(p []byte) (int, error) {
	s.writes.Add(1)
	return s.Conn.Write(p)
}

func (s *pipeSocket) SetLinger(sec int) error {
	if sec == 0 {
		s.reset.Store(true)
	}
	return nil
}

func newHandLoop(t *testing.T, cfg Config) *handLoop {
	srv := New(cfg)
	h := &handLoop{t: t, srv: srv, l: srv.loop, clock: newTestClock()}
	srv.useClock(h.clock)
	t.Cleanup(func() {
		// Writers still running fail on the closed pipes, find the loop
		// gone and end.
		for c := range h.l.clients {
			c.conn.Close()
		}
		close(h.l.done)
		h.srv.wg.Wait()
		h.srv.closeBackends()
	})
	return h
}

// connect adds a client as register would, but starts no reader: the
// test hands the loop its lines and the end of its stream (send, end).
func (h *handLoop) connect() *pipeClient {
	server, peer := net.Pipe()
	socket := &pipeSocket{Conn: server}
	h.t.Cleanup(func() { peer.Close() })
	c := h.adopt(socket)
	return &pipeClient{client: c, t: h.t, peer: peer, r: bufio.NewReader(peer), socket: socket}
}

// adopt adds a client on conn as register would, but starts no reader.
func (h *handLoop) adopt(conn net.Conn) *client {
	h.ids++
	c := newClient(h.srv, h.ids, conn)
	close(c.readerDone) // no reader runs, so none holds up a graceful close
	h.l.clients[c] = struct{}{}
	c.lastActive = h.clock.now()
	c.idleElem = h.l.idle.PushBack(c)
	return c
}

// send applies a line from p as one item of the loop, as if p's reader had
// handed it over, and takes the resumption the reader would wait for.
func (h *handLoop) send(p *pipeClient, line string) {
	h.l.onRead(readEvent{c: p.client, line: []byte(line)})
	h.l.settle()
	select {
	case <-p.resumeIn:
	default:
	}
}

// end applies the end of p's stream, as its reader would report it.
func (h *handLoop) end(p *pipeClient, err error) {
	h.l.onRead(readEvent{c: p.client, err: err})
	h.l.settle()
}

// resumed reports whether the loop let p's reader go on after its last
// line, and takes that resumption.
func (p *pipeClient) resumed() bool {
	select {
	case <-p.resumeIn:
		return true
	default:
		return false
	}
}

// quiesce waits until every writer has ended: all that was written has
// been read, and each queue has recorded its last write.
func (h *handLoop) quiesce() {
	h.t.Helper()
	done := make(chan struct{})
	go func() {
		h.srv.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(failAfter):
		h.t.Fatalf("a writer still runs after %v", failAfter)
	}
}

// failAfter bounds the waits of these tests; it is a failure timeout.
const failAfter = 20 * time.Second

// expectEOF checks that p's socket is closed with nothing more to read.
func (p *pipeClient) expectEOF() {
	p.t.Helper()
	p.peer.SetReadDeadline(time.Now().Add(failAfter))
	if line, err := p.r.ReadString('\n'); err != io.EOF {
		p.t.Fatalf("conn %d: got %q, %v, want the end of the stream", p.id, line, err)
	}
}

// expect reads the next lines from p's socket.
func (p *pipeClient) expect(want ...string) {
	p.t.Helper()
	for _, w := range want {
		p.peer.SetReadDeadline(time.Now().Add(failAfter))
		line, err := p.r.ReadString('\n')
		if err != nil {
			p.t.Fatalf("conn %d: want %q, got %v", p.id, w, err)
		}
		if got := strings.TrimSuffix(line, "\r\n"); got != w {
			p.t.Fatalf("conn %d: got %q, want %q", p.id, got, w)
		}
	}
}

// waiting reports whether p has lines waiting for the flush, and no
// writer.
func (p *pipeClient) waiting() bool {
	p.out.mu.Lock()
	defer p.out.mu.Unlock()
	return p.flushQueued && !p.out.writing && p.out.fill != nil && len(p.out.fill.lines) > 0
}

// twoInRoom registers alice and bob and has them join #r, alice first,
// and waits until their writers are done, so that each was written to at
// the moment the clock stands at.
func twoInRoom(h *handLoop) (alice, bob *pipeClient) {
	h.t.Helper()
	alice, bob = h.connect(), h.connect()
	h.send(alice, "USERNAME alice")
	alice.expect("OK Welcome, alice!")
	h.send(alice, "JOIN #r")
	alice.expect("OK Joined #r (0 users)")
	h.send(bob, "USERNAME bob")
	bob.expect("OK Welcome, bob!")
	h.send(bob, "JOIN #r")
	bob.expect("OK Joined #r (1 users)", "JOIN #r alice")
	h.send(alice, "PING joined") // bob's JOIN note comes with it, whatever the delay
	alice.expect("JOIN #r bob", "PONG joined")
	h.quiesce()
	return alice, bob
}
