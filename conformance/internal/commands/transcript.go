package commands

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"roomchat.dev/roomchat/spec"
)

// A Transcript records, in the order they happened, the bytes every client
// of one script sent and received, and its connection events. It is what a
// failure report shows. It is safe for concurrent use: each client's reader
// goroutine appends to it.
type Transcript struct {
	mu     sync.Mutex
	start  time.Time
	events []event

	// What the failure report needs: the script's command count, the line
	// consumed last and by which command, and how the script failed.
	cmdSeq   uint64
	consumed lineRef // the line the script consumed last
	consCmd  uint64  // the command that consumed it
	differs  lineRef // the line the failing command found wrong; client nil if none
	failed   bool
	should   string // the SHOULD rule the failing assertion checks (should); "" for a MUST
}

// A lineRef names one received line: its client and its index among the
// client's lines.
type lineRef struct {
	client *Client
	index  int
}

// NewTranscript returns an empty transcript whose times are relative to now.
func NewTranscript() *Transcript { return &Transcript{start: time.Now()} }

type eventKind uint8

const (
	evSent     eventKind = iota + 1 // bytes written by the client
	evReceived                      // one complete line received, terminator included
	evNote                          // a connection event: connect, close, EOF, reset...
)

type event struct {
	at     time.Duration
	client *Client
	kind   eventKind
	data   []byte // evSent, evReceived; for an evNote, bytes without LF at the end of the stream
	index  int    // evReceived: the line's index among its client's lines
	text   string // evNote, or a description of an evSent write
}

func (tr *Transcript) add(e event) {
	tr.mu.Lock()
	e.at = time.Since(tr.start)
	tr.events = append(tr.events, e)
	tr.mu.Unlock()
}

// received returns the first line (or bytes without LF at the end of a
// stream) that a client received holding text, and that client's name.
func (tr *Transcript) received(text []byte) (who, line string, ok bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, e := range tr.events {
		if (e.kind == evReceived || e.kind == evNote) && bytes.Contains(e.data, text) {
			return e.client.name, string(bytes.TrimSuffix(e.data, []byte("\r\n"))), true
		}
	}
	return "", "", false
}

// beginCommand records that the script runs its next command.
func (tr *Transcript) beginCommand() {
	tr.mu.Lock()
	tr.cmdSeq++
	tr.mu.Unlock()
}

// consume records that the script consumed line index of c.
func (tr *Transcript) consume(c *Client, index int) {
	tr.mu.Lock()
	tr.consumed, tr.consCmd = lineRef{c, index}, tr.cmdSeq
	tr.mu.Unlock()
}

// fail records that the script failed, in a region of the SHOULD rule
// should ("" if none): a line the failing command itself consumed is the
// one that differs from the expectation.
func (tr *Transcript) fail(should string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.failed, tr.should = true, should
	if tr.consumed.client != nil && tr.consCmd == tr.cmdSeq {
		tr.differs = tr.consumed
	}
}

// FailedShould returns the SHOULD rule whose assertion failed, if the
// script failed inside a should region; "" otherwise.
func (tr *Transcript) FailedShould() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.failed {
		return ""
	}
	return tr.should
}

// stamp formats t as the transcript shows times: "+1.234s" since its start.
func (tr *Transcript) stamp(t time.Time) string {
	return fmt.Sprintf("+%.3fs", t.Sub(tr.start).Seconds())
}

// maxShownEvents bounds a formatted transcript: floods of thousands of lines
// are cut in the middle.
const (
	maxShownHead = 60
	maxShownTail = 180
)

// A row is one line of a formatted transcript: an event, or a note that
// stands for events not shown (elided).
type row struct {
	ev     *event
	elided string
}

// rows folds the events as a report shows them: a run of lines of the same
// shape received by one client (a flood) shows its first and last two
// lines, and a long transcript its head and tail.
func (tr *Transcript) rows() []row {
	tr.mu.Lock()
	events := tr.events[:len(tr.events):len(tr.events)]
	tr.mu.Unlock()
	var rows []row
	for i := 0; i < len(events); {
		j := i + 1
		if events[i].kind == evReceived {
			shape := digits.ReplaceAll(events[i].data, nil)
			for j < len(events) && events[j].kind == evReceived && events[j].client == events[i].client &&
				bytes.Equal(digits.ReplaceAll(events[j].data, nil), shape) {
				j++
			}
		}
		if j-i > 6 {
			rows = append(rows, row{ev: &events[i]}, row{ev: &events[i+1]},
				row{elided: fmt.Sprintf("... %d more lines like these for %s ...", j-i-4, events[i].client.name)},
				row{ev: &events[j-2]}, row{ev: &events[j-1]})
			i = j
			continue
		}
		rows = append(rows, row{ev: &events[i]})
		i++
	}
	if len(rows) > maxShownHead+maxShownTail {
		n := len(rows) - maxShownHead - maxShownTail
		rows = append(append(rows[:maxShownHead:maxShownHead],
			row{elided: fmt.Sprintf("... %d events not shown ...", n)}), rows[len(rows)-maxShownTail:]...)
	}
	return rows
}

