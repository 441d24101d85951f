package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

// TestTwoLinksSameLog publishes from two nodes at once: both see the same
// log, gap-free from 1, with each node's entries in its TryPublish order.
func TestTwoLinksSameLog(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	b := link(t, e, "b", hooks{}, nil)
	const n = 300
	var wg sync.WaitGroup
	full := make(chan string, 2)
	for _, l := range []*Link{a, b} {
		wg.Go(func() {
			for i := range n {
				if !l.TryPublish(fmt.Appendf(nil, "%s %04d", l.Node(), i)) {
					full <- l.Node()
					return
				}
			}
		})
	}
	wg.Wait()
	close(full)
	for node := range full {
		t.Fatalf("%s: queue full", node)
	}
	got := collect(t, a, 2*n)
	if other := collect(t, b, 2*n); !slices.EqualFunc(got, other, equalEntry) {
		t.Fatal("a and b see different logs")
	}
	checkSeqs(t, got, 1)
	next := map[string]int{}
	switches := 0
	for i, e := range got {
		if want := fmt.Sprintf("%s %04d", e.Node, next[e.Node]); string(e.Data) != want {
			t.Fatalf("entry %d: %s %q, want %q", e.Seq, e.Node, e.Data, want)
		}
		next[e.Node]++
		if i > 0 && got[i-1].Node != e.Node {
			switches++
		}
	}
	t.Logf("%d entries, the node changes %d times", len(got), switches)
	select {
	case e := <-a.Entries():
		t.Fatalf("extra entry %d", e.Seq)
	default:
	}
}

func equalEntry(x, y Entry) bool {
	return x.Seq == y.Seq && x.Node == y.Node && string(x.Data) == string(y.Data)
}

// TestLateDialReplays dials a node after entries were stored: it gets them
// all from seq 1, then new ones like everyone.
func TestLateDialReplays(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	for i := range 50 {
		publish(t, a, fmt.Sprint(i))
	}
	early := collect(t, a, 50)
	c := link(t, e, "c", hooks{}, nil)
	if late := collect(t, c, 50); !slices.EqualFunc(early, late, equalEntry) {
		t.Fatal("the late node replays another log")
	}
	publish(t, c, "from c")
	for _, l := range []*Link{a, c} {
		if got := collect(t, l, 1)[0]; got.Seq != 51 || got.Node != "c" || string(got.Data) != "from c" {
			t.Fatalf("%s: got %+v", l.Node(), got)
		}
	}
}

// TestRestartNATS restarts the server under two nodes, with entries
// published while it is down: each is stored once, and both nodes go on
// without gaps or repeats.
func TestRestartNATS(t *testing.T) {
	e := startServer(t, "")
	resumed := make(chan uint64, 16)
	a := link(t, e, "a", hooks{consumer: func(_ int, next uint64) { resumed <- next }}, nil)
	b := link(t, e, "b", hooks{}, nil)
	if next := receive(t, "consumer", resumed); next != 1 {
		t.Fatalf("a's first consumer starts at %d", next)
	}
	for i := range 5 {
		publish(t, a, fmt.Sprint("a before ", i))
		publish(t, b, fmt.Sprint("b before ", i))
	}
	logA, logB := collect(t, a, 10), collect(t, b, 10)

	e.Stop()
	publish(t, a, "a during")
	waitUp(t, a, false)
	waitUp(t, b, false)
	publish(t, b, "b during")
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	waitUp(t, a, true)
	waitUp(t, b, true)
	if next := receive(t, "consumer", resumed); next != 11 {
		t.Fatalf("a's consumer after the restart starts at %d, want 11", next)
	}
	logA, logB = append(logA, collect(t, a, 2)...), append(logB, collect(t, b, 2)...)
	for i := range 5 {
		publish(t, a, fmt.Sprint("a after ", i))
		publish(t, b, fmt.Sprint("b after ", i))
	}
	logA, logB = append(logA, collect(t, a, 10)...), append(logB, collect(t, b, 10)...)

	if !slices.EqualFunc(logA, logB, equalEntry) {
		t.Fatal("a and b see different logs")
	}
	checkSeqs(t, logA, 1)
	count := map[string]int{}
	for _, e := range logA {
		count[string(e.Data)]++
	}
	for data, n := range count {
		if n != 1 {
			t.Errorf("%q stored %d times", data, n)
		}
	}
	if len(count) != 22 {
		t.Errorf("%d distinct entries, want 22", len(count))
	}
	if msgs := streamMsgs(t, a); msgs != 22 {
		t.Errorf("the stream holds %d messages, want 22", msgs)
	}
}

