package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/cluster"
)

// The pieces of the cluster tests (cluster_test.go): a NATS server in the
// test process, chatd nodes whose logs can be waited on, and clients that
// record every line they receive, so that a test waits for lines and log
// records, never for time.

// lockedBuffer is a bytes.Buffer that goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startNATS starts a NATS server with JetStream in the test process, its
// store in a temporary directory, shut down when the test ends. Its log is
// shown if the test fails.
func startNATS(t *testing.T) *cluster.Embedded {
	t.Helper()
	var log lockedBuffer
	e, err := cluster.StartEmbedded(cluster.EmbeddedConfig{
		Addr:     "127.0.0.1:0",
		StoreDir: t.TempDir(),
		Logger:   slog.New(slog.NewTextHandler(&log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Shutdown()
		if t.Failed() {
			t.Logf("NATS log:\n%s", log.String())
		}
	})
	return e
}

// A node is one chatd process of a test cluster. Its log is kept line by
// line, and can be waited on.
type node struct {
	id   string
	addr string // the line listener's
	cmd  *exec.Cmd
	done chan struct{} // closed when its standard error ends: it exited

	mu    sync.Mutex
	lines []string      // its log
	grew  chan struct{} // closed, and replaced, when a line is added
}

// startNode runs chatd as node id of the cluster whose NATS server is at
// url, listening for lines on a free port, with args besides, and returns
// once it listens. It is killed when the test ends if it still runs, and
// its log is shown if the test failed.
func startNode(t *testing.T, id, url string, args ...string) *node {
	t.Helper()
	args = append([]string{"-addr", "127.0.0.1:0", "-cluster", url, "-cluster-node", id, "-log-interval", "1h"}, args...)
	n := &node{id: id, cmd: exec.Command(chatdBinary(t), args...), done: make(chan struct{}), grew: make(chan struct{})}
	pipe, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n.cmd.ProcessState == nil {
			n.cmd.Process.Kill()
			<-n.done
			n.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("log of node %s:\n%s", n.id, n.log())
		}
	})
	go func() {
		defer close(n.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			n.mu.Lock()
			n.lines = append(n.lines, sc.Text())
			close(n.grew)
			n.grew = make(chan struct{})
			n.mu.Unlock()
		}
	}()
	m := n.waitLog(t, listeningRE)
	n.addr = listeningRE.FindStringSubmatch(m)[1]
	return n
}

// startNodes starts the nodes n1, n2, ... of the cluster at url, one
// after another, each with args.
func startNodes(t *testing.T, url string, count int, args ...string) []*node {
	t.Helper()
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("n%d", i+1), url, args...)
	}
	return nodes
}

// addrs returns the nodes' line addresses.
func addrs(nodes []*node) []string {
	var as []string
	for _, n := range nodes {
		as = append(as, n.addr)
	}
	return as
}

func (n *node) log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.lines, "\n")
}

// findLog returns the index of the first record of the log at or after
// from that re matches, waiting for it; it fails the test if none comes
// within failAfter or the process exits first.
func (n *node) findLog(t *testing.T, from int, re *regexp.Regexp) int {
	t.Helper()
	timeout := time.NewTimer(failAfter)
	defer timeout.Stop()
	for {
		n.mu.Lock()
		for ; from < len(n.lines); from++ {
			if re.MatchString(n.lines[from]) {
				n.mu.Unlock()
				return from
			}
		}
		grew := n.grew
		n.mu.Unlock()
		select {
		case <-grew:
		case <-n.done:
			// The last lines may have come with the end: look once more.
			n.mu.Lock()
			for ; from < len(n.lines); from++ {
				if re.MatchString(n.lines[from]) {
					n.mu.Unlock()
					return from
				}
			}
			n.mu.Unlock()
			t.Fatalf("node %s exited without logging a record that matches %q", n.id, re)
		case <-timeout.C:
			t.Fatalf("node %s logged no record that matches %q in %v", n.id, re, failAfter)
		}
	}
}

// waitLog waits for a record that re matches, from the start of the log,
// and returns it.
func (n *node) waitLog(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	i := n.findLog(t, 0, re)
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.lines[i]
}

