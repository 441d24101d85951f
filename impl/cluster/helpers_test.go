package cluster

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// wait is the failure bound of every wait in these tests: generous, since
// they synchronise on events and a passing test never waits for it.
const wait = 15 * time.Second

// testLogger discards the log unless CLUSTER_TEST_LOG is set, in which case
// it goes to standard error (not t.Log: NATS may log after a test ends).
func testLogger() *slog.Logger {
	var w io.Writer = io.Discard
	if os.Getenv("CLUSTER_TEST_LOG") != "" {
		w = os.Stderr
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startServer starts an embedded NATS server with its store in dir (a new
// temporary directory if empty), shut down when the test ends.
func startServer(t testing.TB, dir string) *Embedded {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	e, err := StartEmbedded(EmbeddedConfig{StoreDir: dir, Logger: serverLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

func serverLogger() *slog.Logger {
	if os.Getenv("CLUSTER_TEST_LOG") == "" {
		return nil
	}
	return testLogger().With(slog.String("server", "nats"))
}

// link dials node on e with test timings, changed by edit if not nil, and
// closes it when the test ends.
func link(t testing.TB, e *Embedded, node string, h hooks, edit func(*Config)) *Link {
	t.Helper()
	cfg := Config{
		URL:       e.URL(),
		Node:      node,
		Heartbeat: 50 * time.Millisecond,
		DeadAfter: 400 * time.Millisecond,
		Logger:    testLogger(),
	}
	if edit != nil {
		edit(&cfg)
	}
	l, err := dial(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// publish queues data on l, failing the test if the queue is full.
func publish(t testing.TB, l *Link, data string) {
	t.Helper()
	if !l.TryPublish([]byte(data)) {
		t.Fatalf("%s: TryPublish(%q): queue full", l.Node(), data)
	}
}

// collect receives n entries from l.
func collect(t testing.TB, l *Link, n int) []Entry {
	t.Helper()
	out := make([]Entry, 0, n)
	timeout := time.After(wait)
	for len(out) < n {
		select {
		case e := <-l.Entries():
			out = append(out, e)
		case err := <-l.Errors():
			t.Fatalf("%s: error after %d of %d entries: %v", l.Node(), len(out), n, err)
		case <-timeout:
			t.Fatalf("%s: %d of %d entries after %v", l.Node(), len(out), n, wait)
		}
	}
	return out
}

// receive waits for one value from ch.
func receive[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s after %v", what, wait)
	}
	panic("unreachable")
}

// waitUp waits until l reports the connection state up.
func waitUp(t testing.TB, l *Link, up bool) {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case v := <-l.Up():
			if v == up {
				return
			}
		case <-timeout:
			t.Fatalf("%s: Up never reported %v", l.Node(), up)
		}
	}
}

// checkSeqs fails unless entries have the sequences first, first+1, ...
func checkSeqs(t testing.TB, entries []Entry, first uint64) {
	t.Helper()
	for i, e := range entries {
		if want := first + uint64(i); e.Seq != want {
			t.Fatalf("entry %d has Seq %d, want %d", i, e.Seq, want)
		}
	}
}

// removeContents removes everything inside dir.
func removeContents(dir string) error {
	names, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.RemoveAll(filepath.Join(dir, n.Name())); err != nil {
			return err
		}
	}
	return nil
}
