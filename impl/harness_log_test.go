package impl_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// testLogger returns a logger that writes to w, as text, every record of
// the debug level and up except the one per line received ("line"), which
// floods would make heavy: the tests read the per-connection records,
// which the server logs at the debug level (log.go).
func testLogger(w io.Writer) *slog.Logger {
	return slog.New(noLineRecords{slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})})
}

// noLineRecords is a handler that drops the "line" records.
type noLineRecords struct{ slog.Handler }

func (h noLineRecords) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "line" {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h noLineRecords) WithAttrs(as []slog.Attr) slog.Handler {
	return noLineRecords{h.Handler.WithAttrs(as)}
}

func (h noLineRecords) WithGroup(name string) slog.Handler {
	return noLineRecords{h.Handler.WithGroup(name)}
}

// logBuffer collects a server's log, all of it, for a test to inspect.
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

// logger returns a logger into b (testLogger).
func (b *logBuffer) logger() *slog.Logger { return testLogger(b) }

// logged reports whether a line of log holds every one of parts.
func logged(log string, parts ...string) bool {
	for line := range strings.Lines(log) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

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

// logger returns a logger into w (testLogger).
func (w *logWatch) logger() *slog.Logger { return testLogger(w) }

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

// startLogged starts a server with cfg whose log the test can watch; each
// setup function is applied to it before it serves.
func startLogged(t testing.TB, cfg impl.Config, setup ...func(*impl.Server)) (*testServer, *logWatch) {
	w := newLogWatch()
	cfg.Logger = w.logger()
	return startServer(t, cfg, setup...), w
}
