package impl_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestLogCounts: at the info level the server logs no record per
// connection, but every LogInterval, if anything happened, the counts of
// the connections accepted, refused and closed by reason (log.go); a slow
// consumer's disconnect is logged at the info level too, one record each.
// The clock is the test's: a jump of LogInterval fires the record, so
// nothing here waits for time to pass.
func TestLogCounts(t *testing.T) {
	t.Parallel()
	const interval = time.Hour
	var clock impl.JumpClock
	ts, log := startLogged(t, impl.Config{MaxClients: 2, LogInterval: interval, IdleTimeout: 100 * interval, MaxQueueBytes: spec.MinQueueBytes},
		func(s *impl.Server) { s.UseClockForTest(&clock) })

	// a and b fill the server; c is refused; b quits; d takes the slot;
	// a's connection ends: 3 connects, 1 refused, 1 quit, 1 disconnected.
	a := ts.dial(t, "a")
	a.join("a", "#log")
	b := ts.dial(t, "b")
	b.send("USERNAME b")
	b.expect("OK Welcome, b!")
	c := ts.dial(t, "c")
	c.expect("ERROR Server full")
	c.expectClosed()
	b.send("QUIT")
	b.expect("OK Goodbye!")
	d := ts.dial(t, "d")
	enterRoom(d, "d", "#log", []*testClient{a}, []string{"a"})
	a.conn.Close()
	d.expect("LEAVE #log a")

	clock.Jump(interval)
	log.waitCount(t, "msg=connections", 1)
	first := recordOf(t, log.String(), "msg=connections")
	for _, want := range []string{"connects=3 ", "disconnects=2 ", "quit=1 ", "disconnected=1 ", "refused=1 ", "clients=1"} {
		if !strings.Contains(first, want) {
			t.Errorf("the counts lack %q: %s", want, first)
		}
	}

	// Counting starts again: the next record has only what came after.
	e := ts.dial(t, "e")
	e.send("QUIT")
	e.expect("OK Goodbye!")
	e.expectClosed()
	clock.Jump(interval)
	log.waitCount(t, "msg=connections", 2)
	second := recordOf(t, log.String()[strings.Index(log.String(), first)+len(first):], "msg=connections")
	for _, want := range []string{"connects=1 ", "disconnects=1 ", "quit=1 ", "refused=0 "} {
		if !strings.Contains(second, want) {
			t.Errorf("the second counts lack %q: %s", want, second)
		}
	}
	if strings.Contains(second, "disconnected=") {
		t.Errorf("the second counts hold a reason with no disconnect: %s", second)
	}

	// At shutdown the last period is logged at once.
	if err := ts.shutdown(); err != nil {
		t.Fatal(err)
	}
	last := log.String()
	if n := strings.Count(last, "msg=connections"); n != 3 {
		t.Fatalf("%d connections records, want 3 (the shutdown's last):\n%s", n, last)
	}
	if final := last[strings.LastIndex(last, "msg=connections"):]; !strings.Contains(final, "shutdown=1 ") || !strings.Contains(final, "clients=0") {
		t.Errorf("the last counts lack d's shutdown: %s", final)
	}

	// None of it was logged per connection at the info level.
	for line := range strings.Lines(last) {
		if strings.Contains(line, "level=INFO") && (strings.Contains(line, "msg=connect ") || strings.Contains(line, "msg=disconnect ") || strings.Contains(line, "msg=refused ")) {
			t.Errorf("a connection logged at the info level: %s", line)
		}
	}
}

// recordOf returns the first line of log that holds msg.
func recordOf(t *testing.T, log, msg string) string {
	t.Helper()
	for line := range strings.Lines(log) {
		if strings.Contains(line, msg) {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("no %s record in:\n%s", msg, log)
	return ""
}

// TestLogSlowConsumerAtInfo: the disconnect of a slow consumer is an info
// record of its own, with its reason, while the others' are debug records.
func TestLogSlowConsumerAtInfo(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{MaxQueueBytes: spec.MinQueueBytes, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	a := ts.dial(t, "a")
	a.join("a", "#slow")
	slow := ts.dialRcvBuf(t, "slow", 4<<10)
	enterRoom(slow, "slow", "#slow", []*testClient{a}, []string{"a"})
	text := strings.Repeat("x", 400)
	for {
		a.send("MSG " + text)
		line, err := a.readLine()
		if err != nil {
			t.Fatal(err)
		}
		if line == "LEAVE #slow slow" {
			break
		}
	}
	a.send("QUIT")
	a.readUntil("OK Goodbye!")
	if err := ts.shutdown(); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if !logged(out, "level=INFO", "msg=disconnect", "user=slow", "reason=slow-consumer") {
		t.Errorf("the slow consumer's disconnect is not an info record:\n%s", out)
	}
	if logged(out, "msg=disconnect", "user=a") || logged(out, "msg=connect ") {
		t.Errorf("a record per connection at the info level:\n%s", out)
	}
	if !logged(out, "msg=connections", "connects=2 ", "slow-consumer=1 ", "quit=1 ") {
		t.Errorf("the counts lack the connections:\n%s", out)
	}
}

// TestLogLineJSON: in JSON too, a line received is quoted once: its
// "line" field is the line itself, with an invalid byte as U+FFFD, and
// with no unprintable character left as it is.
func TestLogLineJSON(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{Logger: slog.New(slog.NewJSONHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	a := ts.dial(t, "a")
	hostile := "esc \x1b[2J \"quoted\" back\\slash rtl \u202e bell \x07 tag \U000E0001 bad \xff"
	a.write([]byte(hostile + "\r\n"))
	a.expect("ERROR " + spec.ErrInvalidUTF8)
	a.send("PING done")
	a.expect("PONG done")
	if err := ts.shutdown(); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(hostile, "\xff", "\ufffd")
	var lines []string
	for line := range strings.Lines(log.String()) {
		var rec struct{ Msg, Line string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %v: %s", err, line)
		}
		if rec.Msg == "line" {
			lines = append(lines, rec.Line)
			for _, r := range strings.TrimSpace(line) {
				if r < 0x20 || r == 0x7f || r == '\u202e' || r == '\U000E0001' {
					t.Errorf("the record holds %U as it is: %s", r, line)
				}
			}
		}
	}
	if len(lines) != 2 || lines[0] != want || lines[1] != "PING done" {
		t.Errorf("the lines logged are %q, want %q and %q", lines, want, "PING done")
	}
}
