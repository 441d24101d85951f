package impl_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/spec"
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

// transcriptEpoch is the server's clock before a transcript's first
// "server: time" (PROTOCOL.md 1.2).
var transcriptEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// wallClock is a settable Config.Now: the time of "server: time" steps.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *wallClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *wallClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// runTranscript plays tr against a fresh server. Every client still
// connected at the end must have nothing more pending (a PING barrier).
// "server: time" sets the server's wall clock (cfg.Now); "server:
// restart" shuts the server down and starts another with cfg, on the same
// database if cfg.DB is set, before the next connection opens.
func runTranscript(t *testing.T, cfg impl.Config, tr transcript.Transcript, mode sendMode) {
	if tr.MaxClients != 0 {
		cfg.MaxClients = tr.MaxClients
	}
	if tr.MaxRooms != 0 {
		cfg.MaxRooms = tr.MaxRooms
	}
	clock := &wallClock{t: transcriptEpoch}
	cfg.Now = clock.Now
	ts := startServer(t, cfg)
	clients := map[string]*testClient{}
	shutdownErr := make(chan error, 1)
	shutdown, restarting := false, false
	open := func(who string) *testClient {
		if restarting {
			if err := <-shutdownErr; err != nil {
				t.Fatal(err)
			}
			restarting, shutdown = false, false
			ts = startServer(t, cfg)
		}
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
		case "shutdown", "restart":
			shutdown, restarting = true, s.Op == "restart"
			go func(ts *testServer) { shutdownErr <- ts.shutdown() }(ts)
		case "time":
			at, ok := spec.ParseMsgTime(s.Data)
			if !ok {
				t.Fatalf("bad time in %q", s.Src)
			}
			clock.set(at)
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

// extConfig is a server offering every extension of section 13, with
// cheap hashes and short login pauses, as the tests of this package use it.
func extConfig() impl.Config {
	return impl.Config{
		Offer:         spec.AllExt,
		Argon2:        passwd.Cheap,
		LoginDelay:    time.Millisecond,
		LoginDelayMax: 10 * time.Millisecond,
	}
}

// withDB returns cfg with a new database in a temporary directory.
func withDB(t testing.TB, cfg impl.Config) impl.Config {
	cfg.DB = filepath.Join(t.TempDir(), "chat.db")
	return cfg
}

// usesExtensions reports whether tr needs a server offering section 13:
// it sends CAPS, or has the server's clock or a restart.
func usesExtensions(tr transcript.Transcript) bool {
	for _, s := range tr.Steps {
		if s.Op == "time" || s.Op == "restart" || s.Op == ">" && strings.HasPrefix(s.Data, "CAPS") {
			return true
		}
	}
	return false
}

// TestProtocolTranscripts runs every transcript of PROTOCOL.md whose events
// a client can cause, with CRLF, with bare LF (as nc sends), and one byte
// per write, on three servers: a core server ("core", for the transcripts
// without section 13), one that offers every extension of section 13 in
// memory ("ext": a core transcript must pass there too, CAPS-3), and the
// same with a database ("db"; CRLF only for core transcripts). Overflow
// and idle timeouts have tests of their own; a restart needs the database.
func TestProtocolTranscripts(t *testing.T) {
	t.Parallel()
	for _, tr := range protocolTranscripts(t) {
		skip := ""
		restart := false
		for _, s := range tr.Steps {
			if s.Op == "overflow" || s.Op == "idle" {
				skip = "needs " + strconv.Quote(s.Src) + ": see TestSlowConsumer and TestIdleTimeout"
			}
			restart = restart || s.Op == "restart"
		}
		ext := usesExtensions(tr)
		for _, variant := range []string{"core", "ext", "db"} {
			for _, mode := range sendModes {
				t.Run(fmt.Sprintf("PROTOCOL.md:%d/%s/%s", tr.Line, variant, mode.name), func(t *testing.T) {
					why := skip
					switch {
					case why != "":
					case variant == "core" && ext:
						why = "uses section 13"
					case variant == "ext" && restart:
						why = "a restart keeps nothing in memory: see db"
					case variant == "db" && !ext && mode.name != "crlf":
						why = "core transcript: CRLF is enough"
					}
					if why != "" {
						t.Skip(why)
					}
					t.Parallel()
					cfg := impl.Config{}
					switch variant {
					case "ext":
						cfg = extConfig()
					case "db":
						cfg = withDB(t, extConfig())
					}
					runTranscript(t, cfg, tr, mode)
				})
			}
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
