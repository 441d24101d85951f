package impl_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"roomchat.dev/roomchat/impl"
)

// A transcript is a sequence of client steps in the notation of
// PROTOCOL.md 1.2. The normative transcripts of PROTOCOL.md are run against
// the server; the tests of this package write their own in the same form.
type transcript struct {
	name       string
	maxClients int
	steps      []step
}

// step is one line of a transcript.
type step struct {
	who  string // a client label, or "server"
	op   string // ">", "<", or the word after "who:" (connect, disconnect, closed, ...)
	line []byte // what is sent or received, for > and <
	src  string // the transcript line, for failure messages
}

var stepRE = regexp.MustCompile(`^([a-z][a-z0-9]*)(?:([<>]) ?(.*)|: ([a-z]+))$`)

// parseSteps parses the body of a transcript.
func parseSteps(body string) ([]step, error) {
	var steps []step
	for _, l := range strings.Split(body, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		m := stepRE.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("bad transcript line %q", l)
		}
		s := step{who: m[1], src: l}
		if m[2] != "" {
			s.op = m[2]
			line, err := unescape(m[3])
			if err != nil {
				return nil, fmt.Errorf("%q: %v", l, err)
			}
			s.line = line
		} else {
			s.op = m[4]
		}
		steps = append(steps, s)
	}
	return steps, nil
}

var escapeRE = regexp.MustCompile(`\\x\{([0-9]+)\}|\\x([0-9a-fA-F]{2})`)

// unescape expands \xHH to the byte HH and \x{N} to N bytes of 'x'.
func unescape(s string) ([]byte, error) {
	var err error
	out := escapeRE.ReplaceAllStringFunc(s, func(e string) string {
		m := escapeRE.FindStringSubmatch(e)
		if m[1] != "" {
			n, _ := strconv.Atoi(m[1])
			return strings.Repeat("x", n)
		}
		b, perr := strconv.ParseUint(m[2], 16, 8)
		if perr != nil {
			err = perr
		}
		return string([]byte{byte(b)})
	})
	return []byte(out), err
}

// protocolTranscripts extracts the transcripts of PROTOCOL.md.
func protocolTranscripts(t *testing.T) []transcript {
	t.Helper()
	f, err := os.Open("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out    []transcript
		cur    *transcript
		body   strings.Builder
		lineNo int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lineNo++
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "```transcript"):
			cur = &transcript{name: fmt.Sprintf("PROTOCOL.md:%d", lineNo)}
			for _, opt := range strings.Fields(strings.TrimPrefix(l, "```transcript")) {
				k, v, _ := strings.Cut(opt, "=")
				if k != "max-clients" {
					t.Fatalf("%s: unknown transcript option %q", cur.name, opt)
				}
				cur.maxClients, _ = strconv.Atoi(v)
			}
			body.Reset()
		case cur != nil && l == "```":
			steps, err := parseSteps(body.String())
			if err != nil {
				t.Fatalf("%s: %v", cur.name, err)
			}
			cur.steps = steps
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(l + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d transcripts in PROTOCOL.md", len(out))
	}
	return out
}

// sendMode says how a transcript's client lines are put on the wire.
type sendMode struct {
	name     string
	eol      string
	bytewise bool // one byte per write (FRAME-3)
}

var sendModes = []sendMode{
	{name: "crlf", eol: "\r\n"},
	{name: "lf", eol: "\n"},
	{name: "bytewise", eol: "\r\n", bytewise: true},
}

// runTranscript plays tr against a fresh server. Every client still
// connected at the end must have nothing more pending (a PING barrier).
func runTranscript(t *testing.T, cfg impl.Config, tr transcript, mode sendMode) {
	if tr.maxClients != 0 {
		cfg.MaxClients = tr.maxClients
	}
	ts := startServer(t, cfg)
	clients := map[string]*testClient{}
	open := func(who string) *testClient {
		c := ts.dial(t, who)
		c.eol = mode.eol
		clients[who] = c
		return c
	}
	get := func(s step) *testClient {
		c := clients[s.who]
		if c == nil {
			c = open(s.who)
		}
		return c
	}
	shutdownErr := make(chan error, 1)
	shutdown := false
	for _, s := range tr.steps {
		t.Logf("%s", s.src)
		switch s.op {
		case ">":
			c := get(s)
			b := append(append([]byte(nil), s.line...), mode.eol...)
			if mode.bytewise {
				for i := range b {
					c.write(b[i : i+1])
				}
			} else {
				c.write(b)
			}
		case "<":
			get(s).expect(string(s.line))
		case "connect":
			open(s.who)
		case "disconnect":
			get(s).conn.Close()
			delete(clients, s.who)
		case "closed":
			get(s).expectClosed()
			delete(clients, s.who)
		case "shutdown":
			shutdown = true
			go func() { shutdownErr <- ts.shutdown() }()
		default:
			t.Fatalf("step %q is not supported here", s.src)
		}
	}
	for _, c := range clients {
		c.sync()
	}
	if shutdown {
		if err := <-shutdownErr; err != nil {
			t.Error(err)
		}
	}
}

// TestProtocolTranscripts runs every transcript of PROTOCOL.md whose events
// a client can cause, with CRLF, with bare LF (as nc sends), and one byte
// per write. Overflow and idle timeouts have tests of their own.
func TestProtocolTranscripts(t *testing.T) {
	t.Parallel()
	for _, tr := range protocolTranscripts(t) {
		skip := ""
		for _, s := range tr.steps {
			if s.op == "overflow" || s.op == "idle" {
				skip = s.src
			}
		}
		for _, mode := range sendModes {
			t.Run(tr.name+"/"+mode.name, func(t *testing.T) {
				if skip != "" {
					t.Skipf("needs %q: see TestSlowConsumer and TestIdleTimeout", skip)
				}
				t.Parallel()
				runTranscript(t, impl.Config{}, tr, mode)
			})
		}
	}
}

// mustSteps parses a transcript written in a test.
func mustSteps(t *testing.T, body string) []step {
	t.Helper()
	steps, err := parseSteps(strings.TrimSpace(body))
	if err != nil {
		t.Fatal(err)
	}
	return steps
}
