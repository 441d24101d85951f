package impl_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// The robustness tests (robust_*_test.go) play hostile clients against the
// server beside well-behaved ones, and check three things each: the server
// stays up (a newcomer is served afterwards), its memory and goroutines stay
// within a stated bound per connection and come back to where they were
// once the attackers have gone, and every well-behaved client in the same
// room receives every line, in order. Those that measure the heap of the
// whole process are not parallel, so that each runs alone. Their sizes are
// modest by default; CHAT_SOAK=1 multiplies them (see docs/robustness.md).

// soak reports whether the long variants were asked for.
func soak() bool { return os.Getenv("CHAT_SOAK") == "1" }

// size returns def, or big under CHAT_SOAK=1.
func size(def, big int) int {
	if soak() {
		return big
	}
	return def
}

// MiB and KiB, for bounds.
const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// logWatch is a server log that a test can wait on. It counts the
// records by their msg= and reason= attributes, and keeps only the tail of
// the text, so that it does not grow with the number of connections and
// spoil the measurements of the heap.
type logWatch struct {
	mu     sync.Mutex
	counts map[string]int // "msg=disconnect", "reason=quit", ... -> records
	tail   []byte         // the last logTail bytes
	notify chan struct{}  // closed and replaced on every write
}

const logTail = 64 * KiB

func newLogWatch() *logWatch { return &logWatch{counts: map[string]int{}, notify: make(chan struct{})} }

// Write takes one record, as slog's handlers write them.
func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range strings.Fields(string(p)) {
		if strings.HasPrefix(f, "msg=") || strings.HasPrefix(f, "reason=") {
			w.counts[f]++
		}
	}
	w.tail = append(w.tail, p...)
	if over := len(w.tail) - logTail; over > 0 {
		w.tail = append(w.tail[:0], w.tail[over:]...)
	}
	close(w.notify)
	w.notify = make(chan struct{})
	return len(p), nil
}

// String returns the tail of the log.
func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.tail)
}

func (w *logWatch) logger() *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// count returns how many records had the attribute attr, such as
// "msg=disconnect" or "reason=slow-consumer".
func (w *logWatch) count(attr string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[attr]
}

// waitCount waits until n records had the attribute attr: the server's own
// account that it has processed n events, such as disconnects that no
// client can observe (DISC-3).
func (w *logWatch) waitCount(t testing.TB, attr string, n int) {
	t.Helper()
	deadline := time.NewTimer(failAfter)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		got := w.counts[attr]
		ch := w.notify
		w.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("the server logged %q %d times in %v, want %d", attr, got, failAfter, n)
		}
	}
}

// resources is what the process uses, measured after a garbage collection.
type resources struct {
	heap       uint64 // bytes of live heap objects
	stack      uint64 // bytes of goroutine stacks
	goroutines int
}

