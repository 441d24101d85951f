package commands

import (
	"fmt"
	"os"
	"regexp"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"roomchat.dev/roomchat/spec"
)

// DefaultTimeout is how long a command waits for a line when $TIMEOUT is
// not set.
const DefaultTimeout = 5 * time.Second

// The environment variables a script sees (package conformance documents
// them).
const (
	// envAddr is the address of the server under test.
	envAddr = "ADDR"
	// envU is a unique suffix of exactly 6 lower-case letters and digits
	// for the script's usernames and rooms.
	envU = "U"
	// envTimeout is how long a command waits for a line, as a Go duration
	// ("5s") or a number of seconds.
	envTimeout = "TIMEOUT"
	// envPing is "1" when the server implements the ping extension, so that
	// quiet can use a PING barrier, and "0" otherwise.
	envPing = "PING"
	// envFresh is "1" when the server was started for this script alone.
	envFresh = "FRESH"
)

// A Server is a server started for one script alone, which the shutdown
// command can ask to shut down.
type Server interface {
	// Shutdown asks the server to shut down gracefully (SHUT-1), as
	// SIGTERM does, and returns without waiting.
	Shutdown() error
}

// A Restarter is a Server that the restart command can restart.
type Restarter interface {
	Server
	// Restart stops the server, gracefully and waiting until it has
	// stopped, or at once with kill, then starts it again with the same
	// settings and state; it returns once the server accepts connections.
	Restart(kill bool) error
	// Addr is where the server listens, which may change with a restart.
	Addr() string
}

// A Cluster is a Server of several nodes (conformance.Cluster): the
// commands of the cluster profile connect to its nodes, stop them, and stop
// its log.
type Cluster interface {
	Server
	NodeAddrs() []string
	KillNode(n int) error
	StopNode(n int) error
	StopLog() error
	StartLog() error
}

// Config is what the commands of one script know of their surroundings.
type Config struct {
	Addr    string        // the server's address: $ADDR
	U       string        // the script's unique suffix: $U
	Timeout time.Duration // how long a command waits for one line: $TIMEOUT
	Ping    bool          // the server implements the ping extension: $PING
	// Server is the server started for this script alone ($FRESH=1), or
	// nil if the script shares a server.
	Server Server
	// Dialer reaches the server over the transport under test.
	Dialer dial.Dialer
}

// Setup prepares one script for the commands, from testscript.Params.Setup:
// it sets the script's environment variables and installs its session,
// whose clients are closed when the script ends. It returns the session's
// transcript, for a report of the script once it has ended.
func Setup(env *testscript.Env, cfg Config) *Transcript {
	s := newSession(cfg.Server)
	s.dialer = cfg.Dialer
	env.Values[sessionKey{}] = s
	env.Defer(s.close)
	env.Setenv(envAddr, cfg.Addr)
	env.Setenv(envU, cfg.U)
	env.Setenv(envTimeout, cfg.Timeout.String())
	env.Setenv(envPing, boolEnv(cfg.Ping))
	env.Setenv(envFresh, boolEnv(cfg.Server != nil))
	return s.tr
}

func boolEnv(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// quietPeriod is how long quiet watches for silence when the server has no
// PING to use as a barrier.
const quietPeriod = 300 * time.Millisecond

// sessionKey is the key of the *session in testscript's Env.Values.
type sessionKey struct{}

// A session is the state of one running script: its clients and their
// common transcript.
type session struct {
	tr      *Transcript
	clients map[string]*Client
	order   []string             // client names, in the order first connected
	server  Server               // the server started for this script, or nil
	quiets  int                  // PING tokens used by quiet so far
	marks   map[string]time.Time // the stopwatches of mark, by name
	should  string               // the SHOULD rule of the assertions from here on (should); "" for MUST
	dialer  dial.Dialer          // how clients connect
	msgs    msgLog               // the message IDs recvmsg has seen
}

func newSession(server Server) *session {
	return &session{tr: NewTranscript(), clients: map[string]*Client{}, server: server, marks: map[string]time.Time{}}
}

// close closes every client and waits for their reader goroutines and
// background floods.
func (s *session) close() {
	for _, name := range s.order {
		s.clients[name].shutdown()
	}
	for _, name := range s.order {
		s.clients[name].waitFlood()
	}
}

func getSession(ts *testscript.TestScript) *session {
	s, ok := ts.Value(sessionKey{}).(*session)
	if !ok {
		ts.Fatalf("no roomchat session: the script was not started by the conformance runner")
	}
	return s
}

// fatalf fails the script with a message followed by the transcript of
// every client.
func (s *session) fatalf(ts *testscript.TestScript, format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	s.tr.fail(s.should)
	if s.should != "" {
		msg += fmt.Sprintf("\n(this assertion checks %s, a SHOULD)", s.should)
	}
	ts.Fatalf("%s\n\ntranscript (> sent by a client, < received by it):\n%s", msg, s.tr.String())
}

// client returns the open client called name, or fails the script.
func (s *session) client(ts *testscript.TestScript, name string) *Client {
	c, ok := s.clients[name]
	if !ok {
		ts.Fatalf("no client called %q: connect it first", name)
	}
	return c
}

// writer returns a client the script may still write to.
func (s *session) writer(ts *testscript.TestScript, name string) *Client {
	c := s.client(ts, name)
	if c.HungUp() {
		ts.Fatalf("%s has closed its connection", name)
	}
	c.mu.Lock()
	half := c.wroteEOF
	c.mu.Unlock()
	if half {
		ts.Fatalf("%s has half-closed its connection and cannot send", name)
	}
	return c
}

// reader returns a client whose lines the script may still read.
func (s *session) reader(ts *testscript.TestScript, name string) *Client {
	c := s.client(ts, name)
	if c.HungUp() {
		ts.Fatalf("%s has closed its connection itself: there is nothing to read", name)
	}
	return c
}

// timeout returns how long a command waits for a line.
func timeout(ts *testscript.TestScript) time.Duration {
	v := ts.Getenv(envTimeout)
	if v == "" {
		return DefaultTimeout
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n > 0 {
		return time.Duration(n * float64(time.Second))
	}
	ts.Fatalf("bad $%s %q: want a duration such as 5s", envTimeout, v)
	return 0
}

// expand substitutes environment variables in a command argument. The
// commands expand their arguments themselves so that $U works inside single
// quotes, which testscript leaves alone. Write $$ for a literal $.
func expand(ts *testscript.TestScript, s string) string {
	return os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		return ts.Getenv(name)
	})
}

