package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"roomchat.dev/roomchat/conformance"
)

// header is the header of a test script.
const header = "# tags: core\n# rules: USER-1\n\n"

// startGreeter starts a server that answers USERNAME NAME with
// OK Welcome, NAME! and PING TOKEN with PONG TOKEN, closes the connection
// after QUIT, and ignores every other line: enough for the pre-flight and
// the test scripts.
func startGreeter(t *testing.T) string {
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
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					line := strings.TrimSuffix(sc.Text(), "\r")
					if name, ok := strings.CutPrefix(line, "USERNAME "); ok {
						c.Write([]byte("OK Welcome, " + name + "!\r\n"))
					}
					if token, ok := strings.CutPrefix(line, "PING "); ok {
						c.Write([]byte("PONG " + token + "\r\n"))
					}
					if line == "QUIT" {
						c.Write([]byte("OK Goodbye!\r\n"))
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// TestRun runs the chatconform command against a server that knows
// USERNAME only.
func TestRun(t *testing.T) {
	addr := startGreeter(t)
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("user_ok.txtar", header+"connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n")
	write("user_bad.txtar", header+"connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Bienvenue, a$U!'\n")
	write("user_fresh.txtar", "# tags: core\n# rules: USER-1\n# server: -max-clients 3\nconnect a\n")
	write("user_limits.txtar", "# tags: limits\n# rules: LIMIT-1\nconnect a\n")
	chatconform := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(append([]string{"-dir", dir, "-timeout", "500ms"}, args...), &out, &errOut)
		return code, out.String() + errOut.String()
	}

	code, out := chatconform("-addr", addr)
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "2 passed, 1 failed, 1 skipped, 0 expected failures" {
		t.Errorf("summary %q\n%s", last, out)
	}
	for _, want := range []string{"PASS  user_ok", "FAIL  user_bad", "SKIP  user_fresh", "needs a server of its own started with -max-clients 3", "transcript", "to reproduce: -seed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A manifest turns the failure into XFAIL; a deviation that passes is XPASS.
	manifest := filepath.Join(dir, "manifest")
	os.WriteFile(manifest, []byte("implements ping\ndeviation user_bad we greet in French\n"), 0o644)
	code, out = chatconform("-addr", addr, "-manifest", manifest)
	if code != 0 || !strings.Contains(out, "XFAIL user_bad") || !strings.Contains(out, "UNIMPLEMENTED user_limits") ||
		!strings.HasSuffix(strings.TrimSpace(out), "1 passed, 0 failed, 1 unimplemented, 1 skipped, 1 expected failure") {
		t.Errorf("with manifest: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "needs the limits extension, which the manifest does not declare") {
		t.Errorf("no manifest skip reason:\n%s", out)
	}
	os.WriteFile(manifest, []byte("deviation user_ok something\n"), 0o644)
	code, out = chatconform("-addr", addr, "-manifest", manifest, "-run", "user_(ok|limits)")
	if !strings.Contains(out, "PASS  user_limits") {
		t.Errorf("a manifest without implements restricted the tags:\n%s", out)
	}
	if code != 1 || !strings.Contains(out, "XPASS user_ok") || !strings.Contains(out, "update the manifest") {
		t.Errorf("XPASS: exit %d\n%s", code, out)
	}

	// JSON lines and JUnit XML.
	junit := filepath.Join(dir, "junit.xml")
	code, out = chatconform("-addr", addr, "-json", "-junit", junit, "-save-failures", filepath.Join(dir, "failures"))
	if code != 1 {
		t.Errorf("json: exit %d", code)
	}
	var n int
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Errorf("not JSON: %q", l)
		}
		n++
	}
	if n != 5 { // 4 results and the summary
		t.Errorf("%d JSON lines, want 4 results and a summary:\n%s", n, out)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil || len(suites.Suites) != 1 || suites.Suites[0].Failures != 1 || suites.Suites[0].Tests != 4 {
		t.Errorf("junit: %v %+v", err, suites)
	}
	if _, err := os.Stat(filepath.Join(dir, "failures", "user_bad.log")); err != nil {
		t.Errorf("-save-failures: %v", err)
	}

	// A program that does not exist cannot be tested.
	code, out = chatconform("-exec", "nosuchprogram-xyz {port}", "-run", "user_ok")
	if code != 3 || !strings.Contains(out, "cannot start the server") {
		t.Errorf("-exec with a missing program: exit %d\n%s", code, out)
	}

	// Usage errors.
	if code, out := chatconform(); code != 2 {
		t.Errorf("no target: exit %d\n%s", code, out)
	}
	if code, out := chatconform("-addr", addr, "-exec", "x {port}"); code != 2 {
		t.Errorf("both targets: exit %d\n%s", code, out)
	}
	if code, out := chatconform("-exec", "chatd"); code != 2 || !strings.Contains(out, "{port}") {
		t.Errorf("-exec without {port}: exit %d\n%s", code, out)
	}
}

// TestCoverageCommand checks -coverage without a server: the built-in
// suite checks every requirement by two means at least, and the report
// counts the means of each.
func TestCoverageCommand(t *testing.T) {
	var out bytes.Buffer
	code := run([]string{"-coverage"}, &out, &out)
	n := len(conformance.Requirements)
	if want := fmt.Sprintf("%d of %d requirements covered; %d checked by at least 2 means", n, n, n); code != 0 || !strings.Contains(out.String(), want) {
		t.Errorf("exit %d, want 0 and %q\n%s", code, want, out.String())
	}
	for _, bad := range []string{"NOT COVERED", "ONLY ONE MEANS"} {
		if strings.Contains(out.String(), bad) {
			t.Errorf("%s in the report:\n%s", bad, out.String())
		}
	}
	for _, want := range []string{
		`(?m)^JOIN-4 +\[core\] +\d+ means: \d+ scripts \+ model checker \+ transcripts: \S+`,
		`(?m)^LIMIT-11 +\[ratelimit\] +\d+ means: \d+ scripts: \S+ \S+`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("the report lacks a line matching %s:\n%s", want, out.String())
		}
	}
}

// TestVersion: -version prints one line naming the program, and exits 0
// without a server.
func TestVersion(t *testing.T) {
	code, stdout, stderr := chatconform("-version")
	if code != exitPass || !strings.HasPrefix(stdout, "chatconform ") || strings.Count(stdout, "\n") != 1 || stderr != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestRunModel runs -model against the reference server, built from this
// module, which must agree with the model.
func TestRunModel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/chatd")
	}
	bin := filepath.Join(t.TempDir(), "chatd")
	if out, err := exec.Command("go", "build", "-o", bin, "roomchat.dev/roomchat/cmd/chatd").CombinedOutput(); err != nil {
		t.Skipf("cmd/chatd does not build:\n%s", out)
	}
	var out bytes.Buffer
	code := run([]string{"-exec", bin + " -addr {addr}", "-run", "^$", "-skip-tags", "durable", "-model", "3", "-seed", "1"}, &out, &out)
	if code != 0 || !strings.Contains(out.String(), "PASS  model") || !strings.Contains(out.String(), "3 random sequences") {
		t.Errorf("exit %d\n%s", code, out.String())
	}
	out.Reset()
	code = run([]string{"-exec", bin + " -addr {addr}", "-run", "^$", "-skip-tags", "durable", "-model", "3", "-json"}, &out, &out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if code != 0 || len(lines) != 2 || !strings.Contains(lines[0], `"script":"model","status":"PASS"`) {
		t.Errorf("-json: exit %d\n%s", code, out.String())
	}
	out.Reset()
	code = run([]string{"-exec", bin + " -addr {addr}", "-run", "^$", "-concurrent", "4", "-histories", "5", "-seed", "1"}, &out, &out)
	if code != 0 || !strings.Contains(out.String(), "PASS  concurrent") || !strings.Contains(out.String(), "5 concurrent histories of 4 clients") {
		t.Errorf("-concurrent: exit %d\n%s", code, out.String())
	}
}

// TestConcurrentFailure: -concurrent against a broken server reports the
// shrunk program, the transcripts and why no order explains them, and
// -save-failures keeps the timeline. The bug is one that a lane shows on
// its own (a JOIN of its own room, answered with the wrong text), so that
// some history finds it however the lanes interleave: with ROOMLIST in
// reverse order, which only an order of room creations that no
// interleaving explains reveals, a loaded machine once ran all 40
// histories without finding it.
func TestConcurrentFailure(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/chatconform")
	}
	bin := filepath.Join(t.TempDir(), "chatconform")
	if out, err := exec.Command("go", "build", "-o", bin, "roomchat.dev/roomchat/cmd/chatconform").CombinedOutput(); err != nil {
		t.Skipf("cmd/chatconform does not build:\n%s", out)
	}
	dir := t.TempDir()
	var out bytes.Buffer
	code := run([]string{"-exec", bin + " -serve-model -addr {addr} -bug already-in-room-text", "-run", "^$", "-concurrent", "2", "-histories", "40",
		"-seed", "1", "-save-failures", dir}, &out, &out)
	for _, want := range []string{"FAIL  concurrent", "shrunk program", "transcripts:", `would send`, "timeline: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "concurrent-*.html"))
	scripts, _ := filepath.Glob(filepath.Join(dir, "concurrent-*.txtar"))
	if code != exitFail || len(files) != 1 || len(scripts) != 1 {
		t.Fatalf("exit %d, timelines %v, scripts %v\n%s", code, files, scripts, out.String())
	}
	// The replay script is a valid script, and a correct server passes it.
	// (Whether it fails the broken one depends on the order the server
	// takes its lines in this time.)
	name := strings.TrimSuffix(filepath.Base(scripts[0]), ".txtar")
	out.Reset()
	code = run([]string{"-exec", bin + " -serve-model -addr {addr}", "-dir", dir, "-run", "^" + name + "$"}, &out, &out)
	if code != exitPass || !strings.Contains(out.String(), "PASS  "+name) {
		t.Errorf("replay against the correct model: exit %d\n%s", code, out.String())
	}
}
