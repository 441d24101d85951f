package conformance

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The scripts of the timing rules (LIMIT-4 WriteTimeout, LIMIT-7
// IdleTimeout, LIMIT-11 the rate limit) bound each timeout from below and
// from above, with seconds of slack. These tests give them servers whose
// timing is off, and require every script of the rule to fail.

// TestTeethTimeouts runs the timing scripts against the reference server
// told other values than the scripts ask for: twice the idle timeout or a
// quarter of it, four times the rate or half of it, three times the write
// timeout or a hundredth of it (a server that drops a client as soon as
// its socket blocks). A loaded machine only makes a server seem slower,
// so the values that make it faster are the more extreme: the script must
// fail however late the machine delivers. The scripts mostly wait, so
// every run goes at once.
//
// A script that passes against such a server gets two more tries: a
// machine loaded enough can still hide the early answer (the flood of
// limit_write_timeout has to fill the server's socket buffers before the
// early drop can happen, and that takes as long as the machine makes it).
// What the test asks is that the script can tell; one that passes three
// times in a row cannot.
func TestTeethTimeouts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs timing scripts for seconds each")
	}
	start := referenceServer(t, "")
	scripts := loadSuite(t)
	idle := "limit_idle_timeout|limit_idle_partial|limit_idle_ping|limit_idle_overlong"
	rate := "limit_rate_bucket|limit_rate_every_line"
	cases := []struct {
		flag    string
		factor  float64
		scripts string // a regexp
		want    int    // how many scripts it selects
	}{
		{"-idle-timeout", 2, idle, 4},
		{"-idle-timeout", 0.25, idle, 4},
		{"-line-rate", 4, rate, 2},
		{"-line-rate", 0.5, rate, 2},
		{"-write-timeout", 3, "limit_write_timeout", 1},
		{"-write-timeout", 0.01, "limit_write_timeout", 1},
	}
	var wg sync.WaitGroup
	for _, tc := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scaled := func(flags []string) (Server, error) { return start(scaleFlag(t, flags, tc.flag, tc.factor)) }
			run := tc.scripts
			for try := 1; ; try++ {
				passed := runTeeth(t, Config{Start: scaled, Scripts: scripts, Run: regexp.MustCompile("^(" + run + ")$"), Parallel: tc.want}, try == 1, tc.want, fmt.Sprintf("%s ×%g", tc.flag, tc.factor))
				if len(passed) == 0 {
					return
				}
				for _, res := range passed {
					verdict := fmt.Sprintf("%s %s against chatd whose %s is %g times what the script asks (try %d of %d); want FAIL", res.Status, res.Script.Name, tc.flag, tc.factor, try, teethTries)
					if try == teethTries {
						t.Errorf("%s\n%s", verdict, Details(res))
					} else {
						t.Log(verdict)
					}
				}
				if try == teethTries {
					return
				}
				run = scriptNames(passed)
			}
		}()
	}
	wg.Wait()
}

// teethTries is how many times TestTeethTimeouts runs a script that
// passes against a server whose timing is off before it fails.
const teethTries = 3

// runTeeth runs the scripts cfg selects, against a server whose timing is
// off as what says, checking with count that there are want of them, and
// returns the results that are not failures.
func runTeeth(t *testing.T, cfg Config, count bool, want int, what string) []Result {
	r, err := NewRunner(cfg)
	if err != nil {
		t.Error(err)
		return nil
	}
	defer r.Close()
	if n := len(r.Selected()); count && n != want {
		t.Errorf("%s selects %d scripts, want %d", cfg.Run, n, want)
	}
	var passed []Result
	for _, res := range r.RunAll(nil) {
		if res.Status != Fail {
			passed = append(passed, res)
		} else if testing.Verbose() {
			t.Logf("%s with %s: %s", res.Script.Name, what, firstFailure(res.Log))
		}
	}
	return passed
}

// scriptNames returns the names of the results' scripts as alternatives
// of a regexp.
func scriptNames(results []Result) string {
	names := make([]string, len(results))
	for i, res := range results {
		names[i] = regexp.QuoteMeta(res.Script.Name)
	}
	return strings.Join(names, "|")
}

