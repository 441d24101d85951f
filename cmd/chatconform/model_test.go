package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/spec"
)

// startReference starts the reference server in this process.
func startReference(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Both extensions of PROTOCOL.md 13, in memory, with cheap hashes:
	// chatconform tests every tag unless told otherwise.
	srv := impl.New(impl.Config{Offer: spec.AllExt, Argon2: passwd.Cheap})
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// startEchoDropper starts a proxy in front of the server at upstream that
// drops the echo of every client's own room messages, as a server that
// breaks MSG-2 would, and returns its address.
func startEchoDropper(t *testing.T, upstream string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go dropEchoes(c, upstream)
		}
	}()
	return ln.Addr().String()
}

// dropEchoes relays one connection, without the ROOM lines of the
// client's own messages.
func dropEchoes(c net.Conn, upstream string) {
	defer c.Close()
	s, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer s.Close()
	go func() {
		io.Copy(s, c)
		s.(*net.TCPConn).CloseWrite() // the client's end of stream, or its reset, ends the server's input
	}()
	r := bufio.NewReader(s)
	name := ""
	for {
		line, err := r.ReadString('\n')
		l := strings.TrimRight(line, "\r\n")
		if n, ok := strings.CutPrefix(l, "OK Welcome, "); ok {
			name = strings.TrimSuffix(n, "!")
		}
		if f := strings.Fields(l); name == "" || len(f) < 3 || f[0] != "ROOM" || f[2] != name {
			c.Write([]byte(line))
		}
		if err != nil {
			return
		}
	}
}

// TestModelFailureReport checks what -model prints for a server that
// breaks a rule: one report, which names the rule, shows a shrunk sequence
// and no noise of rapid's, and a command that runs the failing sequence
// again as printed.
func TestModelFailureReport(t *testing.T) {
	addr := startEchoDropper(t, startReference(t))
	dir := t.TempDir()
	code, out, errOut := chatconform("-addr", addr, "-run", "^$", "-model", "20", "-seed", "1", "-tags", "core,ping,input", "-save-failures", dir)
	if code != exitFail {
		t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, out, errOut)
	}
	t.Logf("%s", out)
	fail := regexp.MustCompile(`(?m)^FAIL  model \([0-9.]+s\): (.*)$`).FindAllStringSubmatch(out, -1)
	if len(fail) != 1 || !strings.HasPrefix(fail[0][1], "MSG-2: ") {
		t.Fatalf("want one FAIL line blaming MSG-2:\n%s", out)
	}
	for _, once := range []string{"transcript of ", "the model expected", "to run this sequence again: "} {
		if n := strings.Count(out, once); n != 1 {
			t.Errorf("%q %d times in the report, want once:\n%s", once, n, out)
		}
	}
	for _, noise := range []string{"[rapid]", "rapid.seed", "draw", "no client in that state"} {
		if strings.Contains(out, noise) {
			t.Errorf("the report has %q:\n%s", noise, out)
		}
	}
	steps := regexp.MustCompile(`shrunk to (\d+) steps`).FindStringSubmatch(out)
	if steps == nil || len(steps[1]) > 1 {
		t.Errorf("want a sequence shrunk to a few steps:\n%s", out)
	}
	if lines := strings.Count(out, "\n"); lines > 60 {
		t.Errorf("the report has %d lines:\n%s", lines, out)
	}
	script, err := os.ReadFile(filepath.Join(dir, "model_failure.txtar"))
	if err != nil || !strings.Contains(string(script), "# rules: MSG-2\n") {
		t.Errorf("saved script (%v):\n%s", err, script)
	}

	// The command runs the same sequence first, and fails as it did.
	_, cmd, _ := strings.Cut(out, "to run this sequence again: ")
	cmd, _, _ = strings.Cut(cmd, "\n")
	args := shellFields(cmd)
	if len(args) < 2 || args[0] != "chatconform" {
		t.Fatalf("not a chatconform command: %q", cmd)
	}
	code, again, errOut := chatconform(args[1:]...)
	if code != exitFail {
		t.Fatalf("%s: exit %d\n%s%s", cmd, code, again, errOut)
	}
	if !strings.Contains(again, fail[0][0][strings.Index(fail[0][0], ": ")+2:]) || !strings.Contains(again, "sequence 1 (seed ") {
		t.Errorf("%s does not fail as the run did:\n%s\nthe run:\n%s", cmd, again, out)
	}
}

// shellFields splits a command line as a POSIX shell would, for the
// quoting chatconform writes: words separated by spaces, 'single quotes'.
func shellFields(s string) []string {
	var fields []string
	var b strings.Builder
	in, word := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			in, word = !in, true
		case r == ' ' && !in:
			if word {
				fields = append(fields, b.String())
			}
			b.Reset()
			word = false
		default:
			b.WriteRune(r)
			word = true
		}
	}
	if word {
		fields = append(fields, b.String())
	}
	return fields
}

// TestModelCoverage checks that -model says how many situations of the
// rules its sequences reached, and with -v prints the table of them.
func TestModelCoverage(t *testing.T) {
	addr := startReference(t)
	code, out, errOut := chatconform("-addr", addr, "-run", "^$", "-model", "5", "-seed", "1")
	if code != exitPass || !regexp.MustCompile(`PASS  model .*5 random sequences, \d+ steps; \d+ of \d+ rule situations reached`).MatchString(out) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, "rule coverage of") {
		t.Errorf("the table without -v:\n%s", out)
	}
	code, out, errOut = chatconform("-addr", addr, "-run", "^$", "-model", "5", "-seed", "1", "-v")
	if code != exitPass || !strings.Contains(out, "rule coverage of 5 sequences") || !regexp.MustCompile(`(?m)^\s+JOIN-6\s+\d+  JOIN into a room that had over 10 messages`).MatchString(out) {
		t.Fatalf("-v: exit %d\n%s%s", code, out, errOut)
	}
}
