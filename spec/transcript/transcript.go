// Package transcript reads the transcript notation of PROTOCOL.md section
// 1.2: who sends which line, who receives which line, and connection events.
// PROTOCOL.md's transcripts are normative, and the model's and the reference
// server's tests both play them; this package is the one reading of the
// notation they share.
package transcript

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Transcript is one fenced ```transcript block.
type Transcript struct {
	Line       int // where the block's opening fence is in its file
	MaxClients int // the max-clients= option of the fence, or 0
	MaxRooms   int // the max-rooms= option of the fence (MaxRoomsPerUser), or 0
	Steps      []Step
}

// Step is one line of a transcript.
type Step struct {
	Line int    // line number in the file (or in the body given to ParseSteps)
	Who  string // a client label, or "server"
	// Op is ">" (Who sends Data), "<" (Who receives Data), or an event word:
	// connect, disconnect, overflow, idle, closed, shutdown, restart, time.
	Op   string
	Data string // the line sent or received, escapes decoded, without terminator; the time of "time"
	Src  string // the transcript line as written
}

// Events are the words a step may have after "who: ".
var Events = []string{"connect", "disconnect", "overflow", "idle", "closed", "shutdown", "restart", "time"}

// ServerEvents are the events only "server" has; "time" carries a
// msg-time (PROTOCOL.md 1.2).
var ServerEvents = []string{"shutdown", "restart", "time"}

var stepRE = regexp.MustCompile(`^([a-z][a-z0-9]*)(?:([<>]) ?(.*)|: ([a-z]+)(?: (\S+))?)$`)

// ParseSteps parses the body of one transcript; blank lines and '#'
// comments are skipped. firstLine numbers the body's first line.
func ParseSteps(body string, firstLine int) ([]Step, error) {
	var steps []Step
	for i, l := range strings.Split(body, "\n") {
		n := firstLine + i
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m := stepRE.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("line %d: not a transcript line: %q", n, l)
		}
		s := Step{Line: n, Who: m[1], Src: l}
		if m[2] != "" {
			s.Op = m[2]
			for _, e := range escapeRE.FindAllStringSubmatch(m[3], -1) {
				if count, err := strconv.Atoi(e[1]); e[1] != "" && (err != nil || count > MaxRepeat) {
					return nil, fmt.Errorf("line %d: %s: at most \\x{%d}", n, e[0], MaxRepeat)
				}
			}
			s.Data = Unescape(m[3])
		} else {
			s.Op = m[4]
			if !isEvent(s.Op) {
				return nil, fmt.Errorf("line %d: unknown event %q", n, s.Op)
			}
			if (s.Op == "time") != (m[5] != "") {
				return nil, fmt.Errorf("line %d: only time takes an argument: %q", n, l)
			}
			s.Data = m[5]
		}
		steps = append(steps, s)
	}
	return steps, nil
}

func isEvent(w string) bool {
	for _, e := range Events {
		if e == w {
			return true
		}
	}
	return false
}

var escapeRE = regexp.MustCompile(`\\x\{([0-9]+)\}|\\x([0-9a-fA-F]{2})`)

// MaxRepeat is the largest N of \x{N}: far beyond any line of the
// protocol, small enough that a mistyped transcript cannot exhaust memory.
const MaxRepeat = 1 << 16

// Unescape expands \xHH to the byte HH and \x{N} to N bytes of 'x'. An
// \x{N} with N over MaxRepeat is left as written (ParseSteps refuses it).
func Unescape(s string) string {
	return escapeRE.ReplaceAllStringFunc(s, func(e string) string {
		m := escapeRE.FindStringSubmatch(e)
		if m[1] != "" {
			n, err := strconv.Atoi(m[1])
			if err != nil || n > MaxRepeat {
				return e
			}
			return strings.Repeat("x", n)
		}
		b, _ := strconv.ParseUint(m[2], 16, 8) // two hex digits always fit
		return string([]byte{byte(b)})
	})
}

// Read extracts every transcript from a document such as PROTOCOL.md.
func Read(r io.Reader) ([]Transcript, error) {
	var (
		out  []Transcript
		cur  *Transcript
		body []string
		n    int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		n++
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "```transcript"):
			cur = &Transcript{Line: n}
			for _, opt := range strings.Fields(strings.TrimPrefix(l, "```transcript")) {
				k, v, _ := strings.Cut(opt, "=")
				max, err := strconv.Atoi(v)
				switch {
				case err != nil:
					return nil, fmt.Errorf("line %d: transcript option %q: %v", n, opt, err)
				case k == "max-clients":
					cur.MaxClients = max
				case k == "max-rooms":
					cur.MaxRooms = max
				default:
					return nil, fmt.Errorf("line %d: unknown transcript option %q", n, opt)
				}
			}
			body = body[:0]
		case cur != nil && l == "```":
			steps, err := ParseSteps(strings.Join(body, "\n"), cur.Line+1)
			if err != nil {
				return nil, err
			}
			cur.Steps = steps
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body = append(body, l)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("line %d: transcript never closed", cur.Line)
	}
	return out, sc.Err()
}

// ReadFile extracts every transcript from the document at path.
func ReadFile(path string) ([]Transcript, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	trs, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return trs, nil
}
