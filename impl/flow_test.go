package impl_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// logBuffer collects a server's log for a test to inspect.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// enterRoom registers c as name and joins room, whose members so far are
// others (in join order): c receives the roster, the others the JOIN note.
func enterRoom(c *testClient, name, room string, others []*testClient, otherNames []string) {
	c.t.Helper()
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
	c.send("JOIN " + room)
	c.expect(fmt.Sprintf("OK Joined %s (%d users)", room, len(otherNames)))
	for _, o := range otherNames {
		c.expect("JOIN " + room + " " + o)
	}
	for _, o := range others {
		if o != nil {
			o.expect("JOIN " + room + " " + name)
		}
	}
}

// roomReader reads a client's lines in its own goroutine, checking that the
// ROOM lines of each sender come complete and in order. Other lines go to
// the lines channel.
type roomReader struct {
	c     *testClient
	lines chan string
	quit  chan struct{}
	mu    sync.Mutex
	next  map[string]int // sender -> next index expected
	errs  []string
}

func newRoomReader(t *testing.T, c *testClient, room string) *roomReader {
	rr := &roomReader{c: c, lines: make(chan string, 16), quit: make(chan struct{}), next: map[string]int{}}
	t.Cleanup(func() {
		close(rr.quit)
		c.conn.Close()
		for range rr.lines { // the others' LEAVE as the test's clients close
		}
	})
	prefix := "ROOM " + room + " "
	go func() {
		defer close(rr.lines)
		for {
			line, err := c.readLine()
			if err != nil {
				rr.fail("%s: read: %v", c.label, err)
				return
			}
			rest, ok := strings.CutPrefix(line, prefix)
			if !ok {
				select {
				case rr.lines <- line:
				case <-rr.quit:
					return
				}
				continue
			}
			// "<sender> <sender>-<index> <padding>"
			sender, text, _ := strings.Cut(rest, " ")
			idx, _, _ := strings.Cut(strings.TrimPrefix(text, sender+"-"), " ")
			i, err := strconv.Atoi(idx)
			rr.mu.Lock()
			if err != nil || i != rr.next[sender] {
				rr.errs = append(rr.errs, fmt.Sprintf("%s: got %q, want index %d from %s", c.label, line, rr.next[sender], sender))
			}
			rr.next[sender] = i + 1
			rr.mu.Unlock()
		}
	}()
	return rr
}

// check fails the test if the ROOM lines were out of order or if any other
// line is unread.
func (rr *roomReader) check(t *testing.T) {
	t.Helper()
	if errs := rr.errors(); len(errs) > 0 {
		t.Fatalf("%s", strings.Join(errs, "\n"))
	}
	select {
	case line := <-rr.lines:
		t.Fatalf("%s: unexpected %q", rr.c.label, line)
	default:
	}
}

func (rr *roomReader) fail(format string, args ...any) {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	rr.errs = append(rr.errs, fmt.Sprintf(format, args...))
}

// expect waits for the next non-ROOM line.
func (rr *roomReader) expect(t *testing.T, want string) {
	t.Helper()
	if got := rr.nextLine(t, want); got != want {
		t.Fatalf("%s: got %q, want %q", rr.c.label, got, want)
	}
}

// nextLine returns the next non-ROOM line; want says what the test waits for.
func (rr *roomReader) nextLine(t *testing.T, want string) string {
	t.Helper()
	select {
	case got, ok := <-rr.lines:
		if !ok {
			t.Fatalf("%s: closed, want %q; %v", rr.c.label, want, rr.errors())
		}
		return got
	case <-time.After(failAfter):
		t.Fatalf("%s: timed out waiting for %q", rr.c.label, want)
	}
	return ""
}

// sync is a PING barrier for a client whose lines rr reads.
func (rr *roomReader) sync(t *testing.T) {
	t.Helper()
	rr.c.pings++
	token := fmt.Sprintf("sync-%d", rr.c.pings)
	rr.c.send("PING " + token)
	rr.expect(t, "PONG "+token)
}

// counts returns how many ROOM lines came from each sender.
func (rr *roomReader) counts() map[string]int {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	m := make(map[string]int, len(rr.next))
	for k, v := range rr.next {
		m[k] = v
	}
	return m
}

func (rr *roomReader) errors() []string {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return append([]string(nil), rr.errs...)
}

// barrier makes every client ping and waits for each PONG: once all have
// come back, every line sent before has been processed and queued.
func barrier(t *testing.T, clients []*testClient, readers []*roomReader, token string) {
	t.Helper()
	for _, c := range clients {
		c.send("PING " + token)
	}
	for _, rr := range readers {
		rr.expect(t, "PONG "+token)
	}
}

// messages returns n room messages of sender, numbered from first, as one
// buffer to write.
func messages(sender string, first, n, pad int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "MSG %s-%d %s\r\n", sender, i, strings.Repeat("p", pad))
	}
	return b
}