// logSince returns the records logged since record from.
func (n *node) logSince(from int) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.lines[min(from, len(n.lines)):]...)
}

// logLen returns the number of records logged so far.
func (n *node) logLen() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.lines)
}

// kill kills the process with SIGKILL and waits until it is gone.
func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n.done
	n.cmd.Wait()
}

// A chatter is a client whose every line received is recorded, with the
// moment it arrived, by a goroutine of its own; the test finds lines in
// the record, waiting for them as they come.
type chatter struct {
	t    *testing.T
	name string
	conn net.Conn
	next int // the cursor of expect; used by one goroutine at a time

	mu    sync.Mutex
	lines []string
	at    []time.Time
	err   error         // why reading ended; nil while it goes on
	grew  chan struct{} // closed, and replaced, when a line is added or reading ends
}

// connect connects a chatter to addr; the connection is closed when the
// test ends.
func connect(t *testing.T, addr, name string) *chatter {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &chatter{t: t, name: name, conn: conn, grew: make(chan struct{})}
	go c.read()
	return c
}

func (c *chatter) read() {
	r := bufio.NewReader(c.conn)
	for {
		line, err := r.ReadString('\n')
		now := time.Now()
		c.mu.Lock()
		if err != nil {
			c.err = err
		} else {
			c.lines = append(c.lines, strings.TrimSuffix(line, "\r\n"))
			c.at = append(c.at, now)
		}
		close(c.grew)
		c.grew = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// write sends line; any goroutine may call it.
func (c *chatter) write(line string) error {
	c.conn.SetWriteDeadline(time.Now().Add(failAfter))
	_, err := c.conn.Write([]byte(line + "\r\n"))
	return err
}

// send sends line, failing the test if it cannot; for the test's own
// goroutine.
func (c *chatter) send(line string) {
	c.t.Helper()
	if err := c.write(line); err != nil {
		c.t.Fatalf("%s: send %q: %v", c.name, line, err)
	}
}

// find returns the index of the first line received at or after from that
// match accepts, waiting for it at most failAfter; an error if it does not
// come, or the connection ends first.
func (c *chatter) find(from int, match func(string) bool) (int, error) {
	timeout := time.NewTimer(failAfter)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		for ; from < len(c.lines); from++ {
			if match(c.lines[from]) {
				c.mu.Unlock()
				return from, nil
			}
		}
		err, grew := c.err, c.grew
		c.mu.Unlock()
		if err != nil {
			return -1, fmt.Errorf("%s: the connection ended (%v)", c.name, err)
		}
		select {
		case <-grew:
		case <-timeout.C:
			return -1, fmt.Errorf("%s: not received in %v", c.name, failAfter)
		}
	}
}

// must is find for the test's own goroutine: it fails the test with what
// was expected.
func (c *chatter) must(from int, what string, match func(string) bool) int {
	c.t.Helper()
	i, err := c.find(from, match)
	if err != nil {
		c.t.Fatalf("waiting for %s: %v; received:\n%s", what, err, strings.Join(c.received(0), "\n"))
	}
	return i
}

// expect checks that the next lines at the cursor are want, and moves the
// cursor past them.
func (c *chatter) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		i := c.must(c.next, fmt.Sprintf("%q", w), func(string) bool { return true })
		if got := c.line(i); got != w {
			c.t.Fatalf("%s: got %q, want %q", c.name, got, w)
		}
		c.next = i + 1
	}
}

// do sends line and expects want.
func (c *chatter) do(line string, want ...string) {
	c.t.Helper()
	c.send(line)
	c.expect(want...)
}

func (c *chatter) line(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines[i]
}

func (c *chatter) arrival(i int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at[i]
}

// received returns the lines received from index from on.
func (c *chatter) received(from int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines[min(from, len(c.lines)):]...)
}

