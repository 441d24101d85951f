package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// failAfter bounds every wait in these tests; it is never used to
// synchronise.
const failAfter = 30 * time.Second

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// chatdBinary builds chatd once per test run, into a temporary directory.
func chatdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir, err := os.MkdirTemp("", "chatd-test-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "chatd")
		out, err := exec.Command(goTool, "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// daemon is a running chatd.
type daemon struct {
	cmd       *exec.Cmd
	addr      string            // the line listener's
	listeners map[string]string // address by transport: "lines", "tls", "framed4", "framed8"
	mu        sync.Mutex
	stderr    bytes.Buffer // everything logged
	logged    chan struct{}
}

var (
	listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)
	transportRE = regexp.MustCompile(`msg=listening listen=(\S+) transport=(\S+)`)
)

// listening returns the transport and address of a "listening" record, in
// text or JSON, or ok=false.
func listening(line string) (transport, addr string, ok bool) {
	if m := listeningRE.FindStringSubmatch(line); m != nil {
		return "lines", m[1], true
	}
	if m := transportRE.FindStringSubmatch(line); m != nil {
		return m[2], m[1], true
	}
	if strings.Contains(line, `"msg":"listening"`) {
		var v struct{ Addr, Listen, Transport string }
		json.Unmarshal([]byte(line), &v)
		if v.Addr != "" {
			return "lines", v.Addr, true
		}
		return v.Transport, v.Listen, v.Listen != ""
	}
	return "", "", false
}

// startDaemon runs chatd with args and waits for the line that says where
// it listens for lines.
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	return startDaemonFor(t, []string{"lines"}, args...)
}

// startDaemonFor runs chatd with args and waits for the records that say
// where it listens for each of transports.
func startDaemonFor(t *testing.T, transports []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{cmd: exec.Command(chatdBinary(t), args...), logged: make(chan struct{}), listeners: map[string]string{}}
	pipe, err := d.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
	})
	found := make(chan [2]string, 8)
	go func() {
		defer close(d.logged)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			if tr, addr, ok := listening(line); ok {
				select {
				case found <- [2]string{tr, addr}:
				default:
				}
			}
			d.mu.Lock()
			d.stderr.WriteString(line + "\n")
			d.mu.Unlock()
		}
	}()
	for len(d.listeners) < len(transports) || !hasAll(d.listeners, transports) {
		select {
		case l := <-found:
			d.listeners[l[0]] = l[1]
		case <-d.logged:
			t.Fatalf("chatd exited before listening on %v:\n%s", transports, d.log())
		case <-time.After(failAfter):
			t.Fatalf("chatd did not say where it listens:\n%s", d.log())
		}
	}
	d.addr = d.listeners["lines"]
	return d
}

func hasAll(m map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return false
		}
	}
	return true
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

// stop sends sig and returns the exit error once the process has exited.
func (d *daemon) stop(t *testing.T, sig os.Signal) error {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-d.logged
	return d.cmd.Wait()
}

// ncClient talks like nc: lines end in a bare LF.
type ncClient struct {
	t    *testing.T
	name string
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr, name string) *ncClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(failAfter))
	return &ncClient{t: t, name: name, conn: conn, r: bufio.NewReader(conn)}
}

func (c *ncClient) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
}

func (c *ncClient) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		got, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("%s: want %q, got %v", c.name, w, err)
		}
		if got != w+"\r\n" {
			c.t.Fatalf("%s: got %q, want %q", c.name, got, w+"\r\n")
		}
	}
}

func (c *ncClient) expectEOF() {
	c.t.Helper()
	if line, err := c.r.ReadString('\n'); err != io.EOF || line != "" {
		c.t.Fatalf("%s: got %q, %v; want EOF", c.name, line, err)
	}
}

