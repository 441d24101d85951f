package impl_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestRobustLogsHaveNoControlBytes: whatever clients send, the server's
// log, in text or JSON and at the debug level (where every line received
// is logged), never holds a raw control byte, an invalid UTF-8 sequence,
// a line separator or a bidirectional formatting character that came from
// a client: peer bytes are quoted (STYLE.md), so a log viewer cannot be
// driven by a client. cmd/chatd logs through the same slog handlers.
func TestRobustLogsHaveNoControlBytes(t *testing.T) {
	t.Parallel() // it measures nothing
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var log logBuffer
			opts := &slog.HandlerOptions{Level: slog.LevelDebug}
			var h slog.Handler = slog.NewTextHandler(&log, opts)
			if format == "json" {
				h = slog.NewJSONHandler(&log, opts)
			}
			ts := startServer(t, impl.Config{Logger: slog.New(h)})
			hostile := []string{
				"\x00", "\x07", "\x08", "\t", "\x0b", "\x0c", "\r", "\x1b", "\x1b[2J\x1b[H", "\x1b]0;owned\x07",
				"\x7f", "\u0085", "\u009b", "\u2028", "\u2029", "\u202e", "\u2066", "\u200f", "\u061c",
				"\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82",
			}
			a := ts.dial(t, "a")
			a.send("USERNAME a")
			a.expect("OK Welcome, a!")
			a.send("JOIN #logs")
			a.expect("OK Joined #logs (0 users)")
			for _, h := range hostile {
				for _, line := range []string{
					h, "MSG x" + h + "y", "USERNAME b" + h, "JOIN #r" + h, "PRIVMSG a" + h + " x",
					"PRIVMSG a x" + h, "PING " + h, h + "QUIT", "text " + h,
					// Overlong, with the hostile bytes in the part that
					// arrives first.
					"MSG " + h + strings.Repeat("z", spec.MaxLineLen),
				} {
					a.write([]byte(line + "\r\n"))
				}
			}
			a.send("PING done")
			for {
				line, err := a.readLine()
				if err != nil {
					t.Fatal(err)
				}
				if line == "PONG done" {
					break
				}
				if !strings.HasPrefix(line, "ERROR ") {
					t.Fatalf("a hostile line was answered %q", line)
				}
			}
			// Disconnects of every kind, some with hostile partial lines.
			for i, h := range hostile {
				c := ts.dial(t, "c")
				c.write([]byte("USERNAME c\r\nJOIN #logs\r\nMSG " + h))
				c.expect("OK Welcome, c!", "OK Joined #logs (1 users)", "JOIN #logs a")
				a.expect("JOIN #logs c")
				if i%2 == 1 {
					c.reset()
				} else {
					c.conn.Close()
				}
				a.expect("LEAVE #logs c")
			}
			a.send("QUIT")
			a.expect("OK Goodbye!")
			a.expectClosed()
			if err := ts.shutdown(); err != nil {
				t.Fatal(err)
			}

			out := log.String()
			if !strings.Contains(out, `\x1b[2J`) && !strings.Contains(out, `\u001b[2J`) {
				t.Errorf("the log lacks the quoted escape sequence:\n%s", out)
			}
			if !utf8.ValidString(out) {
				t.Errorf("the log is not valid UTF-8")
			}
			for i, line := range bytes.Split([]byte(out), []byte("\n")) {
				for _, r := range string(line) {
					if r == utf8.RuneError || spec.IsForbidden(r) || !unicode.IsPrint(r) {
						t.Fatalf("log line %d holds %U: %q", i+1, r, line)
					}
				}
			}
			t.Logf("%d bytes of %s log, every character printable", len(out), format)
		})
	}
}