// String formats the transcript, one event a line:
//
//	+0.004s alice> USERNAME alice
//	+0.005s alice< OK Welcome, alice!
//	+0.006s bob: connected
//
// A line is shown as is when it is printable and ends in CRLF, and quoted
// with its terminator otherwise. Lines that arrived but that the script has
// not consumed yet are marked "(unread)".
func (tr *Transcript) String() string {
	var lines []string
	for _, r := range tr.rows() {
		if r.ev == nil {
			lines = append(lines, "  "+r.elided)
		} else {
			lines = append(lines, r.ev.formatTimed())
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// A WireEvent is one row of a script's wire log, as a report shows it.
type WireEvent struct {
	At     time.Duration // since the script started
	Client string        // the client's name; "" for an elision
	Kind   WireKind
	Text   string // the line or bytes as the text report shows them, or the note
	Unread bool   // a received line the script never consumed
	// Differs marks the received line that the failing command found
	// different from its expectation.
	Differs bool
}

// WireKind says what a WireEvent is.
type WireKind string

// The kinds of WireEvent.
const (
	WireSent     WireKind = "sent"     // bytes a client wrote
	WireReceived WireKind = "received" // one line a client received
	WireNote     WireKind = "note"     // a connection event: connect, close, reset...
	WireElided   WireKind = "elided"   // events not shown, counted in Text
)

// Events returns the transcript as rows of a report, folded as String
// folds them.
func (tr *Transcript) Events() []WireEvent {
	tr.mu.Lock()
	differs := tr.differs
	tr.mu.Unlock()
	var out []WireEvent
	for _, r := range tr.rows() {
		if r.ev == nil {
			out = append(out, WireEvent{Kind: WireElided, Text: r.elided})
			continue
		}
		e := r.ev
		w := WireEvent{At: e.at, Client: e.client.name}
		switch e.kind {
		case evSent:
			w.Kind, w.Text = WireSent, showSent(e.data)
			if e.text != "" {
				w.Text += "   (" + e.text + ")"
			}
		case evReceived:
			w.Kind, w.Text = WireReceived, showLine(e.data, "\r\n")
			w.Unread = !e.client.consumed(e.index)
			w.Differs = differs.client == e.client && differs.index == e.index
		default:
			w.Kind, w.Text = WireNote, e.text
		}
		out = append(out, w)
	}
	return out
}

// digits matches runs of decimal digits, which differ between the lines of
// a flood.
var digits = regexp.MustCompile(`[0-9]+`)

func (e event) formatTimed() string {
	return fmt.Sprintf("  +%.3fs %s", e.at.Seconds(), e.format())
}

func (e event) format() string {
	name := e.client.name
	switch e.kind {
	case evSent:
		s := name + "> " + showSent(e.data)
		if e.text != "" {
			s += "   (" + e.text + ")"
		}
		return s
	case evReceived:
		s := name + "< " + showLine(e.data, "\r\n")
		if !e.client.consumed(e.index) {
			s += "   (unread)"
		}
		return s
	default:
		return name + ": " + e.text
	}
}

// showSent formats bytes a client wrote: one or more printable lines ending
// in CRLF are shown as lines separated by " ⏎ "; anything else is quoted.
func showSent(data []byte) string {
	if len(data) > 0 && bytes.HasSuffix(data, []byte("\r\n")) {
		lines := bytes.Split(data[:len(data)-2], []byte("\r\n"))
		ok := true
		for _, l := range lines {
			if !plain(l) {
				ok = false
				break
			}
		}
		if ok {
			parts := make([]string, len(lines))
			for i, l := range lines {
				parts[i] = shorten(string(l))
			}
			return strings.Join(parts, " ⏎ ")
		}
	}
	return quote(data)
}

// showLine formats one line with its terminator: plainly if it ends in term
// and is printable, else quoted whole.
func showLine(data []byte, term string) string {
	if body, ok := bytes.CutSuffix(data, []byte(term)); ok && plain(body) {
		return shorten(string(body))
	}
	return quote(data)
}

// plain reports whether a line can be shown without quotes: valid UTF-8,
// no control characters, not empty, no space at either end.
func plain(l []byte) bool {
	return len(l) > 0 && l[0] != ' ' && l[len(l)-1] != ' ' && spec.CheckLine(l) == ""
}

// quote quotes bytes as a Go string, shortening long runs, as every log
// of the project does (spec.Quote).
func quote(data []byte) string { return spec.Quote(string(data)) }

// shorten cuts a long printable line for display.
func shorten(s string) string {
	if len(s) <= 300 {
		return s
	}
	return s[:120] + fmt.Sprintf("...(%d bytes in all)...", len(s)) + s[len(s)-60:]
}
