//go:build unix

package impl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// fdChildEnv, when set to a number, makes TestRobustFDExhaustion the child
// process: a server whose RLIMIT_NOFILE is that number.
const fdChildEnv = "ROOMCHAT_FD_CHILD_LIMIT"

// clockTicks is the unit of the CPU times in /proc/PID/stat (sysconf
// _SC_CLK_TCK, 100 on Linux everywhere).
const clockTicks = 100

// TestRobustFDExhaustion runs a server in a child process (this test
// binary, run again) whose limit on open files is low, and opens
// connections until accept fails for want of file descriptors. The server
// survives it: it logs the failure and backs off (up to a second between
// tries) instead of crashing or spinning, which the CPU time of the child,
// read from /proc while it is saturated, shows. The members of a room
// connected before keep talking and lose nothing, and once connections
// close the server accepts and serves again.
func TestRobustFDExhaustion(t *testing.T) {
	if lim := os.Getenv(fdChildEnv); lim != "" {
		fdChild(t, lim)
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("needs RLIMIT_NOFILE and /proc/PID/stat as on Linux")
	}
	t.Parallel() // it measures the child, not this process
	limit := size(64, 4096)
	child := startFDChild(t, limit)
	ts := &testServer{addr: child.addr}
	r := newRoom(t, ts, "#fd", "m", 2)

	// More connections than the child has descriptors: the kernel completes
	// them all, and the server accepts until it cannot.
	hogs := dialCrowd(t, ts.addr, limit+40)
	line := child.waitLog(t, isAcceptFailure)
	t.Logf("saturated: %s", line)

	// Saturated: measure the child's CPU time from its first failed accept
	// through the back-off, until the tries are a second apart.
	cpu0, wall0 := child.cpu(t), time.Now()
	failures0 := child.count(isAcceptFailure)
	child.waitLog(t, func(l string) bool { return isAcceptFailure(l) && strings.Contains(l, "delay=1s") })
	cpu, wall := child.cpu(t)-cpu0, time.Since(wall0)
	failures := child.count(isAcceptFailure) - failures0
	t.Logf("while saturated: %d failed accepts logged in %v, CPU time %v (%.1f%% of one core)",
		failures, wall.Round(time.Millisecond), cpu, 100*cpu.Seconds()/wall.Seconds())
	if cpu > wall/2 {
		t.Errorf("the server used %v of CPU in %v while it could not accept: a busy loop?", cpu, wall)
	}
	if failures > 20 {
		t.Errorf("%d failed accepts logged in %v: no back-off", failures, wall)
	}

	// The room still works while the server is saturated.
	r.say(0, 50, 20)
	r.say(1, 50, 20)
	r.check(nil)

	// Connections close: the server accepts again, drains its backlog,
	// and serves a newcomer.
	hogs.close(false)
	servedNow(t, ts, "newcomer")
	r.say(0, 10, 20)
	r.check(nil)
	if n := child.count(func(l string) bool { return strings.Contains(l, "panic") }); n > 0 {
		t.Errorf("the server panicked:\n%s", child.log())
	}
}

// isAcceptFailure reports whether a log line reports a failed accept.
func isAcceptFailure(l string) bool {
	return strings.Contains(l, "level=WARN") && strings.Contains(l, "accept")
}

// fdChild is the child: it lowers its limit on open files, serves on a
// loopback port (logging to stderr, where the parent reads the address),
// and shuts down when its stdin closes.
func fdChild(t *testing.T, lim string) {
	n, err := strconv.Atoi(lim)
	if err != nil {
		t.Fatal(err)
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	rl.Cur = min(uint64(n), rl.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	srv := impl.New(impl.Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-served
}

// fdChildProc is the parent's handle on the child.
type fdChildProc struct {
	cmd   *exec.Cmd
	addr  string
	stdin io.Closer
	done  chan struct{} // closed when the child has exited
	err   error

	mu     sync.Mutex
	lines  []string
	notify chan struct{}
}

func startFDChild(t *testing.T, limit int) *fdChildProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestRobustFDExhaustion$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), fdChildEnv+"="+strconv.Itoa(limit))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &fdChildProc{cmd: cmd, stdin: stdin, done: make(chan struct{}), notify: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, sc.Text())
			close(c.notify)
			c.notify = make(chan struct{})
			c.mu.Unlock()
		}
	}()
	go func() {
		<-read
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-c.done:
		case <-time.After(failAfter):
			cmd.Process.Kill()
			<-c.done
			t.Errorf("the child did not stop within %v of its stdin closing", failAfter)
		}
		if c.err != nil {
			t.Errorf("the child failed: %v\n%s\n%s", c.err, stdout.String(), c.log())
		}
	})
	l := c.waitLog(t, func(l string) bool { return strings.Contains(l, "msg=listening") })
	_, after, _ := strings.Cut(l, "addr=")
	c.addr, _, _ = strings.Cut(after, " ")
	return c
}

// waitLog waits for a log line of the child that pred accepts, and returns
// it; a predicate that ignores its line waits for a condition on the log.
func (c *fdChildProc) waitLog(t testing.TB, pred func(string) bool) string {
	t.Helper()
	deadline := time.NewTimer(failAfter)
	defer deadline.Stop()
	seen := 0
	for {
		c.mu.Lock()
		lines, ch := c.lines, c.notify
		c.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if pred(lines[seen]) {
				return lines[seen]
			}
		}
		select {
		case <-ch:
		case <-c.done:
			t.Fatalf("the child exited (%v):\n%s", c.err, c.log())
		case <-deadline.C:
			t.Fatalf("the child did not log what was expected within %v:\n%s", failAfter, c.log())
		}
	}
}

// count returns how many log lines pred accepts.
func (c *fdChildProc) count(pred func(string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, l := range c.lines {
		if pred(l) {
			n++
		}
	}
	return n
}

func (c *fdChildProc) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) > 60 {
		return strings.Join(c.lines[:20], "\n") + fmt.Sprintf("\n... %d lines ...\n", len(c.lines)-40) + strings.Join(c.lines[len(c.lines)-20:], "\n")
	}
	return strings.Join(c.lines, "\n")
}

// cpu returns the CPU time, user and system, the child has used so far.
func (c *fdChildProc) cpu(t testing.TB) time.Duration {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	// The second field is the command in parentheses; fields 14 and 15,
	// utime and stime, follow its closing parenthesis as 12th and 13th.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("cannot read the CPU times in %q", s)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}