// streamMsgs returns how many messages l's stream holds.
func streamMsgs(t *testing.T, l *Link) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	info, err := l.stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// TestRetryAfterLostAck loses the ack of a stored entry: the retry finds it
// stored and does not store it again, and the order holds.
func TestRetryAfterLostAck(t *testing.T) {
	e := startServer(t, "")
	var once sync.Once
	recovered := make(chan uint64, 1)
	h := hooks{
		dropAck: func(n uint64) bool {
			drop := false
			if n == 2 {
				once.Do(func() { drop = true })
			}
			return drop
		},
		recovered: func(n uint64) { recovered <- n },
	}
	a := link(t, e, "a", h, func(c *Config) { c.Duplicates = 100 * time.Millisecond })
	for i := range 3 {
		publish(t, a, fmt.Sprint(i))
	}
	got := collect(t, a, 3)
	checkSeqs(t, got, 1)
	for i, e := range got {
		if string(e.Data) != fmt.Sprint(i) {
			t.Fatalf("entry %d is %q", e.Seq, e.Data)
		}
	}
	if n := receive(t, "recovery", recovered); n != 2 {
		t.Fatalf("entry %d recovered, want 2", n)
	}
	if msgs := streamMsgs(t, a); msgs != 3 {
		t.Fatalf("the stream holds %d messages, want 3", msgs)
	}
}

// TestQueueFullWhileDown fills the queue while NATS is down: TryPublish
// refuses past the bound, and what it accepted is stored once NATS is back.
func TestQueueFullWhileDown(t *testing.T) {
	e := startServer(t, "")
	const queueLen = 4
	a := link(t, e, "a", hooks{}, func(c *Config) { c.QueueLen = queueLen })
	e.Stop()
	waitUp(t, a, false)
	accepted := 0
	for a.TryPublish(fmt.Append(nil, accepted)) {
		accepted++
		if accepted > queueLen+1 {
			t.Fatalf("TryPublish accepted %d entries with QueueLen %d", accepted, queueLen)
		}
	}
	if accepted < queueLen {
		t.Fatalf("TryPublish accepted %d entries with QueueLen %d", accepted, queueLen)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	got := collect(t, a, accepted)
	checkSeqs(t, got, 1)
	for i, e := range got {
		if string(e.Data) != fmt.Sprint(i) {
			t.Fatalf("entry %d is %q", e.Seq, e.Data)
		}
	}
}

// TestStreamLost restarts NATS with an empty store: the node reports
// ErrStreamLost and closes Entries.
func TestStreamLost(t *testing.T) {
	dir := t.TempDir()
	e := startServer(t, dir)
	a := link(t, e, "a", hooks{}, nil)
	publish(t, a, "x")
	collect(t, a, 1)
	e.Stop()
	if err := removeContents(dir); err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, "error", a.Errors()); !errors.Is(err, ErrStreamLost) {
		t.Fatalf("error %v, want ErrStreamLost", err)
	}
	noEntry(t, a)
}

// TestStreamReplaced deletes the stream under a node and lets another node
// create a new one of the same name: the first reports ErrStreamLost.
func TestStreamReplaced(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	publish(t, a, "x")
	collect(t, a, 1)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := a.js.DeleteStream(ctx, a.names.stream); err != nil {
		t.Fatal(err)
	}
	b := link(t, e, "b", hooks{}, nil)
	publish(t, b, "y")
	if got := collect(t, b, 1)[0]; got.Seq != 1 {
		t.Fatalf("b: first entry of the new stream has Seq %d", got.Seq)
	}
	if err := receive(t, "error", a.Errors()); !errors.Is(err, ErrStreamLost) {
		t.Fatalf("error %v, want ErrStreamLost", err)
	}
	noEntry(t, a)
}

// noEntry closes l and fails if it had an entry to deliver after its
// consumer stopped.
func noEntry(t *testing.T, l *Link) {
	t.Helper()
	l.Close()
	select {
	case e := <-l.Entries():
		t.Fatalf("entry %d after the stream was lost", e.Seq)
	default:
	}
}

// TestDialClosedPort dials a port where nothing listens: Dial fails at
// once with an error that says what it tried.
func TestDialClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "nats://" + ln.Addr().String()
	ln.Close()
	start := time.Now()
	l, err := Dial(Config{URL: url, Node: "a"})
	if err == nil {
		l.Close()
		t.Fatal("Dial succeeded")
	}
	if !errors.Is(err, nats.ErrNoServers) || !strings.Contains(err.Error(), "connect to NATS at "+url) {
		t.Fatalf("error %q", err)
	}
	if d := time.Since(start); d > wait {
		t.Fatalf("Dial took %v", d)
	}
	t.Log(err)
}

// TestDialBindsExisting dials twice with the same stream (bound), then with
// the same stream name and other subjects (refused).
func TestDialBindsExisting(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	b := link(t, e, "b", hooks{}, func(c *Config) { c.Duplicates = time.Minute })
	if !a.created.Equal(b.created) {
		t.Fatal("b made another stream")
	}
	_, err := Dial(Config{URL: e.URL(), Node: "c", Subject: "other"})
	if err == nil || !strings.Contains(err.Error(), "exists with subjects") {
		t.Fatalf("Dial with other subjects: %v", err)
	}
}

