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
	data   []byte // evSent, evReceived
	index  int    // evReceived: the line's index among its client's lines
	text   string // evNote, or a description of an evSent write
}

func (tr *Transcript) add(e event) {
	tr.mu.Lock()
	e.at = time.Since(tr.start)
	tr.events = append(tr.events, e)
	tr.mu.Unlock()
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
	tr.mu.Lock()
	events := tr.events[:len(tr.events):len(tr.events)]
	tr.mu.Unlock()
	var lines []string
	for i := 0; i < len(events); {
		// A run of lines of the same shape received by one client (a flood)
		// shows its first and last two lines.
		j := i + 1
		if events[i].kind == evReceived {
			shape := digits.ReplaceAll(events[i].data, nil)
			for j < len(events) && events[j].kind == evReceived && events[j].client == events[i].client &&
				bytes.Equal(digits.ReplaceAll(events[j].data, nil), shape) {
				j++
			}
		}
		if j-i > 6 {
			for _, e := range events[i : i+2] {
				lines = append(lines, e.formatTimed())
			}
			lines = append(lines, fmt.Sprintf("  ... %d more lines like these for %s ...", j-i-4, events[i].client.name))
			for _, e := range events[j-2 : j] {
				lines = append(lines, e.formatTimed())
			}
			i = j
			continue
		}
		lines = append(lines, events[i].formatTimed())
		i++
	}
	if len(lines) > maxShownHead+maxShownTail {
		n := len(lines) - maxShownHead - maxShownTail
		lines = append(append(lines[:maxShownHead:maxShownHead],
			fmt.Sprintf("  ... %d events not shown ...", n)), lines[len(lines)-maxShownTail:]...)
	}
	return strings.Join(lines, "\n") + "\n"
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
