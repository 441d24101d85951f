package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A Server is one running server under test, started for one script.
type Server interface {
	// Addr is the host:port clients connect to.
	Addr() string
	// Shutdown asks the server to shut down gracefully (SHUT-1), as
	// SIGTERM does, and returns without waiting.
	Shutdown() error
	// Stop stops the server, forcibly if it does not stop by itself soon,
	// and waits until it has. Calling it twice is harmless.
	Stop() error
	// Log returns what the server has written to its stdout and stderr (the
	// last part of it), for failure reports; "" if nothing.
	Log() string
}

// A StartFunc starts a fresh server with extra settings given as
// command-line flags (those of a script's "# server:" header, such as
// -max-clients 2). It returns an error wrapping ErrUnsupported if it cannot
// apply the settings; the script is then skipped.
type StartFunc func(flags []string) (Server, error)

// ErrUnsupported is returned (wrapped) by a StartFunc that cannot start a
// server with the settings a script needs.
var ErrUnsupported = errors.New("server settings not supported")

// DefaultStartTimeout is how long ExecServer waits for a server it started
// to accept connections: 10s.
const DefaultStartTimeout = 10 * time.Second

// ExecServer returns a StartFunc that runs command, a program and its
// arguments separated by spaces (single or double quotes group words). In
// each word, {port} is replaced by a free TCP port and {addr} by
// 127.0.0.1:{port}; clients connect to 127.0.0.1:{port}. A script's server
// flags are appended to the arguments. The server is ready once it accepts a
// connection and answers QUIT by closing it; one that exits first, or is not
// ready within DefaultStartTimeout, is an error that carries its output.
func ExecServer(command string) (StartFunc, error) {
	return ExecServerTimeout(command, DefaultStartTimeout)
}

// ExecServerTimeout is ExecServer with ready, instead of
// DefaultStartTimeout, as the longest a server may take to accept
// connections.
func ExecServerTimeout(command string, ready time.Duration) (StartFunc, error) {
	return ExecServerOver(command, ready, dial.Dialer{})
}

// ExecServerOver is ExecServerTimeout for a server whose {port} is the
// listener of d's transport: its readiness is proved over that transport.
func ExecServerOver(command string, ready time.Duration, d dial.Dialer) (StartFunc, error) {
	if ready <= 0 {
		ready = DefaultStartTimeout
	}
	argv, err := SplitWords(command)
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, errors.New("empty -exec command")
	}
	hasPort := false
	for _, a := range argv {
		if strings.Contains(a, "{port}") || strings.Contains(a, "{addr}") {
			hasPort = true
		}
	}
	if !hasPort {
		return nil, fmt.Errorf("-exec command %q has no {port} or {addr} to tell the server where to listen", command)
	}
	return func(flags []string) (Server, error) {
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			var srv *execServer
			srv, err = startExec(argv, flags, ready, d)
			if err == nil {
				return srv, nil
			}
			if !errors.Is(err, errExitedEarly) {
				break
			}
			// Perhaps the port was taken between choosing and binding it.
		}
		return nil, err
	}, nil
}

var errExitedEarly = errors.New("server exited before accepting connections")

type execServer struct {
	addr   string
	dialer dial.Dialer // the transport of addr, for the readiness probe
	cmd    *exec.Cmd
	log    *tailBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // the process's exit status; set before done closes

	stopOnce sync.Once
	stopErr  error
}

func startExec(argv, flags []string, ready time.Duration, d dial.Dialer) (*execServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := make([]string, 0, len(argv)+len(flags))
	for _, a := range argv {
		a = strings.ReplaceAll(a, "{addr}", addr)
		a = strings.ReplaceAll(a, "{port}", strconv.Itoa(port))
		args = append(args, a)
	}
	args = append(args, flags...)
	s := &execServer{addr: addr, dialer: d, log: &tailBuffer{max: 64 << 10}, done: make(chan struct{})}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	// The server runs in a process group of its own, and signals go to the
	// whole group: a command such as "go run ./cmd/chatd" is a parent whose
	// child is the server, and the child must stop too.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child left behind could hold the output pipes open forever.
	s.cmd.WaitDelay = time.Second
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server %q: %w", strings.Join(args, " "), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ready); err != nil {
		s.Stop()
		return nil, fmt.Errorf("server %q: %w\nserver output:\n%s", strings.Join(args, " "), err, indent(s.Log()))
	}
	return s, nil
}

// waitReady waits, for at most timeout, until the server accepts a
// connection, then proves it serves by sending QUIT on that connection and
// waiting for the close, so that the probe no longer counts against
// -max-clients when the script starts.
func (s *execServer) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		select {
		case <-s.done:
			return fmt.Errorf("%w (%v)", errExitedEarly, s.err)
		default:
		}
		d := s.dialer
		d.Timeout = time.Second
		conn, err := d.Dial(s.addr, dial.Options{})
		if err == nil {
			if conn.LocalAddr().String() == s.addr {
				conn.Close() // a TCP self-connect, not the server
			} else {
				probe(conn)
				// A server that could not bind the port (another process
				// took it meanwhile) exits at once; what answered the
				// probe was then someone else.
				select {
				case <-s.done:
					return fmt.Errorf("%w (%v)", errExitedEarly, s.err)
				default:
				}
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections on %s after %v: %v", s.addr, timeout, err)
		}
		time.Sleep(delay)
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// probe sends QUIT and reads until the server closes the connection, for at
// most a second.
func probe(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("QUIT\r\n")); err != nil {
		return
	}
	io.Copy(io.Discard, bufio.NewReader(conn))
}

func (s *execServer) Addr() string { return s.addr }
func (s *execServer) Log() string  { return s.log.String() }

func (s *execServer) Shutdown() error {
	select {
	case <-s.done:
		return fmt.Errorf("server already exited (%v)", s.err)
	default:
	}
	return s.signal(syscall.SIGTERM)
}

// signal sends sig to the server's process group.
func (s *execServer) signal(sig syscall.Signal) error {
	return syscall.Kill(-s.cmd.Process.Pid, sig)
}

// Stop sends SIGTERM, waits up to five seconds, then kills the server.
func (s *execServer) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			return
		default:
		}
		if err := s.signal(syscall.SIGTERM); err != nil {
			s.signal(syscall.SIGKILL)
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.stopErr = errors.New("server did not exit within 5s of SIGTERM; killed")
			s.signal(syscall.SIGKILL)
			<-s.done
		}
	})
	return s.stopErr
}

// portsGiven remembers the ports freePort has handed out, so that two
// servers started at about the same time are never told the same port: the
// kernel may hand a port out again as soon as it is closed.
var portsGiven struct {
	sync.Mutex
	m map[int]bool
}

// freePort asks the kernel for a free TCP port on 127.0.0.1 that this
// process has not handed out before.
func freePort() (int, error) {
	portsGiven.Lock()
	defer portsGiven.Unlock()
	if portsGiven.m == nil {
		portsGiven.m = map[int]bool{}
	}
	for tries := 0; ; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsGiven.m[port] || tries >= 100 {
			portsGiven.m[port] = true
			return port, nil
		}
	}
}

// SplitWords splits a command line into words at spaces; single or double
// quotes group words, without escapes.
func SplitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.dropped += over
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped > 0 {
		return fmt.Sprintf("[%d bytes not shown]\n%s", t.dropped, t.buf)
	}
	return string(t.buf)
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return "  (nothing)"
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
