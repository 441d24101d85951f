package impl

import (
	"context"
	"log/slog"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// What the server logs, and at which level (Config.Logger):
//
//   - debug: one record per connection accepted ("connect"), refused at
//     MaxClients ("refused") and closed ("disconnect", with its reason and
//     a detail), and one per line received ("line", the line quoted once);
//   - info: every LogInterval, if anything happened, the counts of the
//     connections accepted, refused and closed, by reason ("connections");
//     and, one record each, the events an operator must see one by one: a
//     slow consumer dropped ("disconnect" with reason=slow-consumer) and a
//     stall budget spent. At most one of each per connection, and only for
//     a client that has held others back or been dropped for it, so that a
//     storm of connections, however short, logs a few records a period;
//   - info and warn: the server's own life (listening, shutting down, an
//     accept that failed).
//
// The counts are owned by the loop; refusals, which happen outside it,
// are counted in Server.refused and reach the loop's record through it.

// connCounts are the connections accepted and closed since the last
// "connections" record. Owned by the loop.
type connCounts struct {
	connects    int
	disconnects [numReasons]int // by CloseReason
	since       time.Duration   // when the last record was logged (or the loop began), by srv.clock
}

// numReasons bounds the CloseReason values, as an array length.
const numReasons = int(ServerFull) + 1

// countConnect counts a connection accepted.
func (l *loop) countConnect() {
	l.counts.connects++
	l.armCounts()
}

// countDisconnect counts a connection closed for reason.
func (l *loop) countDisconnect(reason CloseReason) {
	l.counts.disconnects[reason]++
	l.armCounts()
}

// armCounts arms the timer of the "connections" record, unless it is armed
// or LogInterval turns the record off. It runs only once something has
// been counted, so that an idle server has no timer.
func (l *loop) armCounts() {
	if l.countsArmed || l.cfg.LogInterval < 0 {
		return
	}
	l.countsArmed = true
	l.countsTimer.Reset(l.cfg.LogInterval)
}

// onCountsTimer logs the counts of the period that has ended.
func (l *loop) onCountsTimer() {
	l.countsArmed = false
	l.logCounts()
}

// logCounts logs, at the info level, the connections accepted, refused
// and closed (by reason) since the last record, and starts counting again;
// nothing if there were none. The record's period is the time since the
// last record: the timer runs only while there is something to count, so
// after a quiet spell it is longer than LogInterval.
func (l *loop) logCounts() {
	refused := l.srv.refused.Swap(0)
	n := l.counts
	total := 0
	for _, d := range n.disconnects {
		total += d
	}
	if n.connects == 0 && total == 0 && refused == 0 {
		return
	}
	now := l.srv.clock.now()
	l.counts = connCounts{since: now}
	attrs := make([]slog.Attr, 0, 10)
	attrs = append(attrs,
		slog.Duration("period", (now-n.since).Round(time.Millisecond)),
		slog.Int("connects", n.connects),
		slog.Int("disconnects", total))
	for r := Quit; r < ServerFull; r++ {
		if d := n.disconnects[r]; d > 0 {
			attrs = append(attrs, slog.Int(r.String(), d))
		}
	}
	attrs = append(attrs, slog.Int64("refused", refused), slog.Int("clients", len(l.clients)))
	l.log.LogAttrs(context.Background(), slog.LevelInfo, "connections", attrs...)
}

// logLevel is the level of the "disconnect" record of a connection closed
// for reason: info for a slow consumer, which an operator must see, debug
// for the rest, which the "connections" record counts.
func logLevel(reason CloseReason) slog.Level {
	if reason == SlowConsumer {
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// debugEnabled reports whether the logger takes debug records.
func (l *loop) debugEnabled() bool { return l.log.Enabled(context.Background(), slog.LevelDebug) }

// loggedLine is a line a client sent, as a log attribute: quoted once,
// by the handler, whatever the handler. The text handler writes a byte
// slice quoted by strconv.Quote, which escapes every byte and character
// that is not printable, DEL included; the JSON handler takes it as a JSON
// string (MarshalJSON) whose unprintable characters are escaped too, with
// an invalid byte as U+FFFD, as slog writes invalid UTF-8 in JSON. Either
// way no control byte, line break or bidirectional formatting character
// from a client reaches the log as it is, and the line is not quoted
// twice. (It has no MarshalText: the text handler would then quote only
// what it deems in need, and it deems DEL safe.)
type loggedLine []byte

// MarshalJSON returns the line as a JSON string with every character
// strconv.IsPrint rejects escaped as \uXXXX.
func (b loggedLine) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, len(b)+2)
	out = append(out, '"')
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		i += size
		switch {
		case r == '"' || r == '\\':
			out = append(out, '\\', byte(r))
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r == ' ' || strconv.IsPrint(r):
			out = utf8.AppendRune(out, r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			out = appendJSONEscape(appendJSONEscape(out, r1), r2)
		default:
			out = appendJSONEscape(out, r)
		}
	}
	return append(out, '"'), nil
}

// appendJSONEscape appends \uXXXX for the UTF-16 code unit r.
func appendJSONEscape(out []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(out, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}
