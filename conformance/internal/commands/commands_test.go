package commands_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/internal/commands"
	"roomchat.dev/roomchat/conformance/internal/modelserver"
)

// The commands are tested as scripts use them: run by the conformance
// runner against small servers that break the protocol on purpose (an echo
// server, one that holds lines back, one that resets) and against the model
// server.

// header is the header of a test script.
const header = "# tags: core\n# rules: USER-1\n\n"

// runScript runs one script text against addr and returns its result,
// with the log of a passing script too if verbose.
func runScript(t *testing.T, addr, name, text string, verbose bool) conformance.Result {
	t.Helper()
	scripts, err := conformance.LoadScripts(fstest.MapFS{name + ".txtar": {Data: []byte(text)}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := conformance.NewRunner(conformance.Config{Addr: addr, Scripts: scripts, Timeout: 300 * time.Millisecond, Tags: []string{"core"}, Verbose: verbose})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.RunScript(scripts[0])
}

// runText runs one script text against addr and returns its result.
func runText(t *testing.T, addr, name, text string) conformance.Result {
	t.Helper()
	return runScript(t, addr, name, text, false)
}

// runVerbose is runText keeping the log of a passing script too.
func runVerbose(t *testing.T, addr, name, text string) conformance.Result {
	t.Helper()
	return runScript(t, addr, name, text, true)
}

// startModelServer starts a model server with flags for the whole test and
// returns its address.
func startModelServer(t *testing.T, flags ...string) string {
	t.Helper()
	srv, err := modelserver.Start(flags, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv.Addr()
}

// startEcho starts a server that answers every line with the same line:
// the simplest wrong server, which lets the commands be tested without a
// chat server.
func startEcho(t *testing.T) string {
	return startFake(t, func(c *net.TCPConn) {
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			c.Write([]byte(strings.TrimSuffix(sc.Text(), "\r") + "\r\n"))
		}
	})
}

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

func TestCommands(t *testing.T) {
	addr := startEcho(t)
	for _, tc := range []struct {
		name, script string
		pass         bool
		want         string // in the log
	}{
		{name: "recv", pass: true, script: "connect a\nsend a 'x y'\nrecv a 'x y'\n"},
		{name: "sendlf", pass: true, script: "connect a\nsendlf a 'lf'\nrecv a 'lf'\n"},
		{name: "neg_recv_differs", pass: true, script: "connect a\nsend a 'OK hi'\n! recv a 'OK bye'\n"},
		{name: "neg_recv_nothing", pass: true, script: "connect a\n! recv a bye\n"},
		{name: "neg_recv_same", want: "which it must not be", script: "connect a\nsend a 'OK hi'\n! recv a 'OK hi'\n"},
		{name: "neg_recv_malformed", want: "GRAM-6", script: "connect a\nsend a 'hi'\n! recv a 'OK bye'\n"},
		{name: "expect", pass: true, script: "connect a\nsend a 'ROOM #r u t'\nexpect a '^ROOM #\\w+ u t$'\n"},
		{name: "neg_expect", want: "matches", script: "connect a\nsend a 'OK x'\n! expect a '^OK'\n"},
		{name: "neg_send_refused", want: "send does not support !", script: "connect a\n! send a hi\n"},
		{name: "neg_quiet_refused", want: "quiet does not support !", script: "connect a\n! quiet a\n"},
		{name: "timeout", want: "no line arrived within", script: "connect a\nrecv a 'OK'\n"},
		{name: "grammar", want: "GRAM-6", script: "connect a\nsend a 'HELLO there'\nexpect a '^HELLO'\n"},
		{name: "grammar_note", want: "unknown line word", script: "connect a\nsend a 'HELLO there'\nrecv a 'OK'\n"},
		{name: "sendraw_repeat", pass: true, script: "connect a\nsendraw a 'OK \\x{3}\\r\\n'\nrecv a 'OK xxx'\n"},
		{name: "sendlong", pass: true, script: "connect a\nsendlong -prefix 'OK ' a 5\nrecv a 'OK xxxxx'\n"},
		{name: "sendmany", pass: true, script: "connect a\nsendmany a 'OK 1' 'OK 2'\nrecvmany a 2 'OK %d'\n"},
		{name: "sendsplit", pass: true, script: "connect a\nsendsplit a 'OK split'\nrecv a 'OK split'\n"},
		{name: "floodsend", pass: true, script: "connect a\nfloodsend a 500 'OK %d'\nrecvmany a 500 'OK %d'\n"},
		{name: "recvmany_also", pass: true, script: "connect a\nsendmany a 'OK 1' 'ERROR x' 'OK 2'\nrecvmany -also 'ERROR x' a 2 'OK %d'\n"},
		{name: "recvmany_wrong", want: "line 2 of 3 differs", script: "connect a\nsendmany a 'OK 1' 'OK 3' 'OK 2'\nrecvmany a 3 'OK %d'\n"},
		{name: "recvmerge", pass: true, script: "connect a b\nsendmany a 'OK a1' 'OK b1' 'OK a2'\nsendmany b 'OK a1' 'OK b1' 'OK a2'\nrecvmerge a,b 2 'OK a%d' 1 'OK b%d'\n"},
		{name: "recvmerge_orders_differ", want: "different orders", script: "connect a b\nsendmany a 'OK a1' 'OK b1'\nsendmany b 'OK b1' 'OK a1'\nrecvmerge a,b 1 'OK a%d' 1 'OK b%d'\n"},
		{name: "quiet_without_ping", pass: true, script: "connect a\nquiet a\n"},
		{name: "quiet_unread", want: "want nothing more", script: "connect a\nsend a 'OK'\nsleep 50ms\nquiet a\n"},
		{name: "closed_needs_close", want: "did not close", script: "connect a\nclosed a\n"},
		{name: "halfclose_closed", pass: true, script: "connect a\nsend a 'OK bye'\nhalfclose a\nclosed -skip '^OK bye$' a\n"},
		{name: "shutdown_needs_server", want: "needs a server started", script: "shutdown\n"},
		{name: "unknown_client", want: `no client called "z"`, script: "recv z 'OK'\n"},
		{name: "u_is_six", pass: true, script: "connect a\nsend a 'OK $U'\nexpect a '^OK [a-z0-9]{6}$'\n"},
		{name: "literal_dollar", pass: true, script: "connect a\nsend a 'OK $$5'\nrecv a 'OK $$5'\n"},
		{name: "recvrooms_unsorted", want: "not sorted", script: "connect a\nsend a 'ROOMLIST #b #a'\nrecvrooms a\n"},
		{name: "recvrooms_mine", pass: true, script: "connect a\nsend a 'ROOMLIST #a #b$U #zz'\nrecvrooms a '#b$U'\n"},
		{name: "connect_refused", pass: true, script: "env ADDR=127.0.0.1:1\n! connect a\n"},
		{name: "connect_rcvbuf", pass: true, script: "connect -rcvbuf 8192 a b\nsend a 'OK x'\nrecv a 'OK x'\nsend b 'OK y'\nrecv b 'OK y'\nquiet a b\n"},
		{name: "connect_rcvbuf_transcript", want: "a: connected, with a receive buffer of 8192 bytes", script: "connect -rcvbuf 8192 a\nrecv a 'OK x'\n"},
		{name: "connect_rcvbuf_zero", want: "want a positive number of bytes", script: "connect -rcvbuf 0 a\n"},
		{name: "await", pass: true, script: "connect a\nawait a 'OK x' 'OK x'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runText(t, addr, "cmd_"+tc.name, header+tc.script)
			if tc.pass != (res.Status == conformance.Pass) {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if tc.want != "" && !strings.Contains(res.Log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, res.Log)
			}
		})
	}
}

// TestLoadCommands checks the commands that put load on a server (the name
// ranges, sendeach, recveach, readrate, floodsend -bg and floodwait, the
// templates of floodsend and recvmany, recvmerge -any) against the echo
// server, and churn, which needs a chat server, against the model server.
func TestLoadCommands(t *testing.T) {
	echo := startEcho(t)
	modelAddr := startModelServer(t)
	full := startModelServer(t, "-max-clients", "1")
	for _, tc := range []struct {
		name, addr, script string
		pass               bool
		want               string // in the log
	}{
		{name: "range", pass: true, script: "connect 'a{1..3}'\nsendeach 'a{1..3}' 'OK %d'\nrecveach 'a{1..3}' 'OK %d'\nquiet 'a{1..3}'\n"},
		{name: "range_suffix", pass: true, script: "connect 'a{8..10}x' b\nsendeach 'a{8..10}x,b' 'OK %d'\nrecveach 'a{8..10}x,b' 'OK %d'\nquiet a9x b\n"},
		{name: "range_bad", want: "bad range", script: "connect 'a{3..1}'\n"},
		{name: "sendeach_raw", pass: true, script: "connect a b\nsendeach -raw a,b 'OK \\x{2}%d\\r\\n'\nrecveach a,b 'OK xx%d'\n"},
		{name: "sendeach_partial", pass: true, script: "connect a\nsendeach -raw a 'OK par'\nsendeach -raw a 'tial\\r\\n'\nrecv a 'OK partial'\n"},
		{name: "recveach_wrong", want: "recveach b: the next line differs", script: "connect a b\nsendeach a,b 'OK 1'\nrecveach a,b 'OK %d'\n"},
		{name: "sendeach_neg", want: "sendeach does not support !", script: "connect a\n! sendeach a 'OK'\n"},
		{name: "recveach_neg", want: "recveach does not support !", script: "connect a\n! recveach a 'OK'\n"},
		{name: "flood_templates", pass: true, script: "connect a\nfloodsend a 100 'OK a%d' 'OK b%d'\nrecvmany a 100 'OK a%d' 'OK b%d'\n"},
		{name: "recvmany_templates_wrong", want: "line 2 of 4 differs", script: "connect a\nsendmany a 'OK a1' 'OK a2' 'OK b1' 'OK b2'\nrecvmany a 2 'OK a%d' 'OK b%d'\n"},
		{name: "flood_bg", pass: true, script: "connect a\nfloodsend -bg a 3000 'OK %d'\nsend a 'OK end'\nfloodwait a\nrecvmany a 3000 'OK %d'\nrecv a 'OK end'\n"},
		{name: "flood_bg_twice", want: "already under way", script: "connect a\nfloodsend -bg a 10 'OK %d'\nfloodsend -bg a 10 'OK %d'\n"},
		{name: "floodwait_none", want: "no background flood", script: "connect a\nfloodwait a\n"},
		{name: "floodwait_neg", want: "floodwait does not support !", script: "connect a\n! floodwait a\n"},
		{name: "recvmerge_any", pass: true, script: "connect a b\nsendmany a 'OK x2' 'OK y1' 'OK x1'\nsendmany b 'OK x2' 'OK y1' 'OK x1'\nrecvmerge a,b -any 2 'OK x%d' 1 'OK y%d'\n"},
		{name: "recvmerge_any_twice", want: "not the next line of any stream", script: "connect a\nsendmany a 'OK x1' 'OK x1'\nrecvmerge a -any 2 'OK x%d'\n"},
		{name: "recvmerge_ordered", want: "not the next line of any stream", script: "connect a\nsendmany a 'OK x2' 'OK x1'\nrecvmerge a 2 'OK x%d'\n"},
		{name: "recvrooms_range", pass: true, script: "connect a\nsend a 'ROOMLIST #a10$U #a1$U #a2$U'\nrecvrooms a '#a{1..2}$U' '#a10$U'\n"},
		{name: "readrate", pass: true, script: "connect a\nreadrate a 2000\nsendmany a 'OK 1' 'OK 2' 'OK 3'\nrecvmany a 3 'OK %d'\nreadrate a 0\n"},
		{name: "readrate_neg", want: "readrate does not support !", script: "connect a\n! readrate a 0\n"},
		{name: "churn_neg", want: "churn does not support !", script: "! churn 1 a\n"},
		{name: "churn_usage", want: "usage: churn", script: "churn -quit -reset 1 a\n"},
		{name: "churn_refused_alone", want: "-refused takes no other option", script: "churn -refused -name 1 a\n"},
		{name: "churn_echo", want: `want "OK Welcome, n1!", got "USERNAME n1"`, script: "churn -name 1 n\n"},
		{name: "churn_model", addr: modelAddr, pass: true, script: "churn 20 'n$U-'\nchurn -name -quit 20 'q$U-'\nchurn -name -send 'MSG x' -reset 20 'r$U-'\nchurn -name -join '#c%d$U' 20 'j$U-'\nchurn -name -join '#c$U' -quit 20 'k$U-'\n"},
		{name: "churn_not_refused", addr: modelAddr, want: `want "ERROR Server full"`, script: "churn -refused 1 x\n"},
		{name: "churn_refused", addr: full, pass: true, script: "connect a\nquiet a\nchurn -refused 10 x\nsend a 'QUIT'\nrecv a 'OK Goodbye!'\nclosed a\nchurn -name -quit 5 'q$U-'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.addr
			if addr == "" {
				addr = echo
			}
			res := runText(t, addr, "cmd_"+tc.name, header+tc.script)
			if tc.pass != (res.Status == conformance.Pass) {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if tc.want != "" && !strings.Contains(res.Log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, res.Log)
			}
		})
	}
}

