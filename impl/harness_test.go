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

	"roomchat.dev/roomchat/impl"
)

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

// startServer starts a server with cfg on 127.0.0.1:0.
func startServer(t testing.TB, cfg impl.Config) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: impl.New(cfg), addr: ln.Addr().String(), serveErr: make(chan error, 1)}
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

// testClient is one connection to a test server.
type testClient struct {
	t     testing.TB
	label string
	conn  net.Conn
	r     *bufio.Reader
	eol   string // what ends the lines it sends: "\r\n", or "\n" as nc sends
	pings int
}

// dial connects a client labelled label; it is closed when the test ends.
func (ts *testServer) dial(t testing.TB, label string) *testClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", ts.addr, failAfter)
	if err != nil {
		t.Fatalf("%s: dial: %v", label, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, label: label, conn: conn, r: bufio.NewReader(conn), eol: "\r\n"}
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
func (c *testClient) readLine() (string, error) {
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

// sync is a barrier (PING-2): it sends a PING and checks that its PONG is
// the very next line, so that nothing else was queued for the client.
func (c *testClient) sync() {
	c.t.Helper()
	c.pings++
	token := fmt.Sprintf("sync-%d", c.pings)
	c.send("PING " + token)
	c.expect("PONG " + token)
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
