package bench

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// testRelay is a tiny plain relay (plain.go) in the test's process: every
// line a connection sends goes to every other connection, through fault,
// which returns what each recipient gets instead of the line (nil: the
// line unchanged).
type testRelay struct {
	ln    net.Listener
	fault func(line []byte) [][]byte
	echo  atomic.Bool // the sender gets its lines too: a faulty relay

	mu    sync.Mutex // guards conns and every write
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func startRelay(t *testing.T, fault func(line []byte) [][]byte) *testRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &testRelay{ln: ln, fault: fault, conns: map[net.Conn]bool{}}
	r.wg.Go(r.accept)
	t.Cleanup(r.close)
	return r
}

func (r *testRelay) addr() string { return r.ln.Addr().String() }

// accept adds each connection to the set before it reads from it, as a
// relay must for chatbench's BARRIER lines to mean anything.
func (r *testRelay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns[c] = true
		r.mu.Unlock()
		r.wg.Go(func() { r.serve(c) })
	}
}

func (r *testRelay) serve(c net.Conn) {
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadBytes('\n')
		if err != nil {
			return
		}
		out := [][]byte{line}
		if r.fault != nil {
			if f := r.fault(line); f != nil {
				out = f
			}
		}
		r.mu.Lock()
		for to := range r.conns {
			if to != c || r.echo.Load() {
				for _, l := range out {
					to.Write(l)
				}
			}
		}
		r.mu.Unlock()
	}
}

func (r *testRelay) close() {
	r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func TestPlainRelay(t *testing.T) {
	relay := startRelay(t, nil)
	code, rep, stderr := runMain(t, "-addr", relay.addr(), "-dialect", "plain",
		"-clients", "6", "-senders", "3", "-lines", "50", "-size", "40", "-idle", "20", "-hold", "0s")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	// Every line reaches the other 5 clients, never its sender.
	if l := rep.Load; l.Dialect != "plain" || l.Expected != 3*50*5 || l.Delivered != l.Expected || l.bad() || l.Latency.Max <= 0 {
		t.Errorf("load: %+v", l)
	}
	if i := rep.Idle; i.Dialect != "plain" || i.Opened != 20 || i.Answered != 20 || i.Failed != 0 {
		t.Errorf("idle: %+v", i)
	}
}

// The plain dialect's checks catch a relay that loses, duplicates,
// reorders, garbles or echoes lines: here line 7 of sender 1, which each
// of the other 4 clients gets once.
func TestPlainRelayFaults(t *testing.T) {
	const victim = "s1 7 "
	var held []byte // reorder: line 7 held back until line 8
	var mu sync.Mutex
	for _, tc := range []struct {
		name  string
		fault func(line []byte) [][]byte
		want  tally
	}{
		{"lost", func(line []byte) [][]byte {
			if bytes.HasPrefix(line, []byte(victim)) {
				return [][]byte{}
			}
			return nil
		}, tally{Lost: 4}},
		{"duplicated", func(line []byte) [][]byte {
			if bytes.HasPrefix(line, []byte(victim)) {
				return [][]byte{line, line}
			}
			return nil
		}, tally{Duplicated: 4}},
		{"garbled", func(line []byte) [][]byte {
			if bytes.HasPrefix(line, []byte(victim)) {
				g := bytes.Clone(line)
				g[len(g)-4] ^= 1 // a letter of the padding
				return [][]byte{g}
			}
			return nil
		}, tally{Garbled: 4, Lost: 4}},
		{"reordered", func(line []byte) [][]byte {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case bytes.HasPrefix(line, []byte(victim)):
				held = line
				return [][]byte{}
			case bytes.HasPrefix(line, []byte("s1 8 ")):
				return [][]byte{line, held}
			}
			return nil
		}, tally{Reordered: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			relay := startRelay(t, tc.fault)
			code, rep, stderr := runMain(t, "-addr", relay.addr(), "-dialect", "plain",
				"-clients", "5", "-senders", "2", "-lines", "20", "-size", "40")
			if code != 1 || rep == nil || rep.OK {
				t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
			}
			l := rep.Load
			got := l.tally
			got.Delivered = 0
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if want := l.Expected - tc.want.Lost; l.Delivered != want {
				t.Errorf("delivered %d, want %d", l.Delivered, want)
			}
		})
	}
}

// A relay that also sends each line back to its sender is caught: a client
// never gets its own lines.
func TestPlainRelayEcho(t *testing.T) {
	relay := startRelay(t, nil)
	relay.echo.Store(true)
	code, rep, stderr := runMain(t, "-addr", relay.addr(), "-dialect", "plain",
		"-clients", "4", "-senders", "2", "-lines", "20", "-size", "40")
	if code != 1 || rep == nil || rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	// The run ends when every expected line has arrived; echoes still on
	// their way then are not counted, so only some of the 2×20 may be.
	if l := rep.Load; l.Garbled == 0 || l.Garbled > 2*20 || l.Lost != 0 || l.Delivered != l.Expected {
		t.Errorf("load: %+v", l)
	}
	if !strings.Contains(strings.Join(rep.Problems, "\n"), `first "END 0"`) {
		t.Errorf("problems: %q", rep.Problems)
	}
}