// TestTimingCommands checks floodsend -rate, recvmany -skip, -from, -within
// and -spread, closed -reset, mark and arrived: each option can fail, and
// can pass.
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
		// mark and arrived: the bounds are wide, so that only the side
		// under test can fail, however loaded the machine.
		{name: "arrived_line", pass: true, want: "arrived a: the line \"OK x\" arrived", script: "connect a\nmark t\nsend a 'OK x'\nrecv a 'OK x'\narrived -before 30s t a\n"},
		{name: "arrived_too_soon", want: "sooner than -after 30s", script: "connect a\nmark t\nsend a 'OK x'\nrecv a 'OK x'\narrived -after 30s t a\n"},
		{name: "arrived_too_late", addr: delayed, want: "not before -before 50ms", script: "connect a\nmark t\nsend a 'OK x'\nrecv a 'OK x'\narrived -after 10ms -before 50ms t a\n"},
		{name: "arrived_arrival_not_consumption", pass: true, script: "connect a\nmark t\nsend a 'OK x'\nsleep 1s\nrecv a 'OK x'\narrived -before 500ms t a\n"},
		{name: "arrived_end", addr: resetter, pass: true, want: "the end of the stream arrived", script: "connect a\nmark t\nsend a go\nclosed -skip '^OK [12]$' a\narrived -before 30s t a\n"},
		{name: "arrived_end_too_soon", addr: resetter, want: "the end of the stream arrived", script: "connect a\nmark t\nsend a go\nclosed -skip '^OK [12]$' a\narrived -after 30s t a\n"},
		{name: "arrived_nothing_consumed", want: "has consumed nothing from a yet", script: "connect a\nmark t\narrived -before 1s t a\n"},
		{name: "arrived_no_mark", want: `no stopwatch called "t"`, script: "connect a\nsend a 'OK x'\nrecv a 'OK x'\narrived -before 1s t a\n"},
		{name: "arrived_no_bound", want: "give -after, -before or both", script: "connect a\nmark t\narrived t a\n"},
		{name: "arrived_empty_bounds", want: "is not later than -after", script: "connect a\nmark t\narrived -after 2s -before 1s t a\n"},
		{name: "mark_own_names", pass: true, script: "connect a\nmark a\nsend a 'OK x'\nrecv a 'OK x'\narrived -before 30s a a\n"},
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
			if tc.pass != (res.Status == conformance.Pass) {
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
			if res.Status != conformance.Pass {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if d, least := time.Since(start), 5*time.Second/20; d < least {
				t.Errorf("6 rounds at 20 a second took %v, less than %v", d, least)
			}
		})
	}
}