// firstFailure returns the line of a script's log that says why it failed.
func firstFailure(log string) string {
	for line := range strings.Lines(log) {
		if strings.Contains(line, "FAIL:") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// scaleFlag multiplies the value of flag in flags (a duration or a number)
// by factor. The flag must be there.
func scaleFlag(t *testing.T, flags []string, flag string, factor float64) []string {
	t.Helper()
	out := append([]string(nil), flags...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] != flag {
			continue
		}
		if d, err := time.ParseDuration(out[i+1]); err == nil {
			out[i+1] = time.Duration(float64(d) * factor).String()
		} else if f, err := strconv.ParseFloat(out[i+1], 64); err == nil {
			out[i+1] = strconv.FormatFloat(f*factor, 'g', -1, 64)
		} else {
			t.Fatalf("%s %s: neither a duration nor a number", flag, out[i+1])
		}
		return out
	}
	t.Fatalf("no %s among the script's server flags %q", flag, flags)
	return nil
}

// runOne runs the script called name of cfg's suite and returns its result.
func runOne(t *testing.T, cfg Config, name string) Result {
	t.Helper()
	cfg.Run = regexp.MustCompile("^" + name + "$")
	r, err := NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sel := r.Selected()
	if len(sel) != 1 {
		t.Fatalf("no script %s", name)
	}
	return r.RunScript(sel[0])
}

// TestTeethIdleBytes: a server whose idle clock any byte restarts, rather
// than a complete line (LIMIT-7), fails limit_idle_partial; the same server
// counting lines only passes it, so that nothing else fails it. The server
// is a stand-in that knows USERNAME, PING and the idle timeout, no more.
func TestTeethIdleBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a timing script for seconds")
	}
	scripts := loadSuite(t)
	for _, tc := range []struct {
		name    string
		byBytes bool
		want    Status
	}{
		{"lines", false, Pass},
		{"bytes", true, Fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := func(flags []string) (Server, error) { return startIdleServer(flags, tc.byBytes) }
			res := runOne(t, Config{Start: start, Scripts: scripts, Tags: []string{"core", "ping", "limits"}}, "limit_idle_partial")
			if res.Status != tc.want {
				t.Errorf("%s limit_idle_partial against a server whose idle clock %s restart; want %s\n%s", res.Status, tc.name, tc.want, Details(res))
			}
		})
	}
}

// idleServer is a stand-in server for the idle timeout alone: it answers
// USERNAME NAME with OK Welcome, NAME!, PING TOKEN with PONG TOKEN, QUIT
// with OK Goodbye! and a close, and closes a connection with ERROR Idle
// timeout once -idle-timeout has passed without a complete line or, with
// byBytes, without any byte.
type idleServer struct {
	ln      net.Listener
	idle    time.Duration
	byBytes bool
	wg      sync.WaitGroup
}

func startIdleServer(flags []string, byBytes bool) (*idleServer, error) {
	s := &idleServer{idle: time.Hour, byBytes: byBytes}
	for i := 0; i+1 < len(flags); i++ {
		if flags[i] == "-idle-timeout" {
			d, err := time.ParseDuration(flags[i+1])
			if err != nil {
				return nil, err
			}
			s.idle = d
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	return s, nil
}

func (s *idleServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var line []byte
	c.SetReadDeadline(time.Now().Add(s.idle))
	for {
		b, err := r.ReadByte()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				c.Write([]byte("ERROR Idle timeout\r\n"))
			}
			return
		}
		if s.byBytes {
			c.SetReadDeadline(time.Now().Add(s.idle))
		}
		if b != '\n' {
			line = append(line, b)
			continue
		}
		c.SetReadDeadline(time.Now().Add(s.idle))
		text := strings.TrimSuffix(string(line), "\r")
		line = line[:0]
		switch {
		case strings.HasPrefix(text, "USERNAME "):
			c.Write([]byte("OK Welcome, " + strings.TrimPrefix(text, "USERNAME ") + "!\r\n"))
		case text == "PING":
			c.Write([]byte("PONG\r\n"))
		case strings.HasPrefix(text, "PING "):
			c.Write([]byte("PONG " + strings.TrimPrefix(text, "PING ") + "\r\n"))
		case text == "QUIT":
			c.Write([]byte("OK Goodbye!\r\n"))
			return
		}
	}
}

func (s *idleServer) Addr() string    { return s.ln.Addr().String() }
func (s *idleServer) Shutdown() error { return s.ln.Close() }
func (s *idleServer) Log() string     { return "" }
func (s *idleServer) Stop() error {
	s.ln.Close()
	return nil
}
