package impl_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"roomchat.dev/roomchat/conformance/dial"
	"roomchat.dev/roomchat/impl"
)

// The harness of impl's tests: a server on a loopback port and testClient,
// the one kind of client the tests of this package use to talk to it over
// TCP (the robustness tests included). The other harness_*_test.go
// files add to it by job: a client that follows a room in a goroutine of
// its own (harness_follow_test.go), rooms of such clients
// (harness_room_test.go), crowds of attacking clients
// (harness_crowd_test.go), server logs to wait on (harness_log_test.go)
// and the bounds on memory and goroutines (harness_bounds_test.go).

// TestMain fails the run if any goroutine outlives the tests: every server
// is shut down by its test, and Shutdown returns only when all of the
// server's goroutines have ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failAfter bounds every wait for the server in these tests. It is a
// failure timeout, never a means of synchronisation: tests synchronise on
// PING/PONG barriers and on the lines they expect.
const failAfter = 20 * time.Second

// testServer is a server on a loopback port, shut down when its test ends.
type testServer struct {
	srv      *impl.Server
	addr     string
	serveErr chan error
	once     sync.Once
	err      error
}

// startServer starts a server with cfg on 127.0.0.1:0, opening its
// database if cfg.DB is set; each setup function is applied to it before
// it serves.
func startServer(t testing.TB, cfg impl.Config, setup ...func(*impl.Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := impl.Open(cfg)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, addr: ln.Addr().String(), serveErr: make(chan error, 1)}
	for _, f := range setup {
		f(ts.srv)
	}
	go func() { ts.serveErr <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		if err := ts.shutdown(); err != nil {
			t.Error(err)
		}
	})
	return ts
}

// shutdown shuts the server down once and checks that Serve returned
// ErrServerClosed.
func (ts *testServer) shutdown() error {
	ts.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), failAfter)
		defer cancel()
		if err := ts.srv.Shutdown(ctx); err != nil {
			ts.err = fmt.Errorf("Shutdown: %v", err)
			return
		}
		if err := <-ts.serveErr; !errors.Is(err, impl.ErrServerClosed) {
			ts.err = fmt.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts.err
}

// testClient is one connection to a test server. The test reads it line by
// line (readLine, expect), or, once follow has been called, a goroutine of
// its own reads it and accounts for the room's traffic as it comes, and
// readLine returns only the lines that goroutine does not account for
// (harness_follow_test.go).
type testClient struct {
	t     testing.TB
	label string
	conn  *net.TCPConn
	r     *bufio.Reader // every read goes through it, so that no byte is lost
	eol   string        // what ends the lines it sends: "\r\n", or "\n" as nc sends
	pings int
	f     *follower // non-nil once follow has started its reader
}

// dialConfig says how dialAddr connects a client.
type dialConfig struct {
	// rcvbuf, if positive, is the socket's receive buffer, set before the
	// handshake so that the TCP window is small from the start: a client
	// that reads slowly, or not at all, fills it soon.
	rcvbuf int
	// readBuf is the size of the client's read buffer; 0 means 4 KiB.
	// Crowds use small ones, so that thousands of clients cost the test
	// little memory beside the server's, which the bounds measure.
	readBuf int
	// uncleaned: the caller closes the connection; no cleanup is
	// registered for it. For the thousands of connections of a churn or
	// a crowd, whose cleanups would otherwise pile up.
	uncleaned bool
}

// dial connects a client labelled label; it is closed when the test ends.
func (ts *testServer) dial(t testing.TB, label string) *testClient {
	t.Helper()
	return dialAddr(t, ts.addr, label, dialConfig{})
}

// dialRcvBuf connects a client whose receive buffer is rcvbuf bytes; it is
// closed when the test ends.
func (ts *testServer) dialRcvBuf(t testing.TB, label string, rcvbuf int) *testClient {
	t.Helper()
	return dialAddr(t, ts.addr, label, dialConfig{rcvbuf: rcvbuf})
}

// dialAddr connects a client labelled label to addr as cfg says.
func dialAddr(t testing.TB, addr, label string, cfg dialConfig) *testClient {
	t.Helper()
	d := net.Dialer{Timeout: failAfter}
	if cfg.rcvbuf > 0 {
		d.Control = dial.RcvBufControl(cfg.rcvbuf)
	}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("%s: dial: %v", label, err)
	}
	if !cfg.uncleaned {
		t.Cleanup(func() { conn.Close() })
	}
	size := cfg.readBuf
	if size <= 0 {
		size = 4 << 10
	}
	return &testClient{t: t, label: label, conn: conn.(*net.TCPConn), r: bufio.NewReaderSize(conn, size), eol: "\r\n"}
}

// send sends one line with the client's terminator.
func (c *testClient) send(line string) {
	c.t.Helper()
	c.write([]byte(line + c.eol))
}