// TestSeedSession runs chatd as a program, plays the example session of
// PROTOCOL.md section 11 over TCP with bare LF, then stops chatd with
// SIGTERM: bob, still connected, is told, and chatd exits 0.
func TestSeedSession(t *testing.T) {
	t.Parallel()
	// At the info level the connections are counted, not logged one by
	// one; with an interval of an hour the one count is the shutdown's.
	d := startDaemon(t, "-addr", "127.0.0.1:0", "-log-interval", "1h")
	alice := dial(t, d.addr, "alice")
	bob := dial(t, d.addr, "bob")

	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	alice.send("JOIN #general")
	alice.expect("OK Joined #general (0 users)")
	alice.send("Hello everyone!")
	alice.expect("ROOM #general alice Hello everyone!")
	bob.send("USERNAME bob")
	bob.expect("OK Welcome, bob!")
	bob.send("JOIN #general")
	bob.expect("OK Joined #general (1 users)", "JOIN #general alice", "ROOM #general alice Hello everyone!")
	alice.expect("JOIN #general bob")
	bob.send("Hi alice!")
	bob.expect("ROOM #general bob Hi alice!")
	alice.expect("ROOM #general bob Hi alice!")
	alice.send("PRIVMSG bob Hey, private message!")
	alice.expect("OK Sent")
	bob.expect("PRIVMSG alice Hey, private message!")
	alice.send("USERS")
	alice.expect("USERLIST alice bob")
	alice.send("ROOMS")
	alice.expect("ROOMLIST #general")
	alice.send("LEAVE")
	alice.expect("OK Left #general")
	bob.expect("LEAVE #general alice")
	alice.send("QUIT")
	alice.expect("OK Goodbye!")
	alice.expectEOF()

	bob.send("PING")
	bob.expect("PONG")
	done := make(chan error, 1)
	go func() { done <- d.stop(t, syscall.SIGTERM) }()
	bob.expect("ERROR Server shutting down")
	bob.expectEOF()
	bob.conn.Close()
	if err := <-done; err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}
	log := d.log()
	for _, want := range []string{
		`msg="signal received" signal=SIGTERM`,
		"msg=connections period=", " connects=2 disconnects=2 quit=1 shutdown=1 refused=0 clients=0\n",
		"msg=stopped",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "msg=connect ") || strings.Contains(log, "msg=disconnect ") {
		t.Errorf("a connection logged on its own at the info level:\n%s", log)
	}
}

// TestJSONLogAndLimits: -log-format json and the limit flags are taken.
func TestJSONLogAndLimits(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, "-addr", "127.0.0.1:0", "-log-format", "json", "-max-clients", "1", "-log-level", "debug")
	a := dial(t, d.addr, "a")
	a.send("PING")
	a.expect("PONG")
	b := dial(t, d.addr, "b")
	b.expect("ERROR Server full")
	b.expectEOF()
	if err := d.stop(t, os.Interrupt); err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}
	for _, line := range strings.Split(strings.TrimSpace(d.log()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not JSON: %q", line)
		}
	}
	for _, want := range []string{`"msg":"line"`, `"line":"PING"`, `"msg":"connect"`, `"msg":"refused"`, `"msg":"disconnect"`, `"reason":"shutdown"`, `"msg":"connections"`} {
		if !strings.Contains(d.log(), want) {
			t.Errorf("no %s in the debug log:\n%s", want, d.log())
		}
	}
}

