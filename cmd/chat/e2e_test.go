//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"roomchat.dev/roomchat/cmd/chat/internal/client"
	"roomchat.dev/roomchat/cmd/chat/internal/termtest"
	"roomchat.dev/roomchat/impl"
)

// runMainEnv makes the test binary act as the chat command, so the tests can
// run the real main with real standard streams.
const runMainEnv = "CHAT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

const waitLimit = 10 * time.Second

// startServer runs the reference server on a free port.
func startServer(t *testing.T) (string, *impl.Server) {
	t.Helper()
	return startServerConfig(t, impl.Config{})
}

// startServerConfig runs the reference server configured by cfg on a free
// port.
func startServerConfig(t *testing.T, cfg impl.Config) (string, *impl.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := impl.New(cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-served
	})
	return ln.Addr().String(), srv
}

// peer is a plain TCP client of the server, played by the test.
type peer struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialPeer(t *testing.T, addr string) *peer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, br: bufio.NewReader(c)}
}

func (p *peer) send(line string) {
	p.t.Helper()
	if _, err := p.conn.Write([]byte(line + "\r\n")); err != nil {
		p.t.Fatal(err)
	}
}

// expect reads the peer's next line and checks it.
func (p *peer) expect(want string) {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(waitLimit))
	line, err := p.br.ReadString('\n')
	if err != nil {
		p.t.Fatalf("waiting for %q: %v", want, err)
	}
	if got := strings.TrimSuffix(line, "\r\n"); got != want {
		p.t.Fatalf("peer received %q, want %q", got, want)
	}
}

// screen collects everything the client writes to the pseudo-terminal.
type screen struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (s *screen) copyFrom(r *os.File) {
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		s.mu.Lock()
		s.buf.Write(b[:n])
		s.mu.Unlock()
		select {
		case s.changed <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// waitFor waits until the output from offset from on satisfies ok, and
// returns the output's length then.
func (s *screen) waitFor(t *testing.T, from int, what string, ok func(out string) bool) int {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		s.mu.Lock()
		out := s.buf.String()
		s.mu.Unlock()
		if ok(out[from:]) {
			return len(out)
		}
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("no %s on the terminal; output since mark:\n%q", what, out[from:])
		}
	}
}

// waitText waits for text to appear after offset from, and returns the
// offset just after it.
func (s *screen) waitText(t *testing.T, from int, text string) int {
	t.Helper()
	var end int
	s.waitFor(t, from, fmt.Sprintf("%q", text), func(out string) bool {
		i := strings.Index(out, text)
		end = from + i + len(text)
		return i >= 0
	})
	return end
}

// waitPrinted waits for a chat line, then for the prompt below it, and
// returns the offset after the prompt. The prompt comes with the line when
// a line is being read, or after it, when the next line is asked for: the
// screen is the same.
func (s *screen) waitPrinted(t *testing.T, from int, line, prompt string) int {
	t.Helper()
	return s.waitText(t, s.waitText(t, from, line+"\r\n"), prompt)
}

