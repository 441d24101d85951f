package conformance

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// closedAddr returns the address of a port on 127.0.0.1 that nothing
// listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startRawServer starts a server that runs serve on each connection, then
// closes it.
func startRawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{}) // closed when the test ends
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				go func() { <-done; c.Close() }()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); close(done); wg.Wait() })
	return ln.Addr().String()
}

// newRunner returns a runner of no scripts for cfg.
func newRunner(t *testing.T, cfg Config) *Runner {
	t.Helper()
	r, err := NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestPreflightAddr checks the pre-flight against servers at an address:
// nothing listening, an HTTP server, servers that never answer or close at
// once, and the model of PROTOCOL.md, with and without the ping extension.
func TestPreflightAddr(t *testing.T) {
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	webAddr := strings.TrimPrefix(web.URL, "http://")
	silent := startRawServer(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		c.Read(make([]byte, 1)) // until the client leaves
	})
	closing := startRawServer(t, func(c net.Conn) { bufio.NewReader(c).ReadString('\n') })
	babbling := startRawServer(t, func(c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		c.Write([]byte(strings.Repeat("x", 1000)))
	})
	model := startModelServerT(t)
	core := []string{"core"}
	for _, tc := range []struct {
		name    string
		addr    string
		tags    []string
		timeout time.Duration
		want    []string // in the error; none for no error
	}{
		{name: "closed", addr: closedAddr(t), want: []string{"cannot connect to", "connection refused", "is the server running"}},
		{name: "http", addr: webAddr, want: []string{`to "PING x" it answered "HTTP/1.1 400 Bad Request", not a server line of PROTOCOL.md (unknown line word)`}},
		{name: "http_noping", addr: webAddr, tags: core, want: []string{`to "USERNAME preflight`, `it answered "HTTP/1.1 400 Bad Request"`}},
		// The wait is the point here, so it is short.
		{name: "silent", addr: silent, timeout: 50 * time.Millisecond, want: []string{`does not answer: no line within 50ms of sending "PING x"`, "ping extension"}},
		{name: "closing", addr: closing, want: []string{`closed the connection without answering "PING x"`}},
		{name: "babbling", addr: babbling, want: []string{`answered 600 bytes without a line end, starting "xxx`}},
		{name: "model", addr: model},
		{name: "model_noping", addr: model, tags: core},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newRunner(t, Config{Addr: tc.addr, Tags: tc.tags, Timeout: tc.timeout}).Preflight()
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("Preflight: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Preflight: no error, want %q", tc.want)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Preflight: %v\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

// TestCheckAddr checks the syntax of Config.Addr, which NewRunner checks.
func TestCheckAddr(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:9999": "",
		"localhost:1":    "",
		":9999":          "",
		"[::1]:9999":     "",
		"127.0.0.1":      "missing port in address",
		"127.0.0.1:":     `port "" is not a number`,
		"127.0.0.1:http": `port "http" is not a number`,
		"127.0.0.1:0":    `port "0" is not a number`,
		"host:65536":     `port "65536" is not a number`,
		"::1:9999":       "too many colons",
	} {
		r, err := NewRunner(Config{Addr: addr})
		if err == nil {
			r.Close()
		}
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("NewRunner(Addr: %q): %v, want %q", addr, err, want)
		}
	}
}

// stopCounter counts the stops of the servers a StartFunc started.
type stopCounter struct {
	Server
	mu    *sync.Mutex
	stops *int
}

func (s stopCounter) Stop() error {
	s.mu.Lock()
	*s.stops++
	s.mu.Unlock()
	return s.Server.Stop()
}

// TestPreflightExec checks the pre-flight of servers it starts: one that
// exits at once, one that never listens, one that cannot be run, and the
// model, which it starts once and stops.
func TestPreflightExec(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	exits, err := ExecServer(`sh -c 'echo bad flag >&2; exit 2' {port}`)
	if err != nil {
		t.Fatal(err)
	}
	err = newRunner(t, Config{Start: exits}).Preflight()
	if err == nil || !strings.Contains(err.Error(), "server exited before accepting connections (exit status 2)") || strings.Count(err.Error(), "server output:\n  bad flag") != 1 {
		t.Errorf("a server that exits at once: %v\nwant its exit and its output once", err)
	}

	// The wait is the point here, so it is short.
	mute, err := ExecServerTimeout(`sh -c 'exec sleep 60' {port}`, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	err = newRunner(t, Config{Start: mute}).Preflight()
	if err == nil || !strings.Contains(err.Error(), "not accepting connections on 127.0.0.1:") || !strings.Contains(err.Error(), "after 50ms") {
		t.Errorf("a server that never listens: %v", err)
	}

	missing, err := ExecServer("nosuchprogram-xyz {port}")
	if err != nil {
		t.Fatal(err)
	}
	err = newRunner(t, Config{Start: missing}).Preflight()
	if err == nil || !strings.Contains(err.Error(), "cannot start the server") || !strings.Contains(err.Error(), "nosuchprogram-xyz") {
		t.Errorf("a program that does not exist: %v", err)
	}

	var mu sync.Mutex
	starts, stops := 0, 0
	start := func(flags []string) (Server, error) {
		srv, err := startModelServer(flags)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		starts++
		mu.Unlock()
		return stopCounter{Server: srv, mu: &mu, stops: &stops}, nil
	}
	if err := newRunner(t, Config{Start: start}).Preflight(); err != nil {
		t.Errorf("the model: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if starts != 1 || stops != 1 {
		t.Errorf("the model was started %d times and stopped %d times, want 1 and 1", starts, stops)
	}
}

// TestRunTestsPreflight runs TestScripts, in a child process, against an
// address where nothing listens: it must fail once, with the reason, and
// run no script.
func TestRunTestsPreflight(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary again")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestScripts$", "-test.v", "-addr="+closedAddr(t))
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("TestScripts passed against a closed port:\n%s", out)
	}
	if n := strings.Count(string(out), "cannot test the server"); n != 1 || !strings.Contains(string(out), "connection refused") {
		t.Errorf("%d reasons, want 1 saying the connection was refused:\n%s", n, out)
	}
	if strings.Contains(string(out), "TestScripts/") {
		t.Errorf("scripts ran:\n%s", out)
	}
}