func sample() resources {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return resources{heap: m.HeapAlloc, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// delta returns a-b in bytes, which may be negative.
func delta(a, b uint64) int64 { return int64(a) - int64(b) }

// bounds measures the process before, during and after an attack.
type bounds struct {
	t      testing.TB
	attack string
	base   resources
}

// Slack allowed on top of the per-connection bounds, for the test's own
// buffers, the runtime's caches and the noise of the garbage collector.
const (
	heapSlack      = 4 * MiB
	goroutineSlack = 20
	stackPerConn   = 32 * KiB // the stacks of the two goroutines of a connection
	// retainedPerConn is what the process may keep for each connection of
	// the peak after all have gone: the Go runtime keeps the descriptor of
	// every goroutine it ever ran for reuse (about 400 bytes each, two per
	// connection), and maps do not shrink. A leak shows as growth from one
	// round of an attack to the next instead (see TestRobustChurn).
	retainedPerConn = 2 * KiB
)

// newBounds takes the baseline. Call it once the server and the
// well-behaved clients are up, before the attack.
func newBounds(t testing.TB, attack string) *bounds {
	return &bounds{t: t, attack: attack, base: sample()}
}

// peak measures while conns attacking connections are open and checks that
// the heap grew by at most heapPerConn bytes a connection, and the
// goroutines by at most goroutinesPerConn (the server runs two for each, a
// reader and a writer; the attacking clients, none), both with slack.
func (b *bounds) peak(conns int, heapPerConn int64, goroutinesPerConn float64) resources {
	b.t.Helper()
	r := sample()
	dh, ds, dg := delta(r.heap, b.base.heap), delta(r.stack, b.base.stack), r.goroutines-b.base.goroutines
	b.t.Logf("bounds %s: %d connections: heap %+d KiB (%d B/conn), stacks %+d KiB (%d B/conn), goroutines %+d (%.2f/conn)",
		b.attack, conns, dh/KiB, dh/int64(max(conns, 1)), ds/KiB, ds/int64(max(conns, 1)), dg, float64(dg)/float64(max(conns, 1)))
	if limit := int64(conns)*heapPerConn + heapSlack; dh > limit {
		b.t.Errorf("bounds %s: the heap grew by %d KiB for %d connections, more than %d B each (+%d KiB)", b.attack, dh/KiB, conns, heapPerConn, heapSlack/KiB)
	}
	if limit := int64(conns)*stackPerConn + heapSlack; ds > limit {
		b.t.Errorf("bounds %s: the stacks grew by %d KiB for %d connections, more than %d B each (+%d KiB)", b.attack, ds/KiB, conns, stackPerConn, heapSlack/KiB)
	}
	if limit := int(float64(conns)*goroutinesPerConn) + goroutineSlack; dg > limit {
		b.t.Errorf("bounds %s: %d more goroutines for %d connections, more than %.1f each (+%d)", b.attack, dg, conns, goroutinesPerConn, goroutineSlack)
	}
	return r
}

// after waits for the goroutines of the attack to end and checks that the
// process is back where it was: no goroutine left, and the heap within
// what the server's maps may keep after peakConns connections.
func (b *bounds) after(peakConns int) {
	b.t.Helper()
	r := waitGoroutines(b.t, b.base.goroutines+goroutineSlack/4)
	dh := delta(r.heap, b.base.heap)
	b.t.Logf("bounds %s: after the attackers left: heap %+d KiB, goroutines %+d", b.attack, dh/KiB, r.goroutines-b.base.goroutines)
	if limit := int64(peakConns)*retainedPerConn + heapSlack; dh > limit {
		b.t.Errorf("bounds %s: the heap is still %d KiB above its baseline after the attackers left (limit %d KiB): a leak?", b.attack, dh/KiB, limit/KiB)
	}
}

// waitGoroutines waits until at most n goroutines run, for the server's
// reader and writer goroutines to finish after their connections were
// processed as closed. The goroutines are internal, so there is no line to
// wait for: this polls, with a deadline, and dumps the stacks on failure.
func waitGoroutines(t testing.TB, n int) resources {
	t.Helper()
	deadline := time.Now().Add(failAfter)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		r := sample()
		if r.goroutines <= n {
			return r
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still run %v after the attack, want at most %d:\n%s", r.goroutines, failAfter, n, buf)
		}
		time.Sleep(pause)
	}
}

// crowd is a set of raw connections that play attackers: no goroutine of
// their own, nothing read unless a test reads it.
type crowd struct {
	t     testing.TB
	conns []*net.TCPConn
}

// dialCrowd opens n connections to addr.
func dialCrowd(t testing.TB, addr string, n int) *crowd {
	t.Helper()
	cr := &crowd{t: t}
	t.Cleanup(func() { cr.close(false) })
	for range n {
		cr.add(addr)
	}
	return cr
}

// add opens one more connection.
func (cr *crowd) add(addr string) *net.TCPConn {
	cr.t.Helper()
	c, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		cr.t.Fatalf("dial %d: %v", len(cr.conns)+1, err)
	}
	tc := c.(*net.TCPConn)
	cr.conns = append(cr.conns, tc)
	return tc
}

// each writes fmt-formatted bytes to every connection; %d is its index.
func (cr *crowd) each(format string) {
	cr.t.Helper()
	for i, c := range cr.conns {
		c.SetWriteDeadline(time.Now().Add(failAfter))
		text := strings.ReplaceAll(format, "%d", strconv.Itoa(i))
		if _, err := c.Write([]byte(text)); err != nil {
			cr.t.Fatalf("crowd %d: write: %v", i, err)
		}
	}
}

// expectEach reads one line from every connection and checks it; %d in
// want is the connection's index.
func (cr *crowd) expectEach(want string) {
	cr.t.Helper()
	for i, c := range cr.conns {
		w := strings.ReplaceAll(want, "%d", strconv.Itoa(i))
		if got, err := readRawLine(c); err != nil || got != w {
			cr.t.Fatalf("crowd %d: got %q (%v), want %q", i, got, err, w)
		}
	}
}