// TestTerminal runs the client on a pseudo-terminal against the reference
// server. While bob has a half-typed line with the cursor in its middle,
// alice's messages arrive: they must show above the input line, and the
// input line and its cursor must survive.
func TestTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	addr, _ := startServer(t)
	alice := dialPeer(t, addr)
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	alice.send("JOIN #general")
	alice.expect("OK Joined #general (0 users)")

	scr, keys, status := startTerminal(t, addr, "bob")
	mark := scr.waitText(t, 0, "09:30 Welcome, bob!\r\n")
	mark = scr.waitText(t, mark, "> ")
	keys("/jo\t#general\r") // Tab completes /join
	mark = scr.waitText(t, mark, "09:30 joined #general (1 other user)\r\n")
	mark = scr.waitText(t, mark, "09:30 * alice is in #general\r\n")
	mark = scr.waitText(t, mark, "#general> ")
	alice.expect("JOIN #general bob")

	// A partial line, the cursor moved three places left of its end: the
	// line is drawn again and the cursor placed from column 0.
	keys("hello wrld")
	mark = scr.waitText(t, mark, "hello wrld")
	keys("\x1b[D\x1b[D\x1b[D")
	mark = scr.waitText(t, mark, "#general> hello wrld\r\x1b[17C")

	alice.send("MSG first from alice")
	alice.expect("ROOM #general alice first from alice")
	alice.send("MSG second from alice")
	alice.expect("ROOM #general alice second from alice")
	first := scr.waitText(t, mark, "09:30 [#general] alice: first from alice\r\n")
	second := scr.waitText(t, first, "09:30 [#general] alice: second from alice\r\n")
	// Each message is written over the input line, which is drawn again
	// below it, cursor and all.
	scr.waitText(t, first, "#general> hello wrld")
	mark = scr.waitText(t, second, "#general> hello wrld")

	// Typing goes on where the cursor was. The line entered leaves the
	// input line, and shows once, as the echo.
	keys("o\r")
	alice.expect("ROOM #general bob hello world")
	mark = scr.waitPrinted(t, mark, "09:30 [#general] <you> hello world", "#general> ")
	if lines := scr.emulate(t).Lines(); countContaining(lines, "hello world") != 1 {
		t.Errorf("the line sent is not on the screen once:\n%s", strings.Join(lines, "\n"))
	}

	// Tab completes the name of a room member.
	keys("hi al\t how are you?\r")
	alice.expect("ROOM #general bob hi alice  how are you?")

	keys("/frob\r")
	mark = scr.waitText(t, mark, `! unknown command "/frob" (type /help)`)

	// Ctrl-D quits with status 0.
	keys("\x04")
	alice.expect("LEAVE #general bob")
	select {
	case got := <-status:
		if got != client.StatusOK {
			t.Errorf("exit status %d, want %d", got, client.StatusOK)
		}
	case <-time.After(waitLimit):
		t.Fatal("the client did not end after Ctrl-D")
	}
	out := scr.String()
	if strings.Contains(out, "PONG") || strings.Contains(out, "ROOM #general") {
		t.Errorf("raw protocol lines on the terminal:\n%q", out)
	}
	if sgr.MatchString(out) {
		t.Errorf("colours with NO_COLOR set:\n%q", out)
	}
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestTerminalWide: wide and combining characters on a pseudo-terminal.
// With 日本 and é (e and U+0301) typed, lines arrive: each is written over
// the input line, which is drawn again below it with nothing stray left
// behind and the cursor where it was. Backspace takes a whole character,
// the cursor moves by columns, Tab completes after Ctrl-U, what is sent is
// what was typed, and each line sent shows once, as its confirmation.
func TestTerminalWide(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	addr, _ := startServer(t)
	alice := dialPeer(t, addr)
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	alice.send("JOIN #r")
	alice.expect("OK Joined #r (0 users)")

	scr, keys, status := startTerminal(t, addr, "bob")
	mark := scr.waitText(t, 0, "09:30 Welcome, bob!\r\n")
	mark = scr.waitText(t, mark, "> ")
	keys("/join #r\r")
	mark = scr.waitPrinted(t, mark, "09:30 * alice is in #r", "#r> ")
	alice.expect("JOIN #r bob")

	keys("日本e\u0301")
	mark = scr.waitText(t, mark, "#r> 日本e\u0301")
	alice.send("MSG hi")
	alice.expect("ROOM #r alice hi")
	mark = scr.waitText(t, mark, "\r\x1b[J09:30 [#r] alice: hi\r\n#r> 日本e\u0301")
	wantScreen(t, scr.emulate(t), 9, "09:30 [#r] alice: hi", "#r> 日本e\u0301")

	// Backspace deletes é whole; Left moves over 本, two columns.
	keys("\x7f\x1b[D")
	mark = scr.waitText(t, mark, "\r\x1b[J#r> 日本\r\x1b[6C")
	alice.send("MSG again")
	alice.expect("ROOM #r alice again")
	mark = scr.waitText(t, mark, "\r\x1b[J09:30 [#r] alice: again\r\n#r> 日本\r\x1b[6C")
	wantScreen(t, scr.emulate(t), 6, "09:30 [#r] alice: hi", "09:30 [#r] alice: again", "#r> 日本")
	keys("e\u0301")
	mark = scr.waitText(t, mark, "\r\x1b[J#r> 日e\u0301本\r\x1b[7C")
	wantScreen(t, scr.emulate(t), 7, "09:30 [#r] alice: again", "#r> 日e\u0301本")

	// The report: Ctrl-U, then /msg a<Tab>.
	keys("\x05\x15/msg a\t")
	mark = scr.waitText(t, mark, "\r\x1b[J#r> /msg alice ")
	wantScreen(t, scr.emulate(t), 15, "09:30 [#r] alice: again", "#r> /msg alice")

	keys("日本e\u0301\r")
	alice.expect("PRIVMSG bob 日本e\u0301")
	mark = scr.waitPrinted(t, mark, "09:30 (private) to alice: 日本e\u0301", "#r> ")
	keys("日本e\u0301\r")
	alice.expect("ROOM #r bob 日本e\u0301")
	mark = scr.waitPrinted(t, mark, "09:30 [#r] <you> 日本e\u0301", "#r> ")
	wantScreen(t, scr.emulate(t), 4,
		"09:30 [#r] alice: again",
		"09:30 (private) to alice: 日本e\u0301",
		"09:30 [#r] <you> 日本e\u0301",
		"#r>")

	keys("\x04")
	select {
	case got := <-status:
		if got != client.StatusOK {
			t.Errorf("exit status %d, want %d", got, client.StatusOK)
		}
	case <-time.After(waitLimit):
		t.Fatal("the client did not end after Ctrl-D")
	}
	// At the end the prompt is erased: the screen is the chat, each line
	// once.
	scr.waitText(t, mark, "09:30 Goodbye!\r\n\r\x1b[J")
	want := []string{
		"connected to " + addr + "; type /help for help",
		"09:30 Welcome, bob!",
		"09:30 joined #r (1 other user)",
		"09:30 * alice is in #r",
		"09:30 [#r] alice: hi",
		"09:30 [#r] alice: again",
		"09:30 (private) to alice: 日本e\u0301",
		"09:30 [#r] <you> 日本e\u0301",
		"09:30 Goodbye!",
	}
	vt := scr.emulate(t)
	if got := vt.Lines(); !slices.Equal(got, want) {
		t.Errorf("screen at the end:\n%s\nwant:\n%s", vt, strings.Join(want, "\n"))
	}
}

