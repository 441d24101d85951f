package client

import (
	"bufio"
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeUI is a UI driven by a test: typed lines go in through type_, what
// the client shows is collected.
type fakeUI struct {
	interactive bool
	windowed    bool        // shows one room at a time: see newWindowedUI
	typed       chan string // closed: end of input
	secrets     chan string // passwords, for ReadSecret only
	keys        chan error  // keys that end ReadLine without a line: errPageUp

	mu sync.Mutex
	// shown logs Print, Notice and SetPending, in order. Notice lines
	// start with "notice: ", SetPending ones with "pending: ".
	shown   []string
	prompt  string
	pending []string      // the last SetPending
	status  string        // the last SetStatus
	redraws [][]string    // every Redraw, in order
	changed chan struct{} // signalled on every Print, Notice and SetPending
}

func newFakeUI(interactive bool) *fakeUI {
	return &fakeUI{
		interactive: interactive,
		typed:       make(chan string),
		secrets:     make(chan string),
		keys:        make(chan error),
		changed:     make(chan struct{}, 1),
	}
}

func (u *fakeUI) ReadLine() (string, error) {
	select {
	case line, ok := <-u.typed:
		if !ok {
			return "", errEOF
		}
		return line, nil
	case err := <-u.keys:
		return "", err
	}
}

// ReadSecret takes a password typed with typeSecret. A line typed with
// type_ meanwhile is a password read as a line: the test fails.
func (u *fakeUI) ReadSecret() (string, error) {
	select {
	case p := <-u.secrets:
		return p, nil
	case line, ok := <-u.typed:
		if !ok {
			return "", errEOF
		}
		u.add("BUG: line read as a password: " + line)
		return line, nil
	}
}

var errEOF = &eofError{}

type eofError struct{}

func (*eofError) Error() string { return "EOF" }

func (u *fakeUI) Interactive() bool          { return u.interactive }
func (u *fakeUI) SetCompletion(func() Names) {}
func (u *fakeUI) SetPrompt(p string) {
	u.mu.Lock()
	u.prompt = p
	u.mu.Unlock()
	select {
	case u.changed <- struct{}{}:
	default:
	}
}
func (u *fakeUI) SetPending(lines []string) {
	u.mu.Lock()
	u.pending = lines
	u.mu.Unlock()
	u.add("pending: " + strings.Join(lines, " | "))
}
func (u *fakeUI) Windowed() bool { return u.windowed }
func (u *fakeUI) Redraw(lines []string) {
	u.mu.Lock()
	u.redraws = append(u.redraws, slices.Clone(lines))
	u.mu.Unlock()
	u.signal()
}
func (u *fakeUI) SetStatus(bar string) {
	u.mu.Lock()
	u.status = bar
	u.mu.Unlock()
	u.signal()
}
func (u *fakeUI) signal() {
	select {
	case u.changed <- struct{}{}:
	default:
	}
}
func (u *fakeUI) Print(line string)  { u.add(line) }
func (u *fakeUI) Notice(line string) { u.add("notice: " + line) }
func (u *fakeUI) add(line string) {
	u.mu.Lock()
	u.shown = append(u.shown, line)
	u.mu.Unlock()
	select {
	case u.changed <- struct{}{}:
	default:
	}
}

// type_ types a line, failing if the client does not read it in time.
func (u *fakeUI) type_(t *testing.T, line string) {
	t.Helper()
	select {
	case u.typed <- line:
	case <-time.After(5 * time.Second):
		t.Fatalf("the client does not read the typed line %q", line)
	}
}

// press presses a key that ReadLine reports as err, failing if the client
// does not read it.
func (u *fakeUI) press(t *testing.T, err error) {
	t.Helper()
	select {
	case u.keys <- err:
	case <-time.After(5 * time.Second):
		t.Fatalf("the client does not read the key %v", err)
	}
}

// typeSecret types a password, failing if the client does not read one.
func (u *fakeUI) typeSecret(t *testing.T, password string) {
	t.Helper()
	select {
	case u.secrets <- password:
	case <-time.After(5 * time.Second):
		t.Fatalf("the client does not read a password")
	}
}

// waitPrompt waits until the prompt is want.
func (u *fakeUI) waitPrompt(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		u.mu.Lock()
		got := u.prompt
		u.mu.Unlock()
		if got == want {
			return
		}
		select {
		case <-u.changed:
		case <-deadline:
			t.Fatalf("prompt %q, want %q", got, want)
		}
	}
}

// waitShown waits until a line printed or noticed contains want and
// returns it.
func (u *fakeUI) waitShown(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		u.mu.Lock()
		for _, l := range u.shown {
			if !strings.HasPrefix(l, "pending: ") && strings.Contains(l, want) {
				u.mu.Unlock()
				return l
			}
		}
		all := strings.Join(u.shown, "\n")
		u.mu.Unlock()
		select {
		case <-u.changed:
		case <-deadline:
			t.Fatalf("nothing shown contains %q; shown:\n%s", want, all)
		}
	}
}

