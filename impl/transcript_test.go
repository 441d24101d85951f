package impl_test

import (
	"fmt"
	"strings"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec/transcript"
)

// protocolTranscripts extracts the transcripts of PROTOCOL.md (its section
// 1.2 defines the notation); the tests of this package write their own in
// the same form.
func protocolTranscripts(t *testing.T) []transcript.Transcript {
	t.Helper()
	trs, err := transcript.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) < 10 {
		t.Fatalf("found only %d transcripts in PROTOCOL.md", len(trs))
	}
	return trs
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
func runTranscript(t *testing.T, cfg impl.Config, tr transcript.Transcript, mode sendMode) {
	if tr.MaxClients != 0 {
		cfg.MaxClients = tr.MaxClients
	}
	ts := startServer(t, cfg)
	clients := map[string]*testClient{}
	open := func(who string) *testClient {
		c := ts.dial(t, who)
		c.eol = mode.eol
		clients[who] = c
		return c
	}
	get := func(s transcript.Step) *testClient {
		c := clients[s.Who]
		if c == nil {
			c = open(s.Who)
		}
		return c
	}
	shutdownErr := make(chan error, 1)
	shutdown := false
	for _, s := range tr.Steps {
		t.Logf("%s", s.Src)
		switch s.Op {
		case ">":
			c := get(s)
			b := append([]byte(s.Data), mode.eol...)
			if mode.bytewise {
				for i := range b {
					c.write(b[i : i+1])
				}
			} else {
				c.write(b)
			}
		case "<":
			get(s).expect(s.Data)
		case "connect":
			open(s.Who)
		case "disconnect":
			get(s).conn.Close()
			delete(clients, s.Who)
		case "closed":
			get(s).expectClosed()
			delete(clients, s.Who)
		case "shutdown":
			shutdown = true
			go func() { shutdownErr <- ts.shutdown() }()
		default:
			t.Fatalf("step %q is not supported here", s.Src)
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
		for _, s := range tr.Steps {
			if s.Op == "overflow" || s.Op == "idle" {
				skip = s.Src
			}
		}
		for _, mode := range sendModes {
			t.Run(fmt.Sprintf("PROTOCOL.md:%d/%s", tr.Line, mode.name), func(t *testing.T) {
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
func mustSteps(t *testing.T, body string) []transcript.Step {
	t.Helper()
	steps, err := transcript.ParseSteps(strings.TrimSpace(body), 1)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}