// expectClosedEach checks that the server closed every connection, after
// skipping the lines that skip accepts.
func (cr *crowd) expectClosedEach(skip func(string) bool) {
	cr.t.Helper()
	for i, c := range cr.conns {
		for {
			line, err := readRawLine(c)
			if err != nil {
				if !isClosed(err) {
					cr.t.Fatalf("crowd %d: want the connection closed, got %v", i, err)
				}
				break
			}
			if skip == nil || !skip(line) {
				cr.t.Fatalf("crowd %d: want the connection closed, got %q", i, line)
			}
		}
	}
}

// close closes every connection, with a reset if asked.
func (cr *crowd) close(reset bool) {
	for _, c := range cr.conns {
		if reset {
			c.SetLinger(0)
		}
		c.Close()
	}
	cr.conns = nil
}

// readRawLine reads one line, byte by byte so that nothing after it is
// consumed, and checks its CRLF.
func readRawLine(c net.Conn) (string, error) {
	c.SetReadDeadline(time.Now().Add(failAfter))
	var line []byte
	var b [1]byte
	for {
		if _, err := c.Read(b[:]); err != nil {
			if len(line) > 0 {
				return "", fmt.Errorf("partial line %q before %v", line, err)
			}
			return "", err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			break
		}
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return "", fmt.Errorf("line %q does not end in CRLF", line)
	}
	return s, nil
}

// isClosed reports whether err is the end of a connection: EOF or a reset.
func isClosed(err error) bool {
	return err == io.EOF || strings.Contains(err.Error(), "connection reset")
}

// member is a well-behaved client in a room, read by a goroutine of its
// own so that it always reads. It checks that the numbered room messages
// of each sender ("ROOM <room> <sender> <sender>-<i> ...") arrive complete
// and in order, that JOIN and LEAVE notes alternate for each user, and
// hands every other line to the test. Its memory does not grow with the
// number of users that come and go: it counts their notes, and keeps them
// one by one only for the users it was asked to watch.
type member struct {
	c    *testClient
	name string
	room string

	pongs  chan string // PONG tokens
	others chan string // lines that are neither numbered ROOM lines, notes nor PONGs
	done   chan struct{}

	mu      sync.Mutex
	next    map[string]int         // sender -> next index expected
	present map[string]bool        // users in the room, as the notes tell
	joins   int                    // JOIN notes seen, in all
	leaves  int                    // LEAVE notes seen, in all
	watched map[string]*notes      // users whose notes are kept one by one
	timed   map[string][]time.Time // sender -> arrival times, for senders in track
	track   map[string]bool
	errs    []string
	closing bool
	changed chan struct{} // closed and replaced whenever a note arrives
}

// notes are the JOIN and LEAVE notes seen about one watched user.
type notes struct {
	joins, leaves int
	leftAt        time.Time // when the last LEAVE arrived
}

// startMember starts reading c, which is name, a member of room whose
// members are present.
func startMember(t testing.TB, c *testClient, name, room string, present ...string) *member {
	m := &member{
		c: c, name: name, room: room,
		pongs:  make(chan string, 64),
		others: make(chan string, 4096),
		done:   make(chan struct{}),
		next:   map[string]int{}, present: map[string]bool{}, watched: map[string]*notes{},
		timed: map[string][]time.Time{}, track: map[string]bool{},
		changed: make(chan struct{}),
	}
	for _, p := range present {
		m.present[p] = true
	}
	t.Cleanup(m.stop)
	go m.read()
	return m
}

func (m *member) stop() {
	m.mu.Lock()
	m.closing = true
	m.mu.Unlock()
	m.c.conn.Close()
	<-m.done
}

func (m *member) fail(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.errs) < 20 {
		m.errs = append(m.errs, fmt.Sprintf(m.name+": "+format, args...))
	}
}