// TestBadFlags: chatd exits 2 with a message on bad flags.
func TestBadFlags(t *testing.T) {
	t.Parallel()
	bin := chatdBinary(t)
	for _, args := range [][]string{
		{"-nope"},
		{"-p", "70000"},
		{"-p", "http"},
		{"-max-clients", "0"},
		{"-max-queue-bytes", "-1"},
		{"-max-queue-bytes", "600"}, // below one JOIN's reply
		{"-line-rate", "-1"},
		{"-line-burst", "0"},
		{"-write-timeout", "soon"},
		{"-idle-timeout", "-1s"},
		{"-log-interval", "0s"},
		{"-log-format", "xml"},
		{"-log-level", "loud"},
		{"-addr", "nocolon", "-p", "1"},
		{"extra"},
		{"-addr", "none"}, // nothing to listen on
		{"-addr", ""},
		{"-addr", "none", "-p", "1", "-framed-addr", "127.0.0.1:0"},
		{"-tls-addr", "127.0.0.1:0"}, // no certificate
		{"-tls-addr", "127.0.0.1:0", "-tls-cert", "c.pem"},
		{"-tls-addr", "127.0.0.1:0", "-tls-self-signed", "-tls-cert", "c.pem", "-tls-key", "k.pem"},
		{"-tls-self-signed"}, // no -tls-addr
		{"-framed-addr", "127.0.0.1:0", "-frame-header", "2"},
		{"-frame-header", "8"}, // no -framed-addr
		{"-cluster", "nats://127.0.0.1:1", "-cluster-embedded", "127.0.0.1:0"},
		{"-cluster-store", "/tmp/x"}, // no -cluster-embedded
		{"-cluster-node", "a"},       // no cluster
		{"-cluster", "nats://127.0.0.1:1", "-db", "chat.db"},
		{"-cluster", "nats://127.0.0.1:1", "-extensions", "rooms,history"},
		{"-cluster", "nats://127.0.0.1:1", "-node-timeout", "0s"},
		{"-extensions", "accounts,shoes"},
		{"-extensions", "History"},
		{"-history-keep", "0"},
		{"-history-max-age", "-1h"},
		{"-login-delay", "0s"},
		{"-login-delay", "1s", "-login-delay-max", "500ms"},
		{"-login-burst", "0"},
		{"-login-rate", "0"},
		{"-max-rooms", "0"},
		{"-argon2-memory", "4"},
		{"-argon2-time", "0"},
	} {
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("chatd %q: %v, want exit status 2", args, err)
		}
		if !strings.Contains(stderr.String(), "Usage of chatd") {
			t.Errorf("chatd %q: no usage message:\n%s", args, stderr.String())
		}
	}
}

// TestListenAddr: -p replaces the port of -addr.
func TestListenAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, port, want string }{
		{"127.0.0.1:9999", "", "127.0.0.1:9999"},
		{"127.0.0.1:9999", "7000", "127.0.0.1:7000"},
		{":9999", "7000", ":7000"},
		{"[::1]:9999", "0", "[::1]:0"},
	} {
		got, err := listenAddr(tc.addr, tc.port)
		if err != nil || got != tc.want {
			t.Errorf("listenAddr(%q, %q) = %q, %v; want %q", tc.addr, tc.port, got, err, tc.want)
		}
	}
}

// TestRunHelp: -h prints the usage and succeeds.
func TestRunHelp(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	if got := run(context.Background(), []string{"-h"}, io.Discard, &stderr); got != 0 {
		t.Errorf("run -h = %d", got)
	}
	if !strings.Contains(stderr.String(), "-max-queue-bytes") {
		t.Errorf("usage lacks the limits:\n%s", stderr.String())
	}
}

// TestRunVersion: -version prints one line naming the program and exits 0
// without listening.
func TestRunVersion(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if got := run(context.Background(), []string{"-version", "-addr", "256.0.0.1:1"}, &stdout, &stderr); got != 0 {
		t.Fatalf("run -version = %d; stderr:\n%s", got, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "chatd ") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("run -version printed %q", stdout.String())
	}
}

// TestSmallQueueWarning: a queue too small for a JOIN into a room as large
// as -max-clients allows is accepted with a warning.
func TestSmallQueueWarning(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, "-addr", "127.0.0.1:0", "-max-queue-bytes", "8192", "-max-clients", "1000")
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}
	if !strings.Contains(d.log(), "level=WARN") || !strings.Contains(d.log(), "max-queue-bytes=8192") {
		t.Errorf("no warning about the small queue:\n%s", d.log())
	}
	d = startDaemon(t, "-addr", "127.0.0.1:0", "-max-queue-bytes", "8192", "-max-clients", "10")
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}
	if strings.Contains(d.log(), "level=WARN") {
		t.Errorf("a warning although 8192 bytes hold any JOIN reply with 10 clients:\n%s", d.log())
	}
}
