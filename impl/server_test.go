package impl_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestShutdown: every client, in every state, receives the notice and is
// closed, with no LEAVE notes (SHUT-1); Serve returns ErrServerClosed, the
// port is closed, and no goroutine of the server survives. Not parallel, so
// that goleak sees only this test's goroutines.
func TestShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var log logBuffer
	ts := startServer(t, impl.Config{Logger: log.logger()})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	carol := ts.dial(t, "carol")
	carol.send("USERNAME carol")
	carol.expect("OK Welcome, carol!")
	dave := ts.dial(t, "dave")
	dave.sync()
	if got := ts.srv.Addr().String(); got != ts.addr {
		t.Errorf("Addr() = %s, want %s", got, ts.addr)
	}

	done := make(chan error, 1)
	go func() { done <- ts.shutdown() }()
	for _, c := range []*testClient{alice, bob, carol, dave} {
		c.expect("ERROR " + spec.ErrShuttingDown)
		c.expectClosed()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", ts.addr); err == nil {
		c.Close()
		t.Error("the server still accepts connections")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Serve(ln); !errors.Is(err, impl.ErrServerClosed) {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	if err := ts.srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
	if got := strings.Count(log.String(), "reason=shutdown"); got != 4 {
		t.Errorf("%d shutdown closes logged, want 4:\n%s", got, log.String())
	}
}

// TestShutdownDeadline: when Shutdown's context ends first, the sockets are
// closed at once and every goroutine still ends.
func TestShutdownDeadline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := impl.New(impl.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ts := &testServer{srv: srv, addr: ln.Addr().String()}
	a := ts.dial(t, "a")
	a.join("a", "#r")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	if err := <-served; !errors.Is(err, impl.ErrServerClosed) {
		t.Errorf("Serve = %v", err)
	}
	a.conn.Close()
}

// TestShutdownUnstarted: a server that never served shuts down at once.
func TestShutdownUnstarted(t *testing.T) {
	t.Parallel()
	srv := impl.New(impl.Config{})
	if srv.Addr() != nil {
		t.Error("Addr before Serve is not nil")
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// flakyListener fails its first Accept calls with a temporary error, as
// accept(2) does on EMFILE.
type flakyListener struct {
	net.Listener
	failures atomic.Int32
	calls    atomic.Int32
}

type temporaryError struct{}

func (temporaryError) Error() string   { return "accept: too many open files" }
func (temporaryError) Timeout() bool   { return false }
func (temporaryError) Temporary() bool { return true }

func (l *flakyListener) Accept() (net.Conn, error) {
	l.calls.Add(1)
	if l.failures.Add(-1) >= 0 {
		return nil, temporaryError{}
	}
	return l.Listener.Accept()
}

// TestServeRetriesTemporaryErrors: Serve backs off and retries on temporary
// accept errors instead of returning or spinning.
func TestServeRetriesTemporaryErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.failures.Store(3)
	srv := impl.New(impl.Config{})
	served := make(chan error, 1)
	start := time.Now()
	go func() { served <- srv.Serve(fl) }()
	ts := &testServer{srv: srv, addr: ln.Addr().String(), serveErr: served}
	t.Cleanup(func() {
		if err := ts.shutdown(); err != nil {
			t.Error(err)
		}
	})
	c := ts.dial(t, "c")
	c.sync()
	if d := time.Since(start); d < 35*time.Millisecond {
		t.Errorf("served after %v: no back-off (5+10+20 ms)", d)
	}
	if n := fl.calls.Load(); n != 5 { // 3 failures, c, and the pending one
		t.Logf("Accept called %d times", n)
	}
}

// brokenListener fails Accept with a permanent error.
type brokenListener struct{ net.Listener }

func (brokenListener) Accept() (net.Conn, error) { return nil, errors.New("broken") }

// TestServePermanentError: any other accept error is returned.
func TestServePermanentError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := impl.New(impl.Config{})
	if err := srv.Serve(brokenListener{ln}); err == nil || err.Error() != "broken" {
		t.Errorf("Serve = %v, want broken", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLogs: at the debug level, one line per connect and disconnect with
// the remote address, user and reason, and one per line received; peer
// bytes appear quoted once, never raw.
func TestLogs(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	a := ts.dial(t, "a")
	a.send("USERNAME a")
	a.expect("OK Welcome, a!")
	a.write([]byte("esc \x1b[2J bell \x07 nul \x00 bad \xff\r\n"))
	a.expect("ERROR " + spec.ErrInvalidUTF8)
	a.send("QUIT")
	a.expect("OK Goodbye!")
	a.expectClosed()
	b := ts.dial(t, "b")
	b.join("b", "#w")
	c := ts.dial(t, "c")
	enterRoom(c, "c", "#w", []*testClient{b}, []string{"b"})
	b.conn.Close()
	c.expect("LEAVE #w b")
	c.conn.Close()
	if err := ts.shutdown(); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	for _, want := range []string{
		"msg=connect conn=1 remote=" + a.conn.LocalAddr().String(),
		"msg=disconnect conn=1 remote=" + a.conn.LocalAddr().String() + " user=a reason=quit",
		"msg=disconnect conn=2 remote=" + b.conn.LocalAddr().String() + " user=b reason=disconnected detail=EOF",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, raw := range []string{"\x1b", "\x07", "\x00", "\xff"} {
		if strings.Contains(out, raw) {
			t.Errorf("log holds raw %q:\n%s", raw, out)
		}
	}
	// The line is quoted once, by the handler: not "\"esc \\x1b...".
	if !strings.Contains(out, `line="esc \x1b[2J bell \a nul \x00 bad \xff" overlong=false`) {
		t.Errorf("log lacks the line quoted once:\n%s", out)
	}
	if !strings.Contains(out, `line="QUIT" overlong=false`) {
		t.Errorf("log lacks a printable line, quoted:\n%s", out)
	}
}