// nameRange matches a word holding a numeric range, such as c{1..200}$U.
var nameRange = regexp.MustCompile(`^(.*)\{([0-9]+)\.\.([0-9]+)\}(.*)$`)

// maxRange bounds the words one range stands for.
const maxRange = 100000

// words expands the variables of each argument, then a range in it:
// PREFIX{A..B}SUFFIX stands for the words PREFIX<A>SUFFIX ... PREFIX<B>SUFFIX.
// A word without a range stands for itself.
func words(ts *testscript.TestScript, args []string) []string {
	var out []string
	for _, a := range args {
		w := expand(ts, a)
		m := nameRange.FindStringSubmatch(w)
		if m == nil {
			out = append(out, w)
			continue
		}
		from, err1 := strconv.Atoi(m[2])
		to, err2 := strconv.Atoi(m[3])
		if err1 != nil || err2 != nil || from > to || to-from >= maxRange {
			ts.Fatalf("bad range in %q: want {A..B} with A <= B, at most %d words", a, maxRange)
		}
		for i := from; i <= to; i++ {
			out = append(out, m[1]+strconv.Itoa(i)+m[4])
		}
	}
	return out
}

func countArg(ts *testscript.TestScript, a string) int {
	n, err := strconv.Atoi(a)
	if err != nil || n < 0 {
		ts.Fatalf("bad count %q", a)
	}
	return n
}

// take consumes the next line of c for command cmd and returns it without
// its terminator, failing the script if none arrives in time, if the
// connection ends, or if the line does not end in CRLF. want describes
// what was expected, for the failure message.
func (s *session) take(ts *testscript.TestScript, c *Client, cmd, want string) string {
	got, _ := s.takeAt(ts, c, cmd, want)
	return got
}

// takeAt is take that also returns when the line arrived (Client.NextAt).
func (s *session) takeAt(ts *testscript.TestScript, c *Client, cmd, want string) (string, time.Time) {
	line, at, err := c.NextAt(timeout(ts))
	if err != nil {
		s.fatalf(ts, "%s %s: %s\n  want: %s", cmd, c.name, describeEnd(err, timeout(ts)), want)
	}
	return s.check(ts, c, cmd, line), at
}

// check validates a consumed line's terminator (FRAME-2) and returns it
// without terminator.
func (s *session) check(ts *testscript.TestScript, c *Client, cmd string, line []byte) string {
	body, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		s.fatalf(ts, "%s %s: line %q does not end in CRLF; the server always sends CRLF (FRAME-2)", cmd, c.name, line)
	}
	return body
}

// grammar fails the script if a line that a pattern accepted is outside the
// server grammar (GRAM-6). Lines compared exactly need no such check.
func (s *session) grammar(ts *testscript.TestScript, c *Client, cmd, body string) {
	if _, err := spec.ParseServerLine(body); err != nil {
		s.fatalf(ts, "%s %s: the server sent a line outside the grammar of PROTOCOL.md 3.2 (GRAM-6): %v", cmd, c.name, err)
	}
}

// describeEnd explains why no line came.
func describeEnd(err error, d time.Duration) string {
	if err == errTimeout {
		return fmt.Sprintf("no line arrived within %v", d)
	}
	if isClose(err) {
		return "the server closed the connection first"
	}
	return "the connection failed first: " + err.Error()
}

// difference describes how got differs from want.
func difference(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	var w, g string
	if i < len(want) {
		w = strconv.Quote(want[i:min(len(want), i+20)])
	} else {
		w = "end of line"
	}
	if i < len(got) {
		g = strconv.Quote(got[i:min(len(got), i+20)])
	} else {
		g = "end of line"
	}
	return fmt.Sprintf("  want: %s\n  got:  %s\n  first difference at byte %d: want %s, got %s", strconv.Quote(want), strconv.Quote(got), i, w, g)
}