// count returns how many lines have been received.
func (c *chatter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// barrier sends PING token and waits for its PONG: every line the node
// applied before the PING has been received. It returns the PONG's index.
func (c *chatter) barrier(token string) int {
	c.t.Helper()
	c.send("PING " + token)
	return c.must(c.next, "PONG "+token, func(l string) bool { return l == "PONG "+token })
}

// is returns a matcher of the line want.
func is(want string) func(string) bool {
	return func(l string) bool { return l == want }
}

// A talker sends numbered room messages from a goroutine of its own
// (run), each once the reply to the one before has come: "<name>-<k>",
// as MSG to its rooms in turn, or as a text line to its one room for a
// core client.
type talker struct {
	t     *testing.T
	c     *chatter
	rooms []string
	core  bool
	// mayDie: the connection may end (its node is killed); the talker
	// then stops without failing the test.
	mayDie bool
	// resume, if not nil, is closed once the cluster is back: a line
	// answered ERROR Cluster unavailable is not failed, and the talker
	// waits for resume before its next line.
	resume <-chan struct{}

	sent []sentLine // owned by run until it returns
}

// sentLine is one message a talker sent, and what came of it.
type sentLine struct {
	text           string
	sent, answered time.Time
	reply          string // the echo, or the error; "" if none came
}

// echoed reports whether the line's echo came.
func (s sentLine) echoed() bool { return strings.HasPrefix(s.reply, "ROOM ") }

// run sends until stop is closed, or the connection ends, or something
// fails the test.
func (tk *talker) run(stop <-chan struct{}) {
	name := tk.c.name
	from := tk.c.next
	for k := 0; ; k++ {
		select {
		case <-stop:
			return
		default:
		}
		room := tk.rooms[k%len(tk.rooms)]
		text := fmt.Sprintf("%s-%d", name, k)
		line := "MSG " + room + " " + text
		if tk.core {
			line = text
		}
		tk.sent = append(tk.sent, sentLine{text: text, sent: time.Now()})
		s := &tk.sent[len(tk.sent)-1]
		err := tk.c.write(line)
		var i int
		if err == nil {
			// The reply: the first line that is neither a note nor another
			// user's message.
			i, err = tk.c.find(from, func(l string) bool {
				f := strings.SplitN(l, " ", 4)
				switch f[0] {
				case "JOIN", "LEAVE":
					return false
				case "ROOM":
					return len(f) > 2 && f[2] == name
				}
				return true
			})
		}
		if err != nil {
			if !tk.mayDie {
				tk.t.Errorf("%s, after %q: %v", name, line, err)
			}
			return
		}
		from = i + 1
		s.reply, s.answered = tk.c.line(i), tk.c.arrival(i)
		switch {
		case s.reply == "ROOM "+room+" "+name+" "+text:
		case s.reply == "ERROR "+impl.ErrClusterUnavailable && tk.resume != nil:
			select {
			case <-tk.resume:
			case <-stop:
				return
			}
		default:
			tk.t.Errorf("%s: %q answered %q", name, line, s.reply)
			return
		}
	}
}

// echoes returns the texts of the talker's lines whose echo came.
func (tk *talker) echoes() []string {
	var texts []string
	for _, s := range tk.sent {
		if s.echoed() {
			texts = append(texts, s.text)
		}
	}
	return texts
}

// roomLine splits "ROOM <room> <user> <text>".
func roomLine(l string) (room, user, text string, ok bool) {
	f := strings.SplitN(l, " ", 4)
	if len(f) != 4 || f[0] != "ROOM" {
		return "", "", "", false
	}
	return f[1], f[2], f[3], true
}

// textsOf returns the texts of user's room messages among lines, in
// order.
func textsOf(lines []string, user string) []string {
	var texts []string
	for _, l := range lines {
		if _, u, text, ok := roomLine(l); ok && u == user {
			texts = append(texts, text)
		}
	}
	return texts
}

// countFrom returns a matcher for find that accepts the line at which
// every one of users has had at least n room messages since the matcher
// began to look; it must see every line once, in order, as find shows
// them.
func countFrom(n int, users ...string) func(string) bool {
	seen := map[string]int{}
	return func(l string) bool {
		if _, u, _, ok := roomLine(l); ok {
			seen[u]++
		}
		for _, u := range users {
			if seen[u] < n {
				return false
			}
		}
		return true
	}
}

// firstDiff describes where two transcripts first differ.
func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("line %d: %q and %q", i, a[i], b[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}