// TestClose closes a link twice; then TryPublish refuses.
func TestClose(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if a.TryPublish([]byte("x")) {
		t.Fatal("TryPublish after Close")
	}
}

// TestTryPublishTooLong refuses data longer than MaxData.
func TestTryPublishTooLong(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	if a.MaxData() < 1<<19 {
		t.Fatalf("MaxData %d", a.MaxData())
	}
	if a.TryPublish(make([]byte, a.MaxData()+1)) {
		t.Fatal("TryPublish took data longer than MaxData")
	}
	publish(t, a, string(make([]byte, a.MaxData())))
	if got := collect(t, a, 1)[0]; len(got.Data) != a.MaxData() {
		t.Fatalf("entry of %d bytes", len(got.Data))
	}
}

func TestConfigInvalid(t *testing.T) {
	for _, c := range []Config{
		{Node: "a"},
		{URL: "nats://127.0.0.1:1", Node: ""},
		{URL: "nats://127.0.0.1:1", Node: "a.b"},
		{URL: "nats://127.0.0.1:1", Node: "a b"},
		{URL: "nats://127.0.0.1:1", Node: strings.Repeat("a", MaxNodeLen+1)},
		{URL: "nats://127.0.0.1:1", Node: "a", Stream: "A.B"},
		{URL: "nats://127.0.0.1:1", Node: "a", Subject: "a.*"},
		{URL: "nats://127.0.0.1:1", Node: "a", Subject: "a..b"},
		{URL: "nats://127.0.0.1:1", Node: "a", Heartbeat: time.Second, DeadAfter: time.Second},
		{URL: "nats://127.0.0.1:1", Node: "a", Duplicates: time.Millisecond},
	} {
		if _, err := c.withDefaults(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := (Config{URL: "nats://127.0.0.1:1", Node: NewNode()}).withDefaults(); err != nil {
		t.Errorf("NewNode: %v", err)
	}
}

// TestCloseLeavesNothing closes links, one while NATS is up and one while
// it is down with an entry being retried: Close returns at once, and no
// goroutine of the links (or of the server) is left.
func TestCloseLeavesNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	e, err := StartEmbedded(EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Shutdown()
	a, err := Dial(Config{URL: e.URL(), Node: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Dial(Config{URL: e.URL(), Node: "b"})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, a, "x")
	collect(t, b, 1)
	a.Close()
	e.Stop()
	waitUp(t, b, false)
	publish(t, b, "y")
	start := time.Now()
	b.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v while NATS was down", d)
	}
}

// TestNodeIDReused dials the same node ID twice in a row (which callers
// should not do): the second Link's entries are not taken for duplicates
// of the first's.
func TestNodeIDReused(t *testing.T) {
	e := startServer(t, "")
	first := link(t, e, "a", hooks{}, nil)
	publish(t, first, "first")
	collect(t, first, 1)
	first.Close()
	again := link(t, e, "a", hooks{}, nil)
	publish(t, again, "again")
	got := collect(t, again, 2)
	if string(got[0].Data) != "first" || string(got[1].Data) != "again" {
		t.Fatalf("log %q, %q", got[0].Data, got[1].Data)
	}
}

// TestRestartNATSUnderLoad restarts the server while two nodes publish as
// fast as they can, so that publishes and pulls are in flight when it
// stops: every entry is stored once, in its node's order, and both nodes
// see the same gap-free log.
func TestRestartNATSUnderLoad(t *testing.T) {
	e := startServer(t, "")
	const n = 2000
	big := func(c *Config) { c.QueueLen = n }
	a := link(t, e, "a", hooks{}, big)
	b := link(t, e, "b", hooks{}, big)
	for i := range n {
		publish(t, a, fmt.Sprint(i))
		publish(t, b, fmt.Sprint(i))
	}
	logA := collect(t, a, n/4)
	e.Stop()
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	logA = append(logA, collect(t, a, 2*n-len(logA))...)
	logB := collect(t, b, 2*n)
	if !slices.EqualFunc(logA, logB, equalEntry) {
		t.Fatal("a and b see different logs")
	}
	checkSeqs(t, logA, 1)
	next := map[string]int{}
	for _, e := range logA {
		if want := fmt.Sprint(next[e.Node]); string(e.Data) != want {
			t.Fatalf("entry %d: %s %q, want %q", e.Seq, e.Node, e.Data, want)
		}
		next[e.Node]++
	}
	if msgs := streamMsgs(t, a); msgs != 2*n {
		t.Fatalf("the stream holds %d messages, want %d", msgs, 2*n)
	}
}
