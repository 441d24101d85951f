package conformance

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// startFake serves every connection to a listener on 127.0.0.1:0 with
// handle, which must return once the client has closed its connection.
func startFake(t *testing.T, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// startDelayed is an echo server that holds every line back for delay
// before it answers: a server that holds back its room.
func startDelayed(t *testing.T, delay time.Duration) string {
	return startFake(t, func(c *net.TCPConn) {
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			time.Sleep(delay) // the deliberate delay, not a synchronisation
			c.Write([]byte(strings.TrimSuffix(sc.Text(), "\r") + "\r\n"))
		}
	})
}

// startResetter reads one line, sends two, and resets the connection
// (SO_LINGER 0), as a server drops a slow consumer (LIMIT-8).
func startResetter(t *testing.T) string {
	return startFake(t, func(c *net.TCPConn) {
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			return
		}
		c.Write([]byte("OK 1\r\nOK 2\r\n"))
		c.SetLinger(0)
	})
}

// runVerbose is runText keeping the log of a passing script too.
func runVerbose(t *testing.T, addr, name, text string) Result {
	t.Helper()
	sc, err := ParseScript(name+".txtar", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(Config{Addr: addr, Scripts: []*Script{sc}, Timeout: 300 * time.Millisecond, Tags: []string{"core"}, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.RunScript(sc)
}

// TestTimingCommands checks floodsend -rate, recvmany -skip, -from, -within
// and -spread, and closed -reset: each option can fail, and can pass.
func TestTimingCommands(t *testing.T) {
	echo := startEcho(t)
	delayed := startDelayed(t, 100*time.Millisecond)
	resetter := startResetter(t)
	for _, tc := range []struct {
		name, addr, script string
		pass               bool
		want               string // in the log
	}{
		// -within: every line within DURATION of its round's send time.
		{name: "within_delayed", addr: delayed, want: "more than the -within bound of 20ms", script: "connect a\nfloodsend a 3 'OK %d'\nrecvmany -from a -within 20ms a 3 'OK %d'\n"},
		{name: "within_cause", addr: delayed, want: "the server holds back its room", script: "connect a\nfloodsend -rate 1000 a 2 'OK %d'\nrecvmany -within 20ms -from a a 2 'OK %d'\n"},
		{name: "within_echo", pass: true, want: "99th percentile", script: "connect a\nfloodsend a 300 'OK a%d' 'OK b%d'\nrecvmany -from a -within 10s a 300 'OK a%d' 'OK b%d'\n"},
		{name: "within_log", pass: true, want: "latency of the 20 lines of the flood of a: max", script: "connect a\nfloodsend a 20 'OK %d'\nrecvmany -from a -within 10s a 20 'OK %d'\n"},
		{name: "within_arrival_not_consumption", pass: true, script: "connect a\nfloodsend a 3 'OK %d'\nsleep 1s\nrecvmany -from a -within 500ms a 3 'OK %d'\n"},
		{name: "within_bg_rate", pass: true, want: "(bound 10s)", script: "connect a\nfloodsend -bg -rate 200 a 20 'OK %d'\nrecvmany -from a -within 10s a 20 'OK %d'\nfloodwait a\n"},
		// -spread: the last line no sooner than DURATION after round 1.
		{name: "spread_at_once", want: "sooner than the -spread of 10s", script: "connect a\nfloodsend a 5 'OK %d'\nrecvmany -from a -spread 10s a 5 'OK %d'\n"},
		{name: "spread_paced", pass: true, want: "(-spread 150ms)", script: "connect a\nfloodsend -rate 20 a 5 'OK %d'\nrecvmany -from a -spread 150ms a 5 'OK %d'\n"},
		// -from: the flood must be the one expected.
		{name: "from_no_flood", want: "a has sent no flood", script: "connect a\nsend a 'OK 1'\nrecvmany -from a a 1 'OK %d'\n"},
		{name: "from_other_flood", want: "has 3 rounds of 1 lines, not 2 rounds of 1", script: "connect a\nfloodsend a 3 'OK %d'\nrecvmany -from a a 2 'OK %d'\n"},
		{name: "from_templates", want: "has 2 rounds of 2 lines, not 2 rounds of 1", script: "connect a\nfloodsend a 2 'OK a%d' 'OK b%d'\nrecvmany -from a a 2 'OK %d'\n"},
		{name: "from_replaced", want: "has 1 rounds of 1 lines, not 2 rounds of 1", script: "connect a\nfloodsend a 2 'OK %d'\nfloodsend a 1 'OK x%d'\nrecvmany -from a a 2 'OK %d'\n"},
		{name: "from_unsent", want: "of the flood of b was sent: it cannot have come from that flood", script: "connect a b\nfloodsend -bg -rate 0.01 b 2 'OK x%d'\nsendmany a 'OK 1' 'OK 2'\nrecvmany -from b a 2 'OK %d'\n"},
		{name: "within_needs_from", want: "-within and -spread need -from", script: "connect a\nrecvmany -within 1s a 1 'OK %d'\n"},
		{name: "within_bad", want: "bad duration", script: "connect a\nrecvmany -from a -within 0s a 1 'OK %d'\n"},
		{name: "option_twice", want: "-skip given twice", script: "connect a\nrecvmany -skip x -skip y a 1 'OK %d'\n"},
		{name: "option_unknown", want: "usage: recvmany", script: "connect a\nrecvmany -fast 1 a 1 'OK %d'\n"},
		// -skip.
		{name: "skip", pass: true, want: "skipped 2 lines matching", script: "connect a\nsendmany a 'JOIN #r x' 'OK 1' 'LEAVE #r x' 'OK 2'\nrecvmany -skip '^(JOIN|LEAVE) #r x$' a 2 'OK %d'\n"},
		{name: "skip_no_match", want: `nor does it match -skip "^JOIN "`, script: "connect a\nsendmany a 'OK 1' 'PONG x' 'OK 2'\nrecvmany -skip '^JOIN ' a 2 'OK %d'\n"},
		{name: "skip_grammar", want: "GRAM-6", script: "connect a\nsendmany a 'HELLO x' 'OK 1'\nrecvmany -skip '^HELLO' a 1 'OK %d'\n"},
		{name: "skip_not_expected", pass: true, script: "connect a\nsendmany a 'OK 1' 'OK 2'\nrecvmany -skip '^OK' a 2 'OK %d'\nquiet a\n"},
		{name: "skip_after_also", pass: true, script: "connect a\nsendmany a 'ERROR x' 'OK 1'\nrecvmany -skip '^ERROR' -also 'ERROR x' a 1 'OK %d'\nquiet a\n"},
		{name: "skip_expanded", pass: true, script: "connect a\nsendmany a 'JOIN #r$U x' 'OK 1'\nrecvmany -skip '^JOIN #r$U ' a 1 'OK %d'\n"},
		// -rate.
		{name: "rate_many_late", pass: true, script: "connect a\nfloodsend -rate 1e6 a 3000 'OK %d'\nrecvmany a 3000 'OK %d'\n"},
		{name: "rate_fraction", pass: true, script: "connect a\nfloodsend -rate 0.5 a 1 'OK %d'\nrecvmany a 1 'OK %d'\n"},
		{name: "rate_zero", want: "bad rate", script: "connect a\nfloodsend -rate 0 a 1 'OK %d'\n"},
		{name: "rate_word", want: "bad rate", script: "connect a\nfloodsend -rate fast a 1 'OK %d'\n"},
		{name: "rate_hangup", want: "the client closed its connection", script: "connect a\nfloodsend -bg -rate 0.01 a 3 'OK %d'\nrecv a 'OK 1'\ndisconnect a\nfloodwait a\n"},
		// closed -reset.
		{name: "reset", addr: resetter, pass: true, script: "connect a\nsend a go\nclosed -reset -skip '^OK [12]$' a\n"},
		{name: "reset_plain", addr: resetter, pass: true, script: "connect a\nsend a go\nclosed -skip '^OK [12]$' a\n"},
		{name: "reset_not_skipped", addr: resetter, want: "want the connection closed, got a line first", script: "connect a\nsend a go\nrecv a 'OK 1'\nclosed -reset a\n"},
		{name: "reset_eof", want: "closed the connection gracefully", script: "connect a\nhalfclose a\nclosed -reset a\n"},
		{name: "reset_eof_rule", want: "LIMIT-8", script: "connect a\nsend a 'OK bye'\nhalfclose a\nclosed -skip '^OK bye$' -reset a\n"},
		// ! stays refused.
		{name: "floodsend_neg", want: "floodsend does not support !", script: "connect a\n! floodsend -rate 1 a 1 'OK %d'\n"},
		{name: "recvmany_neg", want: "recvmany does not support !", script: "connect a\n! recvmany -skip x a 1 'OK %d'\n"},
		{name: "closed_neg", want: "closed does not support !", script: "connect a\n! closed -reset a\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.addr
			if addr == "" {
				addr = echo
			}
			res := runVerbose(t, addr, "cmd_"+tc.name, header+tc.script)
			if tc.pass != (res.Status == Pass) {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if tc.want != "" && !strings.Contains(res.Log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, res.Log)
			}
		})
	}
}

// TestFloodRate checks that floodsend -rate paces a flood, in the
// foreground and in the background. Only a lower bound on the time taken
// is checked: a loaded machine may take longer.
func TestFloodRate(t *testing.T) {
	echo := startEcho(t)
	for _, tc := range []struct{ name, script string }{
		{"fg", "connect a\nfloodsend -rate 20 a 6 'OK %d'\nrecvmany a 6 'OK %d'\n"},
		{"bg", "connect a\nfloodsend -bg -rate 20 a 6 'OK %d'\nfloodwait a\nrecvmany a 6 'OK %d'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			res := runText(t, echo, "rate_"+tc.name, header+tc.script)
			if res.Status != Pass {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if d, least := time.Since(start), 5*time.Second/20; d < least {
				t.Errorf("6 rounds at 20 a second took %v, less than %v", d, least)
			}
		})
	}
}

// TestFloodRecord checks the send times a flood records: with a rate, when
// each round was due; without, one time per chunk written.
func TestFloodRecord(t *testing.T) {
	echo := startEcho(t)
	c, err := Dial(echo, "a", NewTranscript(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.shutdown()

	t.Run("paced", func(t *testing.T) {
		const rate = 50.0
		f := newFlood(5, []string{"OK %d"}, rate)
		before := time.Now()
		if err := c.writeFlood(f, time.Second); err != nil {
			t.Fatal(err)
		}
		if d, least := time.Since(before), 4*time.Second/rate; d < least {
			t.Errorf("5 rounds at %v a second took %v, less than %v", rate, d, least)
		}
		sent := f.rec.sent
		if len(sent) != 5 || sent[0].Before(before) {
			t.Fatalf("recorded %v, want 5 times from %v", sent, before)
		}
		for i, at := range sent {
			if got, want := at.Sub(sent[0]), time.Duration(float64(i)*float64(time.Second)/rate); got != want {
				t.Errorf("round %d recorded %v after round 1, want %v (when it was due)", i+1, got, want)
			}
		}
	})

	t.Run("chunked", func(t *testing.T) {
		// Rounds of 1 KiB: 16 of them to a chunk.
		f := newFlood(50, []string{"OK %d " + strings.Repeat("x", 1018)}, 0)
		before := time.Now()
		if err := c.writeFlood(f, time.Second); err != nil {
			t.Fatal(err)
		}
		sent := f.rec.sent
		if len(sent) != 50 {
			t.Fatalf("recorded %d times, want 50", len(sent))
		}
		for i := range sent {
			switch {
			case sent[i].Before(before):
				t.Errorf("round %d recorded before the flood began", i+1)
			case i > 0 && sent[i].Before(sent[i-1]):
				t.Errorf("round %d recorded before round %d", i+1, i)
			case i > 0 && f.starts[i]/floodChunk == f.starts[i-1]/floodChunk && !sent[i].Equal(sent[i-1]):
				t.Errorf("rounds %d and %d begin in one chunk, but were recorded at different times", i, i+1)
			}
		}
	})
}
