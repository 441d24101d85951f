package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
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

// A Restarter is a Server that the restart command of a script can
// restart: one that the suite started for the script alone. A script that
// uses restart is skipped on a server that is not one.
type Restarter interface {
	Server
	// Restart stops the server and starts it again with the same settings
	// (command line, flags and state directory), and returns once it
	// accepts connections again. Without kill it stops as after Shutdown
	// (SHUT-1), and waits until it has; with kill it stops at once, as a
	// process does on SIGKILL: a crash. The connections of the server it
	// stopped are over. Addr may differ afterwards.
	Restart(kill bool) error
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
// 127.0.0.1:{port}; clients connect to 127.0.0.1:{port}. {dir} is replaced
// by a new empty directory for each server started, which its restarts keep
// and Stop removes: the place for state that must survive a restart, as in
// "chatd -addr {addr} -db {dir}/chat.db". A script's server flags are
// appended to the arguments. The server is ready once it accepts a
// connection and answers QUIT by closing it; one that exits first, or is
// not ready within DefaultStartTimeout, is an error that carries its
// output. The servers it starts are Restarters: a restart runs the same
// command line again, with the same port if it is still free.
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
		return startExec(argv, flags, ready, d, false)
	}, nil
}

// mkServerDir makes the directory {dir} stands for.
func mkServerDir() (string, error) { return os.MkdirTemp("", "chatconform-server-") }

// usesDir reports whether a command line holds {dir}.
func usesDir(argv []string) bool {
	return slices.ContainsFunc(argv, func(a string) bool { return strings.Contains(a, "{dir}") })
}

var errExitedEarly = errors.New("server exited before accepting connections")

var _ Restarter = (*execServer)(nil)

// execServer is a server process started by ExecServer, and restarted by
// Restart. Its methods are called by one script at a time (the script's
// goroutine, then the runner), never at once.
type execServer struct {
	argv   []string      // the command line, with {port}, {addr} and {dir}
	flags  []string      // the script's server flags
	ready  time.Duration // how long a start may take
	dialer dial.Dialer   // the transport of addr, for the readiness probe
	// tcpOnly: the process is ready once it accepts a TCP connection, which
	// is closed at once (a cluster's log service, which speaks no chat).
	tcpOnly bool
	dir     string      // what {dir} stands for; "" if argv has none
	log     *tailBuffer // the output of every process of this server

	addr string      // 127.0.0.1:port of the current process
	proc *serverProc // the current process
	stop sync.Once
	err  error // of Stop
}

// serverProc is one process of an execServer.
type serverProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // the process's exit status; set before done closes
}

// exited reports whether the process has exited.
func (p *serverProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// start starts the server's process with port, or a free port if port is
// 0 or, once, if the process exits before accepting connections (perhaps
// the port was taken between choosing and binding it).
func (s *execServer) start(port int) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if port == 0 || attempt > 0 {
			if port, err = freePort(); err != nil {
				return err
			}
		}
		err = s.startOn(port)
		if err == nil || !errors.Is(err, errExitedEarly) {
			return err
		}
	}
	return err
}

// startOn starts the server's process on port and waits until it is ready.
func (s *execServer) startOn(port int) error {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := make([]string, 0, len(s.argv)+len(s.flags))
	for _, a := range s.argv {
		a = strings.ReplaceAll(a, "{addr}", addr)
		a = strings.ReplaceAll(a, "{port}", strconv.Itoa(port))
		a = strings.ReplaceAll(a, "{dir}", s.dir)
		args = append(args, a)
	}
	args = append(args, s.flags...)
	p := &serverProc{done: make(chan struct{})}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdout = s.log
	p.cmd.Stderr = s.log
	// The server runs in a process group of its own, and signals go to the
	// whole group: a command such as "go run ./cmd/chatd" is a parent whose
	// child is the server, and the child must stop too.
	ownGroup(p.cmd)
	// A child left behind could hold the output pipes open forever.
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start server %q: %w", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	s.addr, s.proc = addr, p
	if err := s.waitReady(s.ready); err != nil {
		s.kill()
		return fmt.Errorf("server %q: %w\nserver output:\n%s", strings.Join(args, " "), err, indent(s.Log()))
	}
	return nil
}