func (m *member) read() {
	defer close(m.done)
	roomPrefix := "ROOM " + m.room + " "
	m.c.conn.SetReadDeadline(time.Time{}) // it reads until the test ends
	for {
		line, err := m.c.r.ReadString('\n')
		if err == nil && !strings.HasSuffix(line, "\r\n") {
			err = fmt.Errorf("line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if err != nil {
			m.mu.Lock()
			closing := m.closing
			m.mu.Unlock()
			if !closing {
				m.fail("read: %v", err)
			}
			return
		}
		switch word, rest, _ := strings.Cut(line, " "); {
		case strings.HasPrefix(line, roomPrefix):
			sender, text, _ := strings.Cut(strings.TrimPrefix(line, roomPrefix), " ")
			idx, _, _ := strings.Cut(strings.TrimPrefix(text, sender+"-"), " ")
			i, err := strconv.Atoi(idx)
			if !strings.HasPrefix(text, sender+"-") || err != nil {
				m.other(line)
				continue
			}
			m.mu.Lock()
			if i != m.next[sender] {
				m.errs = append(m.errs, fmt.Sprintf("%s: got %q, want index %d from %s", m.name, line, m.next[sender], sender))
			}
			m.next[sender] = i + 1
			if m.track[sender] {
				m.timed[sender] = append(m.timed[sender], time.Now())
			}
			m.mu.Unlock()
		case (word == "JOIN" || word == "LEAVE") && strings.HasPrefix(rest, m.room+" "):
			user := strings.TrimPrefix(rest, m.room+" ")
			m.mu.Lock()
			w := m.watched[user]
			if word == "JOIN" {
				if m.present[user] {
					m.errs = append(m.errs, fmt.Sprintf("%s: %q while %s is in the room", m.name, line, user))
				}
				m.present[user] = true
				m.joins++
				if w != nil {
					w.joins++
				}
			} else {
				if !m.present[user] {
					m.errs = append(m.errs, fmt.Sprintf("%s: %q while %s is not in the room", m.name, line, user))
				}
				delete(m.present, user)
				m.leaves++
				if w != nil {
					w.leaves++
					w.leftAt = time.Now()
				}
			}
			close(m.changed)
			m.changed = make(chan struct{})
			m.mu.Unlock()
		case word == "PONG":
			select {
			case m.pongs <- rest:
			default:
				m.fail("too many PONGs unread")
			}
		default:
			m.other(line)
		}
	}
}

func (m *member) other(line string) {
	select {
	case m.others <- line:
	default:
		m.fail("too many unexpected lines, such as %q", line)
	}
}

// ping sends PING token; pong waits for its PONG.
func (m *member) ping(token string) { m.c.send("PING " + token) }

func (m *member) pong(t testing.TB, token string) {
	t.Helper()
	select {
	case got := <-m.pongs:
		if got != token {
			t.Fatalf("%s: got PONG %q, want PONG %q", m.name, got, token)
		}
	case <-m.done:
		select { // as in expectOther: a PONG queued before the end counts
		case got := <-m.pongs:
			if got != token {
				t.Fatalf("%s: got PONG %q, want PONG %q", m.name, got, token)
			}
			return
		default:
		}
		t.Fatalf("%s: the connection ended while waiting for PONG %s: %v", m.name, token, m.errors())
	case <-time.After(failAfter):
		t.Fatalf("%s: no PONG %s within %v", m.name, token, failAfter)
	}
}

// expectOther waits for the next line that is not a numbered room
// message, a note or a PONG.
func (m *member) expectOther(t testing.TB, want string) {
	t.Helper()
	select {
	case got := <-m.others:
		if got != want {
			t.Fatalf("%s: got %q, want %q", m.name, got, want)
		}
	case <-m.done:
		// The reader queues every line before it ends; when both are ready,
		// select picks either, so look at the lines first.
		select {
		case got := <-m.others:
			if got != want {
				t.Fatalf("%s: got %q, want %q", m.name, got, want)
			}
			return
		default:
		}
		t.Fatalf("%s: the connection ended while waiting for %q: %v", m.name, want, m.errors())
	case <-time.After(failAfter):
		t.Fatalf("%s: no %q within %v", m.name, want, failAfter)
	}
}

func (m *member) errors() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.errs)
}

// received returns how many numbered lines of sender have arrived.
func (m *member) received(sender string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.next[sender]
}

// watch asks m to keep the notes about each of users one by one.
func (m *member) watch(users ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range users {
		m.watched[u] = &notes{}
	}
}

// notesOf returns the JOIN and LEAVE notes seen about a watched user, and
// when the last LEAVE arrived.
func (m *member) notesOf(user string) notes {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w := m.watched[user]; w != nil {
		return *w
	}
	panic("notesOf " + user + ": not watched")
}

// waitLeaves waits until m has seen n LEAVE notes about the watched user.
func (m *member) waitLeaves(t testing.TB, user string, n int) {
	t.Helper()
	m.waitNotes(t, "LEAVE", user, n, func(w *notes) int { return w.leaves })
}