// ptyNow is what the clock of the client on a pseudo-terminal reads.
var ptyNow = time.Date(2024, 1, 2, 9, 30, 0, 0, time.Local)

// ptyCols and ptyRows are the size of the tests' pseudo-terminals.
const ptyCols, ptyRows = 100, 30

// emulate returns the screen that the output so far leaves on a terminal.
func (s *screen) emulate(t *testing.T) *termtest.Screen {
	t.Helper()
	vt := termtest.New(ptyCols, ptyRows)
	vt.Write([]byte(s.String()))
	if len(vt.Errors) > 0 {
		t.Fatalf("output a terminal would not take: %q", vt.Errors)
	}
	return vt
}

// wantScreen checks the last lines of the screen, and that the cursor is in
// column col of the last.
func wantScreen(t *testing.T, vt *termtest.Screen, col int, last ...string) {
	t.Helper()
	lines := vt.Lines()
	row, c := vt.Cursor()
	if len(lines) < len(last) || !slices.Equal(lines[len(lines)-len(last):], last) || row != len(lines)-1 || c != col {
		t.Fatalf("screen, cursor at row %d column %d:\n%s\nwant it to end with:\n%s\nthe cursor in column %d",
			row, c, vt, strings.Join(last, "\n"), col)
	}
}

func countContaining(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// TestTerminalColors: without NO_COLOR, a terminal gets colours.
func TestTerminalColors(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm")
	addr, _ := startServer(t)
	scr, keys, status := startTerminal(t, addr, "bob")
	mark := scr.waitText(t, 0, "\x1b[32mWelcome, bob!\x1b[0m\r\n")
	mark = scr.waitText(t, mark, "> ")
	keys("/leave\r")
	scr.waitText(t, mark, "\x1b[1m\x1b[31m! Not in a room\x1b[0m\r\n")
	keys("\x04")
	select {
	case got := <-status:
		if got != client.StatusOK {
			t.Errorf("exit status %d, want %d", got, client.StatusOK)
		}
	case <-time.After(waitLimit):
		t.Fatal("the client did not end after Ctrl-D")
	}
}

// startTerminal runs client.Main for name on a new pseudo-terminal. It
// returns the screen, a function that types keys, and the exit status to
// come.
func startTerminal(t *testing.T, addr, name string) (*screen, func(string), <-chan int) {
	t.Helper()
	return startTerminalConfig(t, client.Config{Addr: addr, Name: name})
}

// startTerminalConfig is startTerminal with a whole configuration; the
// clock always reads 09:30 on 2 January 2024.
func startTerminalConfig(t *testing.T, cfg client.Config) (*screen, func(string), <-chan int) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	setSize(t, tty, ptyCols, ptyRows)
	scr := &screen{changed: make(chan struct{}, 1)}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		scr.copyFrom(ptmx)
	}()
	status := make(chan int, 1)
	ended := make(chan struct{})
	cfg.Now = func() time.Time { return ptyNow }
	go func() {
		defer close(ended)
		status <- client.Main(context.Background(), cfg, tty, tty, tty)
	}()
	t.Cleanup(func() {
		// pty.Open leaves ptmx in blocking mode, so closing it would not
		// end a Read; closing the terminal side does: the Read fails with
		// EIO. The client's side of tty is pollable, so its reads end too,
		// and at the end of its input the client quits.
		tty.Close()
		<-copied
		ptmx.Close()
		select {
		case <-ended:
		case <-time.After(waitLimit):
			t.Error("the client did not end")
		}
	})
	keys := func(s string) {
		t.Helper()
		if _, err := ptmx.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	return scr, keys, status
}