// The receiver of the plain dialect alone: the payload is the whole line.
func TestPlainReceiver(t *testing.T) {
	cfg := &Config{Clients: 3, Senders: 3, Rooms: 1, Lines: 4, Size: 32, Dialect: "plain"}
	r := newReceiver(cfg, 0, newLatencyBatch(&sharedHistogram{}))
	r.self = 2
	line := func(id, seq int) []byte { return appendPayload(nil, id, seq, 1e18, cfg.Size) }
	for seq := range 4 {
		r.plainLine(line(0, seq), 1e18+1000)
	}
	r.plainLine(line(1, 1), 1e18)    // 0 lost
	r.plainLine(line(1, 0), 1e18)    // reordered
	r.plainLine(line(1, 0), 1e18)    // duplicated
	r.plainLine(line(2, 0), 1e18)    // its own: garbled
	r.plainLine(line(3, 0), 1e18)    // no such sender: garbled
	r.plainLine(line(0, 9), 1e18)    // out of range: garbled
	r.plainLine([]byte("ROOM x"), 0) // not a payload: garbled
	got := r.finish()
	// Sender 1's lines 2 and 3 are lost; the client's own (2) are not expected.
	want := tally{Delivered: 6, Lost: 2, Duplicated: 1, Reordered: 1, Garbled: 4}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPlainFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the error; "" for none
	}{
		{[]string{"-addr", "127.0.0.1:1", "-dialect", "plain"}, ""},
		{[]string{"-addr", "127.0.0.1:1", "-dialect", "plain", "-rooms", "2"}, "no rooms"},
		{[]string{"-addr", "127.0.0.1:1", "-dialect", "plain", "-clients", "1"}, "at least 2"},
		{[]string{"-addr", "127.0.0.1:1", "-dialect", "plain", "-idle", "5", "-idle-rooms", "1"}, "no rooms"},
		{[]string{"-addr", "127.0.0.1:1", "-dialect", "irc"}, "chat or plain"},
		{[]string{"-addr", "127.0.0.1:1", "-floor", "floor {port}"}, "-floor needs -exec"},
		{[]string{"-exec", "chatd", "-floor", "floor {port}", "-dialect", "plain"}, "-floor runs -dialect plain"},
		{[]string{"-exec", "chatd", "-floor", "floor {port}", "-rooms", "2"}, "relays lines to everyone"},
		{[]string{"-exec", "chatd", "-floor", "floor {port}", "-scenario", "joinstorm"}, "no floor"},
		{[]string{"-exec", "chatd", "-profile", "/tmp/x"}, "{pprof}"},
		{[]string{"-exec", "chatd -pprof {pprof}", "-profile", "/tmp/x"}, ""},
		{[]string{"-exec", "chatd", "-scenario", "nope"}, "unknown"},
	} {
		_, err := parseFlags(tc.args, &strings.Builder{}, false)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one with %q", tc.args, err, tc.want)
		}
	}
}

func TestScenarioDefaults(t *testing.T) {
	c, err := parseFlags([]string{"-exec", "chatd", "-scenario", "flat", "-lines", "10"}, &strings.Builder{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Clients != 50 || c.Senders != 50 || c.Lines != 10 || c.Size != 32 || c.Rate != 0 || c.Reps != 1 || c.compare() {
		t.Errorf("flat with -lines 10: %+v", c)
	}
	c, err = parseFlags([]string{"-exec", "chatd", "-floor", "floor {port}", "-scenario", "idle"}, &strings.Builder{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Clients != 0 || c.Idle != 3000 || c.IdleRooms != 1 || c.Reps != 3 || !c.compare() {
		t.Errorf("idle: %+v", c)
	}
	var names []string
	for _, v := range c.variants() {
		names = append(names, v.name)
		if v.name == "floor" && (v.cfg.Dialect != "plain" || v.cfg.Exec != "floor {port}" || v.cfg.IdleRooms != 0) ||
			v.name == "lobby" && v.cfg.IdleRooms != 0 || v.name == "rooms" && v.cfg.IdleRooms != 1 {
			t.Errorf("variant %s: %+v", v.name, v.cfg)
		}
	}
	if got := strings.Join(names, " "); got != "floor lobby rooms" {
		t.Errorf("variants %s", got)
	}
	c, err = parseFlags([]string{"-exec", "chatd", "-scenario", "sparse", "-reps", "2"}, &strings.Builder{}, false)
	if err != nil || c.Clients != 2000 || c.Senders != 1 || c.Rate != 100 || c.Reps != 2 || !c.compare() || len(c.variants()) != 1 {
		t.Errorf("sparse -reps 2: %+v, %v", c, err)
	}
}

func TestSummarizeRounds(t *testing.T) {
	load := func(cpu, p99 float64) *Report {
		return &Report{Load: &LoadResult{tally: tally{Delivered: 100}, Server: &Usage{CPUPerDeliveryUS: cpu}, Latency: Latency{P99: p99}}}
	}
	vs := []variant{{name: "floor"}, {name: "server"}}
	rounds := []map[string]*Report{
		{"floor": load(1, 10), "server": load(2, 30)},
		{"floor": load(2, 10), "server": load(3, 20)},
		{"floor": load(1, 20), "server": load(4, 20)},
	}
	rows := summarizeRounds(vs, rounds)
	get := func(name string) SummaryRow {
		for _, r := range rows {
			if r.Figure == name {
				return r
			}
		}
		t.Fatalf("no row %q in %+v", name, rows)
		return SummaryRow{}
	}
	// Ratios are taken round by round: 2, 1.5, 4 -> 2.
	if r := get("cpu per delivery"); r.Medians["floor"] != 1 || r.Medians["server"] != 3 || r.Ratios["server"] != 2 {
		t.Errorf("cpu: %+v", r)
	}
	if r := get("latency p99"); r.Medians["floor"] != 10 || r.Medians["server"] != 20 || r.Ratios["server"] != 2 {
		t.Errorf("p99: %+v", r)
	}
	for _, r := range rows {
		if strings.HasPrefix(r.Figure, "rss") || strings.HasPrefix(r.Figure, "join") {
			t.Errorf("a figure no run has: %+v", r)
		}
	}
	if median([]float64{3, 1, 2, 10}) != 2.5 {
		t.Error("median of an even count")
	}
}