// waitReady waits, for at most timeout, until the server accepts a
// connection, then proves it serves by sending QUIT on that connection and
// waiting for the close, so that the probe no longer counts against
// -max-clients when the script starts.
func (s *execServer) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := 5 * time.Millisecond
	for {
		if s.proc.exited() {
			return fmt.Errorf("%w (%v)", errExitedEarly, s.proc.err)
		}
		d := s.dialer
		d.Timeout = time.Second
		var conn net.Conn
		var err error
		if s.tcpOnly {
			conn, err = net.DialTimeout("tcp", s.addr, time.Second)
		} else {
			conn, err = d.Dial(s.addr, dial.Options{})
		}
		if err == nil && s.tcpOnly && conn.LocalAddr().String() != s.addr {
			conn.Close()
			if s.proc.exited() {
				return fmt.Errorf("%w (%v)", errExitedEarly, s.proc.err)
			}
			return nil
		}
		if err == nil {
			if conn.LocalAddr().String() == s.addr {
				conn.Close() // a TCP self-connect, not the server
			} else {
				probe(conn)
				// A server that could not bind the port (another process
				// took it meanwhile) exits at once; what answered the
				// probe was then someone else.
				if s.proc.exited() {
					return fmt.Errorf("%w (%v)", errExitedEarly, s.proc.err)
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
	if s.proc.exited() {
		return fmt.Errorf("server already exited (%v)", s.proc.err)
	}
	return s.signal(syscall.SIGTERM)
}

// signal sends sig (SIGTERM or SIGKILL) to the process group of the
// current process.
func (s *execServer) signal(sig syscall.Signal) error {
	return signalGroup(s.proc.cmd.Process, sig)
}

// kill kills the current process and waits until it has exited.
func (s *execServer) kill() {
	if !s.proc.exited() {
		s.signal(syscall.SIGKILL)
	}
	<-s.proc.done
}

// RestartTimeout is how long a graceful restart waits for the server to
// exit after SIGTERM: the ShutdownTimeout of PROTOCOL.md (5 s) and time to
// spare. A server still running then is killed, and the restart fails.
const RestartTimeout = 15 * time.Second

// Restart stops the server, with SIGTERM and waiting until it has exited,
// or with SIGKILL; then it starts the same command line again, with the
// same {dir} and, if it is still free, the same port.
func (s *execServer) Restart(kill bool) error {
	if kill {
		s.kill()
	} else if !s.proc.exited() {
		if err := s.signal(syscall.SIGTERM); err != nil {
			return fmt.Errorf("restart: SIGTERM: %v", err)
		}
		select {
		case <-s.proc.done:
		case <-time.After(RestartTimeout):
			s.kill()
			return fmt.Errorf("restart: the server did not exit within %v of SIGTERM; killed", RestartTimeout)
		}
	}
	_, port, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(port)
	return s.start(n)
}

// Stop sends SIGTERM, waits up to five seconds, then kills the server; it
// removes the server's {dir}.
func (s *execServer) Stop() error {
	s.stop.Do(func() {
		defer s.removeDir()
		if s.proc.exited() {
			return
		}
		if err := s.signal(syscall.SIGTERM); err != nil {
			s.signal(syscall.SIGKILL)
		}
		select {
		case <-s.proc.done:
		case <-time.After(5 * time.Second):
			s.err = errors.New("server did not exit within 5s of SIGTERM; killed")
			s.kill()
		}
	})
	return s.err
}

// removeDir removes the server's {dir}, if it has one.
func (s *execServer) removeDir() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

// portsGiven remembers the ports freePort has handed out, so that two
// servers started at about the same time are never told the same port.
var portsGiven struct {
	sync.Mutex
	m map[int]bool
}

// freePort's ports lie below the ports the kernel hands out for a listener
// on port 0 (32768 and up on Linux, 49152 and up on most other systems).
// A server that is told a port binds it some time later, after its start
// (a database to open, say); had the port come from the kernel, another
// process asking it for any port meanwhile (a test of another package,
// running in parallel) could be given the same one, and the probe of
// waitReady would reach that process's server instead.
const (
	portLow  = 20000
	portHigh = 32768
)

// freePort returns a TCP port on 127.0.0.1, between portLow and portHigh,
// that is free now and that this process has not handed out before; if it
// finds none, it asks the kernel for one.
func freePort() (int, error) {
	portsGiven.Lock()
	defer portsGiven.Unlock()
	if portsGiven.m == nil {
		portsGiven.m = map[int]bool{}
	}
	for range 100 {
		port := portLow + rand.IntN(portHigh-portLow)
		if portsGiven.m[port] {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // in use
		}
		l.Close()
		portsGiven.m[port] = true
		return port, nil
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