// String returns everything written so far.
func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// setSize sets the terminal's size without (*os.File).Fd, which would make
// the file blocking.
func setSize(t *testing.T, f *os.File, cols, rows uint16) {
	t.Helper()
	sc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var ioctlErr error
	err = sc.Control(func(fd uintptr) {
		ioctlErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows})
	})
	if err == nil {
		err = ioctlErr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// chatCommand returns the chat command: this test binary, acting as main.
func chatCommand(t *testing.T, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	// Under -race, the race runtime would sleep a second at exit.
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "GORACE=atexit_sleep_ms=0")
	return cmd
}

var stamp = `\d\d:\d\d `

// TestScripted pipes commands into the real command, as a script would.
func TestScripted(t *testing.T) {
	addr, _ := startServer(t)
	alice := dialPeer(t, addr)
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	alice.send("JOIN #a")
	alice.expect("OK Joined #a (0 users)")

	cmd := chatCommand(t, "-addr", addr, "-name", "bob")
	cmd.Stdin = strings.NewReader("/join #a\nhello\nQUIT is a word\n/msg alice psst\n/nope\n/quit\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chat: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	alice.expect("JOIN #a bob")
	alice.expect("ROOM #a bob hello")
	alice.expect("ROOM #a bob QUIT is a word")
	alice.expect("PRIVMSG bob psst")
	alice.expect("LEAVE #a bob")

	want := regexp.MustCompile(`^` +
		stamp + `Welcome, bob!\n` +
		stamp + `joined #a \(1 other user\)\n` +
		stamp + `\* alice is in #a\n` +
		stamp + `\[#a\] <you> hello\n` +
		stamp + `\[#a\] <you> QUIT is a word\n` +
		stamp + `\(private\) to alice: psst\n` +
		stamp + `Goodbye!\n$`)
	if !want.Match(stdout.Bytes()) {
		t.Errorf("stdout:\n%s", &stdout)
	}
	if bytes.Contains(stdout.Bytes(), []byte("\x1b")) {
		t.Errorf("colours on a pipe: %q", &stdout)
	}
	if !strings.Contains(stderr.String(), `unknown command "/nope"`) {
		t.Errorf("stderr: %q", &stderr)
	}
}

// TestScriptedNameTaken: a refused -name without a person to ask ends the
// command with status 1.
func TestScriptedNameTaken(t *testing.T) {
	addr, _ := startServer(t)
	alice := dialPeer(t, addr)
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")

	cmd := chatCommand(t, "-addr", addr, "-name", "ALICE")
	cmd.Stdin = strings.NewReader("hello\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("chat: %v, want exit status 1", err)
	}
	if !regexp.MustCompile(`^` + stamp + `! Username taken\n` + stamp + `Goodbye!\n$`).Match(stdout.Bytes()) {
		t.Errorf("stdout: %q", &stdout)
	}
	if !strings.Contains(stderr.String(), `username "ALICE" refused`) {
		t.Errorf("stderr: %q", &stderr)
	}
}

// TestScriptedServerShutdown: when the server goes away, the command says so
// and exits with status 1.
func TestScriptedServerShutdown(t *testing.T) {
	addr, srv := startServer(t)
	cmd := chatCommand(t, "-addr", addr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Without -name, the first line is the username.
	stdin.Write([]byte("carol\n"))
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.HasSuffix(lines.Text(), "Welcome, carol!") {
		t.Fatalf("first line %q, %v", lines.Text(), lines.Err())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if !lines.Scan() || !strings.HasSuffix(lines.Text(), "! Server shutting down") {
		t.Errorf("after shutdown: %q, %v", lines.Text(), lines.Err())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("chat: %v, want exit status 1", err)
	}
	if !strings.Contains(stderr.String(), "the server closed the connection") {
		t.Errorf("stderr: %q", &stderr)
	}
}