// waitPending waits until the pending lines are want.
func (u *fakeUI) waitPending(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		u.mu.Lock()
		got := u.pending
		u.mu.Unlock()
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-u.changed:
		case <-deadline:
			t.Fatalf("pending %q, want %q", got, want)
		}
	}
}

func (u *fakeUI) all() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return strings.Join(u.shown, "\n")
}

// fakeServer accepts one connection and lets the test play the server.
type fakeServer struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
	br   *bufio.Reader
}

func newFakeServer(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeServer{t: t, ln: ln}
}

func (s *fakeServer) accept() {
	s.t.Helper()
	s.ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
	c, err := s.ln.Accept()
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { c.Close() })
	s.conn, s.br = c, bufio.NewReader(c)
}

// core answers the client's CAPS as a core server does (CAPS-1).
func (s *fakeServer) core() {
	s.t.Helper()
	s.expect("CAPS")
	s.send("ERROR Username required")
}

// expect reads the next client line and checks it.
func (s *fakeServer) expect(want string) {
	s.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := s.br.ReadString('\n')
	if err != nil {
		s.t.Fatalf("waiting for %q: %v", want, err)
	}
	if !strings.HasSuffix(line, "\r\n") {
		s.t.Errorf("line %q does not end in CRLF", line)
	}
	if got := strings.TrimSuffix(line, "\r\n"); got != want {
		s.t.Fatalf("client sent %q, want %q", got, want)
	}
}

// expectAfterPings is expect, skipping any keepalive PINGs before want.
func (s *fakeServer) expectAfterPings(want string) {
	s.t.Helper()
	for {
		s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := s.br.ReadString('\n')
		if err != nil {
			s.t.Fatalf("waiting for %q: %v", want, err)
		}
		switch got := strings.TrimSuffix(line, "\r\n"); got {
		case want:
			return
		case "PING":
		default:
			s.t.Fatalf("client sent %q, want %q", got, want)
		}
	}
}

func (s *fakeServer) send(lines ...string) {
	s.t.Helper()
	for _, l := range lines {
		if _, err := s.conn.Write([]byte(l + "\r\n")); err != nil {
			s.t.Fatal(err)
		}
	}
}

// start runs the client in the background; the returned channel yields its
// exit status.
func start(t *testing.T, cfg Config, ui UI) <-chan int {
	status := make(chan int, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		status <- Run(context.Background(), cfg, ui, plain())
	}()
	t.Cleanup(func() {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Error("the client did not end")
		}
	})
	return status
}

func wantStatus(t *testing.T, status <-chan int, want int) {
	t.Helper()
	select {
	case got := <-status:
		if got != want {
			t.Fatalf("exit status %d, want %d", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client did not end")
	}
}

func TestRunSession(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(false)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!")
	ui.waitShown(t, "Welcome, bob!")

	ui.type_(t, "/join #a")
	srv.expect("JOIN #a")
	srv.send("OK Joined #a (1 users)", "JOIN #a alice", "ROOM #a alice earlier")
	ui.waitShown(t, "15:04 joined #a (1 other user)")
	ui.waitShown(t, "15:04 * alice is in #a")
	ui.waitShown(t, "15:04 [#a] alice: earlier")

	ui.type_(t, "JOIN is a word")
	srv.expect("MSG JOIN is a word")
	srv.send("ROOM #a bob JOIN is a word")
	ui.waitShown(t, "[#a] <you> JOIN is a word")

	ui.type_(t, "/msg alice psst")
	srv.expect("PRIVMSG alice psst")
	ui.type_(t, "/msg carol hi")
	srv.expect("PRIVMSG carol hi")
	srv.send("OK Sent", "ERROR User not found", "PRIVMSG alice back")
	ui.waitShown(t, "(private) to alice: psst")
	ui.waitShown(t, "! User not found: carol")
	ui.waitShown(t, "(private) alice: back")

	ui.type_(t, "/users")
	srv.expect("USERS")
	srv.send("JOIN #a carol", "USERLIST alice bob carol", "PONG", "\x1b[31mevil")
	ui.waitShown(t, "15:04 * carol joined #a")
	ui.waitShown(t, "users in #a: alice, bob, carol")
	ui.waitShown(t, `? malformed line from server: "\x1b[31mevil"`)

	ui.type_(t, "/bogus")
	ui.waitShown(t, `notice: ! unknown command "/bogus"`)
	ui.type_(t, "/help")
	ui.waitShown(t, "notice: commands:")

	ui.type_(t, "/quit")
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
	if strings.Contains(ui.all(), "PONG") {
		t.Errorf("PONG shown:\n%s", ui.all())
	}
}

// TestRunPending: a message sent is pending until the server confirms it,
// and the pending line goes before the confirmation is printed, so the
// message is never shown twice.
func TestRunPending(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!", "OK Joined #a (0 users)")
	ui.waitShown(t, "joined #a")

	ui.type_(t, "hello")
	srv.expect("MSG hello")
	ui.type_(t, "/msg alice psst")
	srv.expect("PRIVMSG alice psst")
	ui.waitPending(t, "--:-- [#a] <you> hello", "--:-- (private) to alice: psst")
	srv.send("ROOM #a bob hello")
	ui.waitPending(t, "--:-- (private) to alice: psst")
	srv.send("OK Sent")
	ui.waitPending(t)
	ui.waitShown(t, "(private) to alice: psst")

	var log []string
	for _, l := range strings.Split(ui.all(), "\n") {
		if strings.Contains(l, "hello") || strings.Contains(l, "psst") {
			log = append(log, l)
		}
	}
	want := []string{
		"pending: --:-- [#a] <you> hello",
		"pending: --:-- [#a] <you> hello | --:-- (private) to alice: psst",
		"pending: --:-- (private) to alice: psst",
		"15:04 [#a] <you> hello",
		"15:04 (private) to alice: psst",
	}
	if !slices.Equal(log, want) {
		t.Errorf("shown:\n%s\nwant:\n%s", strings.Join(log, "\n"), strings.Join(want, "\n"))
	}
	close(ui.typed)
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
}

func TestRunPrompt(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!", "OK Joined #tea (0 users)")
	ui.waitShown(t, "joined #tea")
	ui.mu.Lock()
	prompt := ui.prompt
	ui.mu.Unlock()
	if prompt != "#tea> " {
		t.Errorf("prompt %q, want %q", prompt, "#tea> ")
	}
	close(ui.typed) // Ctrl-D
	srv.expect("QUIT")
	srv.conn.Close() // no goodbye: the close is enough
	wantStatus(t, status, StatusOK)
}

func TestRunNameRefusedWithoutPerson(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(false)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "alice"}, ui)
	srv.accept()
	srv.core()
	srv.expect("USERNAME alice")
	srv.send("ERROR Username taken")
	ui.waitShown(t, "! Username taken")
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusError)
}

