package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// execServer is a server started by -exec.
type execServer struct {
	cmd     *exec.Cmd
	pid     int
	addr    string
	pprof   string        // host:port of its pprof listener, if the command had {pprof}
	plain   bool          // it speaks the plain dialect: ready once it accepts a connection
	label   string        // names it in copies of its output: "server", "node2"
	dialer  dial.Dialer   // the transport of addr, for the readiness probe
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // set before exited is closed
	output  *tail         // its last lines of output
	drained chan struct{} // closed when its output has ended
}

// addrPattern finds the address in a startup log line such as
// `level=INFO msg=listening addr=127.0.0.1:9999`, or its JSON form
// `"addr":"127.0.0.1:9999"`.
var addrPattern = regexp.MustCompile(`\baddr"?[=:] ?"?([^\s",}]+)`)

// stopTimeout bounds the wait for a server to exit after SIGTERM.
const stopTimeout = 10 * time.Second

// startServer runs command with /bin/sh, as "exec command" so that the
// server itself has the shell's PID. Each {port} in command is replaced by
// a free loopback port; without {port}, the server's address is taken from
// the first addr=HOST:PORT in its output whose port is not 0. Each {pprof}
// is replaced by another free loopback host:port, for its pprof listener.
// It returns once the server answers PING on that address (or, if plain,
// accepts a connection). Its output is copied to verbose, if not nil, each
// line after label and a colon.
func startServer(ctx context.Context, command, label string, d dial.Dialer, plain bool, verbose io.Writer, deadline time.Time) (*execServer, error) {
	s := &execServer{label: label, dialer: d, plain: plain, exited: make(chan struct{}), drained: make(chan struct{}), output: &tail{max: 40}}
	if strings.Contains(command, "{pprof}") {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.pprof = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		command = strings.ReplaceAll(command, "{pprof}", s.pprof)
	}
	if strings.Contains(command, "{port}") {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		command = strings.ReplaceAll(command, "{port}", strconv.Itoa(port))
		s.addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command("/bin/sh", "-c", "exec "+command)
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	ownGroup(s.cmd)
	err = s.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("-exec: %w", err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	found := make(chan string, 1)
	go s.scan(pr, verbose, found)

	if s.addr == "" {
		select {
		case a := <-found:
			s.addr = loopbackAddr(a)
		case <-s.exited:
			return nil, s.failed("exited before logging addr=HOST:PORT")
		case <-time.After(time.Until(deadline)):
			s.stop()
			return nil, s.failed("logged no addr=HOST:PORT before -timeout")
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
	if err := s.waitReady(ctx, deadline); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// logAddr returns the address a log line gives, unless its port is 0: a
// server may log the address it was asked for (chatd's "starting
// addr=127.0.0.1:0") before the one it listens on.
func logAddr(line string) (string, bool) {
	m := addrPattern.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	if _, port, err := net.SplitHostPort(m[1]); err == nil && port == "0" {
		return "", false
	}
	return m[1], true
}

// scan reads the server's output: it keeps a tail for error messages,
// copies it to verbose if not nil, and sends the first address it logs
// (logAddr).
func (s *execServer) scan(r io.ReadCloser, verbose io.Writer, found chan<- string) {
	defer close(s.drained)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		s.output.add(line)
		if verbose != nil {
			fmt.Fprintf(verbose, "%s: %s\n", s.label, line)
		}
		if !sent {
			if a, ok := logAddr(line); ok {
				found <- a
				sent = true
			}
		}
	}
}

// waitReady dials until the server answers PING, or fails if it exits or
// the deadline passes.
func (s *execServer) waitReady(ctx context.Context, deadline time.Time) error {
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return s.failed("exited before accepting connections")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		probe := probe
		if s.plain {
			probe = probePlain
		}
		if last = probe(s.dialer, s.addr, min(time.Until(deadline), 2*time.Second)); last == nil {
			return nil
		}
		select {
		case <-s.exited:
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("server at %s not ready before -timeout: %v\n%s", s.addr, last, s.output)
}

// probe connects to addr, checks that PING is answered PONG, and quits.
// The read deadline bounds the whole exchange.
func probe(d dial.Dialer, addr string, timeout time.Duration) error {
	d.Timeout = timeout
	conn, err := d.Dial(addr, dial.Options{})
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte("PING ready\r\nQUIT\r\n")); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return err
	}
	if got := strings.TrimRight(line, "\r\n"); got != "PONG ready" {
		return fmt.Errorf("PING ready answered %q", got)
	}
	// Wait for the server to close the connection after QUIT, so that it
	// no longer counts against -max-clients when the benchmark starts.
	io.Copy(io.Discard, br)
	return nil
}

// probePlain connects to a plain relay at addr, which says nothing until
// another connection sends a line, and closes the connection.
func probePlain(d dial.Dialer, addr string, timeout time.Duration) error {
	d.Timeout = timeout
	conn, err := d.Dial(addr, dial.Options{})
	if err != nil {
		return err
	}
	return conn.Close()
}

// stop sends SIGTERM and waits for the server to exit, killing it after
// stopTimeout. It returns how it ended.
func (s *execServer) stop() string {
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			s.cmd.Process.Kill()
			<-s.exited
			return fmt.Sprintf("did not exit within %v of SIGTERM; killed", stopTimeout)
		}
	}
	select {
	case <-s.drained:
	case <-time.After(time.Second):
	}
	if s.waitErr != nil {
		return s.waitErr.Error()
	}
	return "exit status 0"
}

// failed returns an error with the server's last lines of output.
func (s *execServer) failed(what string) error {
	select {
	case <-s.drained:
	case <-time.After(time.Second):
	}
	status := ""
	select {
	case <-s.exited:
		status = fmt.Sprintf(" (%v)", s.waitErr)
	default:
	}
	return fmt.Errorf("server (pid %d) %s%s; its last output:\n%s", s.pid, what, status, s.output)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// loopbackAddr turns a listening address such as ":9999" or "[::]:9999"
// into one to dial.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// tail keeps the last max lines written to it.
type tail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.max {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "  (no output)"
	}
	return "  " + strings.Join(t.lines, "\n  ")
}