// waitJoins waits until m has seen n JOIN notes about the watched user.
func (m *member) waitJoins(t testing.TB, user string, n int) {
	t.Helper()
	m.waitNotes(t, "JOIN", user, n, func(w *notes) int { return w.joins })
}

func (m *member) waitNotes(t testing.TB, word, user string, n int, count func(*notes) int) {
	t.Helper()
	deadline := time.NewTimer(failAfter)
	defer deadline.Stop()
	for {
		m.mu.Lock()
		got, ch := count(m.watched[user]), m.changed
		m.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-m.done:
			t.Fatalf("%s: the connection ended while waiting for %s %s: %v", m.name, word, user, m.errors())
		case <-deadline.C:
			t.Fatalf("%s: %d %s notes of %s within %v, want %d", m.name, got, word, user, failAfter, n)
		}
	}
}

// noteTotals returns the JOIN and LEAVE notes seen in all.
func (m *member) noteTotals() (joins, leaves int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.joins, m.leaves
}

// room is a set of well-behaved members of one room, who talk with
// numbered messages and check that everyone receives everything in order.
type room struct {
	t       testing.TB
	name    string
	members []*member
	sent    map[string]int // sender -> messages sent so far
	syncs   int
}

// newRoom connects n members called <prefix>0 ... and has them join room
// one after the other, checking the roster and notes of JOIN-4 and JOIN-5.
func newRoom(t testing.TB, ts *testServer, roomName, prefix string, n int) *room {
	t.Helper()
	r := &room{t: t, name: roomName, sent: map[string]int{}}
	var clients []*testClient
	var names []string
	for i := range n {
		name := prefix + strconv.Itoa(i)
		c := ts.dial(t, name)
		c.send("USERNAME " + name)
		c.expect("OK Welcome, " + name + "!")
		c.send("JOIN " + roomName)
		c.expect(fmt.Sprintf("OK Joined %s (%d users)", roomName, len(names)))
		for _, o := range names {
			c.expect("JOIN " + roomName + " " + o)
		}
		for _, o := range clients {
			o.expect("JOIN " + roomName + " " + name)
		}
		clients = append(clients, c)
		names = append(names, name)
	}
	for i, c := range clients {
		r.members = append(r.members, startMember(t, c, names[i], roomName, names...))
	}
	return r
}

// say has member i send n numbered messages of pad bytes of padding, in
// one write.
func (r *room) say(i, n, pad int) {
	m := r.members[i]
	m.c.write(messages(m.name, r.sent[m.name], n, pad))
	r.sent[m.name] += n
}

// sync is a barrier for every member, twice over: after it, every line any
// member sent before has been processed, and every member has received
// what it caused.
func (r *room) sync() {
	r.t.Helper()
	for range 2 {
		r.syncs++
		token := fmt.Sprintf("room-%d", r.syncs)
		for _, m := range r.members {
			m.ping(token)
		}
		for _, m := range r.members {
			m.pong(r.t, token)
		}
	}
}

// check syncs, then fails the test unless every member has received every
// numbered message of every sender in sent, and of the extra senders as
// many as given, in order, and nothing unexpected.
func (r *room) check(extra map[string]int) {
	r.t.Helper()
	r.sync()
	for _, m := range r.members {
		if errs := m.errors(); len(errs) > 0 {
			r.t.Fatalf("%s", strings.Join(errs, "\n"))
		}
		for sender, n := range r.sent {
			if got := m.received(sender); got != n {
				r.t.Errorf("%s received %d messages of %s, want %d", m.name, got, sender, n)
			}
		}
		for sender, n := range extra {
			if got := m.received(sender); got != n {
				r.t.Errorf("%s received %d messages of %s, want %d", m.name, got, sender, n)
			}
		}
		select {
		case line := <-m.others:
			r.t.Errorf("%s: unexpected %q", m.name, line)
		default:
		}
	}
}

// servedNow checks that the server serves a newcomer at once: it
// registers, joins a room of its own and leaves.
func servedNow(t testing.TB, ts *testServer, name string) {
	t.Helper()
	c := ts.dial(t, name)
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
	c.send("JOIN #" + name)
	c.expect("OK Joined #" + name + " (0 users)")
	c.send("QUIT")
	c.expect("OK Goodbye!")
	c.expectClosed()
}

// startLogged starts a server with cfg whose log the test can watch.
func startLogged(t testing.TB, cfg impl.Config) (*testServer, *logWatch) {
	w := newLogWatch()
	cfg.Logger = w.logger()
	return startServer(t, cfg), w
}