// TestSlowConsumer: a member that never reads, in a room where others
// chat, is disconnected as a slow consumer without a further line, with a
// reset (LIMIT-4, LIMIT-8), its room hears LEAVE, and the others — who read
// — are not disconnected and receive every line, in order (LIMIT-10,
// ORDER-2). The others talk in rounds, each smaller than the queue, with a
// barrier after each: what the readers have not yet read stays within
// their queues.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{
		MaxQueueBytes: 64 << 10,
		WriteTimeout:  300 * time.Millisecond,
		Logger:        log.logger(),
	})
	const room = "#busy"
	slow := ts.dial(t, "slow")
	slow.join("slow", room)

	const n = 3
	var (
		clients []*testClient
		names   = []string{"slow"}
		readers []*roomReader
	)
	for i := range n {
		c := ts.dial(t, fmt.Sprintf("s%d", i))
		enterRoom(c, c.label, room, clients, names)
		clients = append(clients, c)
		names = append(names, c.label)
	}
	for _, c := range clients {
		readers = append(readers, newRoomReader(t, c, room))
	}

	// Rounds of 20 lines from each sender, until slow's LEAVE has reached
	// every reader.
	sent := make([]int, n)
	left := make([]bool, n)
	start := time.Now()
	for round := 0; slices.Contains(left, false); round++ {
		if time.Since(start) > failAfter {
			t.Fatalf("slow not dropped after %d rounds in %v", round, time.Since(start))
		}
		for i, c := range clients {
			c.write(messages(c.label, sent[i], 20, 400))
			sent[i] += 20
		}
		token := fmt.Sprintf("round-%d", round)
		for _, c := range clients {
			c.send("PING " + token)
		}
		for j, rr := range readers {
			got := rr.nextLine(t, "PONG "+token)
			if got == "LEAVE "+room+" slow" && !left[j] {
				left[j] = true
				got = rr.nextLine(t, "PONG "+token)
			}
			if got != "PONG "+token {
				t.Fatalf("%s: got %q, want %q", rr.c.label, got, "PONG "+token)
			}
		}
	}
	barrier(t, clients, readers, "end")
	for _, rr := range readers {
		rr.check(t)
		got := rr.counts()
		for i, c := range clients {
			if got[c.label] != sent[i] {
				t.Errorf("%s received %d lines of %s, want %d", rr.c.label, got[c.label], c.label, sent[i])
			}
		}
	}
	t.Logf("slow was dropped after %v; the senders sent %v lines", time.Since(start), sent)

	// slow got ROOM and JOIN lines only, then the reset.
	for {
		line, err := slow.readLine()
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("slow: want the connection reset (LIMIT-8), got %v", err)
			}
			break
		}
		if !strings.HasPrefix(line, "ROOM "+room+" ") && !strings.HasPrefix(line, "JOIN "+room+" ") {
			t.Fatalf("slow got %q", line)
		}
	}
	if l := log.String(); !strings.Contains(l, "user=slow reason=slow-consumer") {
		t.Errorf("log does not show slow's close as slow-consumer:\n%s", l)
	}
	if l := log.String(); strings.Count(l, "msg=disconnect") != 1 {
		t.Errorf("want exactly one disconnect:\n%s", l)
	}
}

// TestBurst: many clients send many lines at once into one room while all
// of them read: about 0.5 MB to each, less than the queue. Nothing is lost
// and nobody is disconnected (LIMIT-10).
func TestBurst(t *testing.T) {
	t.Parallel()
	const (
		n     = 20
		lines = 200
		room  = "#burst"
	)
	var log logBuffer
	ts := startServer(t, impl.Config{Logger: log.logger()})
	var (
		clients []*testClient
		names   []string
		readers []*roomReader
	)
	for i := range n {
		c := ts.dial(t, fmt.Sprintf("c%d", i))
		enterRoom(c, c.label, room, clients, names)
		clients = append(clients, c)
		names = append(names, c.label)
	}
	for _, c := range clients {
		readers = append(readers, newRoomReader(t, c, room))
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			c.conn.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := c.conn.Write(messages(c.label, 0, lines, 100)); err != nil {
				t.Errorf("%s: %v", c.label, err)
			}
		})
	}
	wg.Wait()
	barrier(t, clients, readers, "end1")
	barrier(t, clients, readers, "end2")
	for _, rr := range readers {
		rr.check(t)
		got := rr.counts()
		for _, c := range clients {
			if got[c.label] != lines {
				t.Errorf("%s received %d lines of %s, want %d", rr.c.label, got[c.label], c.label, lines)
			}
		}
	}
	if strings.Contains(log.String(), "msg=disconnect") {
		t.Errorf("a client was disconnected:\n%s", log.String())
	}
}

// TestFairReading: a client flooding the server cannot starve another's
// lines (LIMIT-6): a PING sent while the flood is under way is answered
// long before the flood has been delivered.
func TestFairReading(t *testing.T) {
	t.Parallel()
	const flood = 20000
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	a.join("a", "#f")
	watcher := ts.dial(t, "w")
	enterRoom(watcher, "w", "#f", []*testClient{a}, []string{"a"})
	ra := newRoomReader(t, a, "#f")
	rw := newRoomReader(t, watcher, "#f")
	b := ts.dial(t, "b")

	go func() {
		a.conn.SetWriteDeadline(time.Now().Add(failAfter))
		a.conn.Write(messages("a", 0, flood, 10))
	}()
	// Wait until the flood is being delivered, then ask b's question.
	for rw.counts()["a"] == 0 {
		rw.sync(t)
	}
	b.sync()
	if got := rw.counts()["a"]; got >= flood {
		t.Errorf("b's PING was answered only after all %d flood lines", got)
	} else {
		t.Logf("b's PING was answered after %d of %d flood lines", got, flood)
	}
	// Let the flood finish before the test's clients close.
	for rw.counts()["a"] < flood {
		rw.sync(t)
	}
	ra.sync(t)
	ra.check(t)
	rw.check(t)
}
