package model_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// A transcript is one ```transcript block of PROTOCOL.md (its section 1.2
// defines the notation).
type transcript struct {
	line  int // where the block starts in PROTOCOL.md
	opts  string
	steps []step
}

// step is one client action or event, and the lines it must cause.
type step struct {
	line   int
	label  string // "server" for shutdown
	action string // "send", "connect", "disconnect", "overflow", "idle", "shutdown"
	data   string // the line sent, escapes decoded
	want   []string
}

var (
	sendRe  = regexp.MustCompile(`^([a-z]+)> ?(.*)$`)
	recvRe  = regexp.MustCompile(`^([a-z]+)< (.*)$`)
	eventRe = regexp.MustCompile(`^([a-z]+): (connect|disconnect|overflow|idle|closed|shutdown)$`)
)

// readTranscripts extracts every transcript from the document.
func readTranscripts(t *testing.T, path string) []transcript {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out []transcript
		cur *transcript
		n   int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		text := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(text, "```transcript"):
			cur = &transcript{line: n, opts: strings.TrimSpace(strings.TrimPrefix(text, "```transcript"))}
		case cur == nil:
		case text == "```":
			out = append(out, *cur)
			cur = nil
		case text == "" || strings.HasPrefix(text, "#"):
		case recvRe.MatchString(text):
			m := recvRe.FindStringSubmatch(text)
			if _, err := spec.ParseServerLine(m[2]); err != nil {
				t.Errorf("PROTOCOL.md:%d: %v", n, err)
			}
			addWant(t, cur, n, m[1]+"< "+m[2])
		case eventRe.MatchString(text) && strings.HasSuffix(text, ": closed"):
			addWant(t, cur, n, text)
		case eventRe.MatchString(text):
			m := eventRe.FindStringSubmatch(text)
			cur.steps = append(cur.steps, step{line: n, label: m[1], action: m[2]})
		case sendRe.MatchString(text):
			m := sendRe.FindStringSubmatch(text)
			cur.steps = append(cur.steps, step{line: n, label: m[1], action: "send", data: decodeEscapes(t, n, m[2])})
		default:
			t.Fatalf("PROTOCOL.md:%d: not a transcript line: %q", n, text)
		}
	}
	if cur != nil {
		t.Fatalf("PROTOCOL.md:%d: transcript never closed", cur.line)
	}
	return out
}

func addWant(t *testing.T, tr *transcript, n int, want string) {
	if len(tr.steps) == 0 {
		t.Fatalf("PROTOCOL.md:%d: output before any step", n)
	}
	last := &tr.steps[len(tr.steps)-1]
	last.want = append(last.want, want)
}

var escapeRe = regexp.MustCompile(`\\x\{(\d+)\}|\\x([0-9a-fA-F]{2})`)

// decodeEscapes turns \xHH into a byte and \x{N} into N bytes of 'x'.
func decodeEscapes(t *testing.T, n int, s string) string {
	return escapeRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := escapeRe.FindStringSubmatch(m)
		if sub[1] != "" {
			count, _ := strconv.Atoi(sub[1])
			return strings.Repeat("x", count)
		}
		b, err := strconv.ParseUint(sub[2], 16, 8)
		if err != nil {
			t.Fatalf("PROTOCOL.md:%d: bad escape %q", n, m)
		}
		return string([]byte{byte(b)})
	})
}

// configOf reads the options of a transcript's fence, e.g. "max-clients=2".
func configOf(t *testing.T, opts string) model.Config {
	var cfg model.Config
	for _, o := range strings.Fields(opts) {
		k, v, _ := strings.Cut(o, "=")
		n, err := strconv.Atoi(v)
		if k != "max-clients" || err != nil {
			t.Fatalf("unknown transcript option %q", o)
		}
		cfg.MaxClients = n
	}
	return cfg
}

// runTranscript plays tr through the model and returns the first mismatch.
func runTranscript(t *testing.T, tr transcript) error {
	s := model.New(configOf(t, tr.opts))
	ids := map[string]model.ClientID{}
	labels := map[model.ClientID]string{}
	next := model.ClientID(1)
	connect := func(label string) model.ClientID {
		id := next
		next++
		ids[label], labels[id] = id, label
		return id
	}
	for _, st := range tr.steps {
		var events []model.Event
		id, seen := ids[st.label]
		switch st.action {
		case "connect":
			id = connect(st.label)
			events = []model.Event{{Kind: model.Connect}}
		case "send":
			if !seen {
				id = connect(st.label)
				events = append(events, model.Event{Kind: model.Connect})
			}
			events = append(events, frame(st.data+"\r\n")...)
		default:
			events = []model.Event{{Kind: map[string]model.EventKind{
				"disconnect": model.Disconnect, "overflow": model.Overflow,
				"idle": model.Idle, "shutdown": model.Shutdown,
			}[st.action]}}
		}
		var got []string
		for _, ev := range events {
			var outs []model.Output
			s, outs = s.Step(id, ev)
			if err := s.Check(); err != nil {
				return fmt.Errorf("PROTOCOL.md:%d: invariant broken: %v", st.line, err)
			}
			for _, o := range outs {
				if o.Close {
					got = append(got, labels[o.To]+": closed")
				} else {
					got = append(got, labels[o.To]+"< "+o.Line)
				}
			}
		}
		if !samePerClient(got, st.want) {
			return fmt.Errorf("PROTOCOL.md:%d: %s %s %q:\nthe document says:\n\t%s\nthe model says:\n\t%s",
				st.line, st.label, st.action, st.data,
				strings.Join(st.want, "\n\t"), strings.Join(got, "\n\t"))
		}
	}
	return nil
}

// frame splits bytes into line events exactly as a server's reader would.
func frame(data string) []model.Event {
	var evs []model.Event
	lr := spec.NewLineReader(strings.NewReader(data), spec.MaxLineLen)
	for {
		line, err := lr.ReadLine()
		switch {
		case errors.Is(err, spec.ErrLineOverflow):
			evs = append(evs, model.Event{Kind: model.LineTooLong})
		case errors.Is(err, io.EOF):
			return evs
		case err != nil:
			panic(err)
		default:
			evs = append(evs, model.Event{Kind: model.Line, Line: string(line)})
		}
	}
}

// samePerClient compares two lists of "label< line" / "label: closed"
// entries, keeping each client's order but ignoring the interleaving between
// clients (ORDER-2: only a client's own order is observable).
func samePerClient(a, b []string) bool {
	group := func(xs []string) map[string][]string {
		m := map[string][]string{}
		for _, x := range xs {
			label := x[:strings.IndexAny(x, "<:")]
			m[label] = append(m[label], x)
		}
		return m
	}
	ga, gb := group(a), group(b)
	if len(ga) != len(gb) {
		return false
	}
	for k, v := range ga {
		if !slices.Equal(v, gb[k]) {
			return false
		}
	}
	return true
}

// TestProtocolTranscripts runs every transcript of PROTOCOL.md through the
// model, so that the document and the model cannot drift apart.
func TestProtocolTranscripts(t *testing.T) {
	trs := readTranscripts(t, "../PROTOCOL.md")
	if len(trs) < 15 {
		t.Fatalf("found only %d transcripts in PROTOCOL.md", len(trs))
	}
	for _, tr := range trs {
		t.Run(fmt.Sprintf("line%d", tr.line), func(t *testing.T) {
			if err := runTranscript(t, tr); err != nil {
				t.Error(err)
			}
		})
	}
}