func TestRunNameAskedAgain(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String()}, ui)
	srv.accept()
	srv.core()
	ui.type_(t, "")
	ui.type_(t, "/join #a")
	ui.waitShown(t, "choose a username first")
	ui.type_(t, "alice")
	srv.expect("USERNAME alice")
	srv.send("ERROR Username taken")
	ui.waitShown(t, "! Username taken")
	ui.type_(t, "al ice")
	srv.expect("USERNAME al ice")
	srv.send("ERROR Invalid username")
	ui.waitShown(t, "! Invalid username")
	ui.type_(t, "bob")
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!")
	ui.type_(t, "hi")
	srv.expect("MSG hi")
	srv.conn.Close()
	wantStatus(t, status, StatusError)
	ui.waitShown(t, "the server closed the connection")
}

func TestRunServerCloses(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui)
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!", "ERROR Server shutting down")
	srv.conn.Close()
	wantStatus(t, status, StatusError)
	ui.waitShown(t, "! Server shutting down")
	ui.waitShown(t, "notice: ! the server closed the connection")
}

func TestRunCannotConnect(t *testing.T) {
	srv := newFakeServer(t)
	addr := srv.ln.Addr().String()
	srv.ln.Close()
	ui := newFakeUI(true)
	wantStatus(t, start(t, Config{Addr: addr, Name: "bob"}, ui), StatusError)
	ui.waitShown(t, "cannot connect")
}

func TestRunKeepalive(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	status := start(t, Config{Addr: srv.ln.Addr().String(), Name: "bob", Keepalive: 20 * time.Millisecond}, ui)
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!")
	srv.expect("PING")
	srv.send("PONG")
	srv.expect("PING")
	close(ui.typed)
	srv.expectAfterPings("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusOK)
}

func TestRunInterrupted(t *testing.T) {
	srv := newFakeServer(t)
	ui := newFakeUI(true)
	ctx, cancel := context.WithCancel(context.Background())
	status := make(chan int, 1)
	go func() { status <- Run(ctx, Config{Addr: srv.ln.Addr().String(), Name: "bob"}, ui, plain()) }()
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!")
	cancel()
	srv.expect("QUIT")
	srv.send("OK Goodbye!")
	wantStatus(t, status, StatusError)
}

func TestMainScripted(t *testing.T) {
	srv := newFakeServer(t)
	in := strings.NewReader("/join #a\r\nhello\n/nope\n/quit\nnot read\n")
	var out, diag strings.Builder
	status := make(chan int, 1)
	go func() {
		status <- Main(context.Background(), Config{Addr: srv.ln.Addr().String(), Name: "bob", Now: fixedClock}, in, &out, &diag)
	}()
	srv.accept()
	srv.core()
	srv.expect("USERNAME bob")
	srv.send("OK Welcome, bob!")
	srv.expect("JOIN #a")
	srv.expect("MSG hello")
	srv.expect("QUIT")
	srv.send("OK Joined #a (0 users)", "ROOM #a bob hello", "OK Goodbye!")
	wantStatus(t, status, StatusOK)
	want := "15:04 Welcome, bob!\n15:04 joined #a (nobody else here)\n15:04 [#a] <you> hello\n15:04 Goodbye!\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
	if !strings.Contains(diag.String(), `unknown command "/nope"`) {
		t.Errorf("stderr: %q", diag.String())
	}
}