// TestUsage checks the checks that come from the table: a command without
// a ! form refuses it, and a call with too few or too many arguments, or
// with options its synopsis does not have, fails with the synopsis.
func TestUsage(t *testing.T) {
	echo := startEcho(t)
	synopses, neg := commands.Synopses()
	type usageCase struct{ name, script, want string }
	var cases []usageCase
	for name, synopsis := range synopses {
		if strings.HasPrefix(name, "! ") || name == "restart" || name == "stoplog" {
			continue // restart and stoplog need a server of their own: TestRestart, TestParseClusterScript
		}
		if !neg[name] {
			cases = append(cases, usageCase{name + "_neg", "! " + name + " a b c\n", name + " does not support !"})
		}
		// Too few arguments, or one too many.
		min, max := commands.ArgCounts(name)
		n := min - 1
		if min == 0 {
			n = max + 1
		}
		args := strings.Repeat(" a", n)
		cases = append(cases, usageCase{name + "_args", name + args + "\n", "usage: " + synopsis + "\n"})
		if strings.HasPrefix(synopsis, name+" [-") {
			cases = append(cases, usageCase{name + "_option", name + " -nosuch" + strings.Repeat(" a", min) + "\n", "usage: " + synopsis + "\n"})
		}
	}
	cases = append(cases,
		usageCase{"connect_neg_range", "! connect 'a{1..2}'\n", "usage: ! connect NAME\n"},
		usageCase{"connect_neg_two", "! connect a b\n", "usage: ! connect NAME\n"},
		usageCase{"sendlong_lf_noterm", "connect a\nsendlong -lf -noterm a 1\n", "usage: sendlong [-prefix TEXT] [-lf | -noterm] NAME N\n"},
		usageCase{"closed_twice", "connect a\nclosed -reset -reset a\n", "closed: -reset given twice"},
		usageCase{"recvmerge_stream", "connect a\nrecvmerge a 1 'OK %d' -any 2\n", "usage: recvmerge NAME[,NAME]... [-any] COUNT TEMPLATE [[-any] COUNT TEMPLATE]...\n"},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runText(t, echo, "usage_"+tc.name, header+tc.script)
			if res.Status != conformance.Fail || !strings.Contains(res.Log, tc.want) {
				t.Errorf("status %s, want FAIL with %q\n%s", res.Status, tc.want, res.Log)
			}
		})
	}
}