// write sends raw bytes.
func (c *testClient) write(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("%s: write: %v", c.label, err)
	}
}

// readLine reads one server line, checks its CRLF and returns it without.
// Once the client follows a room, it returns the next line its reader did
// not account for itself.
func (c *testClient) readLine() (string, error) {
	if c.f != nil {
		return c.f.nextOther()
	}
	c.conn.SetReadDeadline(time.Now().Add(failAfter))
	line, err := c.r.ReadString('\n')
	if err != nil {
		if line != "" {
			return "", fmt.Errorf("partial line %q before %w", line, err)
		}
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("line %q does not end in CRLF", line)
	}
	return strings.TrimSuffix(line, "\r\n"), nil
}

// expect reads the next lines and checks them.
func (c *testClient) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		got, err := c.readLine()
		if err != nil {
			c.t.Fatalf("%s: want %q, got %v", c.label, w, err)
		}
		if got != w {
			c.t.Fatalf("%s: got %q, want %q", c.label, got, w)
		}
	}
}

// readUntil reads lines until one starts with prefix, skipping the others.
func (c *testClient) readUntil(prefix string) {
	c.t.Helper()
	for {
		line, err := c.readLine()
		if err != nil {
			c.t.Fatalf("%s: want a line starting %q, got %v", c.label, prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return
		}
	}
}

// ping sends a PING with a token of its own and returns the token.
func (c *testClient) ping() string {
	c.t.Helper()
	c.pings++
	token := fmt.Sprintf("sync-%d", c.pings)
	c.send("PING " + token)
	return token
}

// pong waits for the PONG of token. Unless the client follows a room, the
// PONG must be the very next line (PING-2).
func (c *testClient) pong(token string) {
	c.t.Helper()
	if c.f != nil {
		c.f.pong(token)
		return
	}
	c.expect("PONG " + token)
}

// sync is a barrier (PING-2): once it returns, every line the client sent
// before has been processed and what it caused has arrived. Unless the
// client follows a room, nothing else may have been queued for it.
func (c *testClient) sync() {
	c.t.Helper()
	c.pong(c.ping())
}

// syncAll is a barrier for several clients at once: each pings, then each
// waits for its PONG.
func syncAll(clients ...*testClient) {
	tokens := make([]string, len(clients))
	for i, c := range clients {
		c.t.Helper()
		tokens[i] = c.ping()
	}
	for i, c := range clients {
		c.pong(tokens[i])
	}
}

// join registers c as name in room, with nobody else there.
func (c *testClient) join(name, room string) {
	c.t.Helper()
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
	c.send("JOIN " + room)
	c.expect("OK Joined " + room + " (0 users)")
}

// enterRoom registers c as name and joins room, whose members so far are
// others (in join order): c receives the roster, the others the JOIN note.
func enterRoom(c *testClient, name, room string, others []*testClient, otherNames []string) {
	c.t.Helper()
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
	c.send("JOIN " + room)
	c.expect(fmt.Sprintf("OK Joined %s (%d users)", room, len(otherNames)))
	for _, o := range otherNames {
		c.expect("JOIN " + room + " " + o)
	}
	for _, o := range others {
		if o != nil {
			o.expect("JOIN " + room + " " + name)
		}
	}
}

// expectClosed checks that the server closes the connection without
// sending anything more, then closes the client's side.
func (c *testClient) expectClosed() {
	c.t.Helper()
	line, err := c.readLine()
	if err == nil {
		c.t.Fatalf("%s: got %q, want the connection closed", c.label, line)
	}
	if !errors.Is(err, io.EOF) {
		c.t.Fatalf("%s: want the connection closed (EOF), got %v", c.label, err)
	}
	c.conn.Close()
}

// expectReset checks that the server resets the connection before any
// further line: the abortive close of a slow consumer (LIMIT-8).
func (c *testClient) expectReset() {
	c.t.Helper()
	line, err := c.readLine()
	if err == nil {
		c.t.Fatalf("%s: got %q, want the connection reset", c.label, line)
	}
	if !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("%s: want the connection reset (LIMIT-8), got %v", c.label, err)
	}
	c.conn.Close()
}

// expectGone checks that the server has closed the connection, gracefully
// or with a reset, without sending anything more.
func (c *testClient) expectGone() {
	c.t.Helper()
	line, err := c.readLine()
	if err == nil {
		c.t.Fatalf("%s: got %q, want the connection closed", c.label, line)
	}
	if !isClosed(err) {
		c.t.Fatalf("%s: want the connection closed, got %v", c.label, err)
	}
}

// reset closes the connection abortively: the server reads a reset.
func (c *testClient) reset() {
	c.conn.SetLinger(0)
	c.conn.Close()
}

// isClosed reports whether err is the end of a connection: EOF or a reset.
func isClosed(err error) bool {
	return err == io.EOF || errors.Is(err, syscall.ECONNRESET)
}
