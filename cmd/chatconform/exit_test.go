package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Script bodies against the greeter of startGreeter.
const (
	passes = "connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n"
	fails  = "connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Bienvenue, a$U!'\n"
)

// scriptDir writes scripts (name -> rules and body, separated by a
// newline) into a new directory and returns it.
func scriptDir(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range scripts {
		rules, body, _ := strings.Cut(text, "\n")
		text = "# tags: core\n# rules: " + rules + "\n\n" + body
		if err := os.WriteFile(filepath.Join(dir, name+".txtar"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// chatconform runs the command with args and returns its exit status and
// what it wrote to stdout and to stderr.
func chatconform(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestPreflight checks that chatconform stops before any script, with one
// message and exit status 3, when the server cannot be tested, and with
// status 2 for an address that is not host:port.
func TestPreflight(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := scriptDir(t, map[string]string{"user_ok": "USER-1\n" + passes, "user_bad": "USER-1\n" + fails})
	web := httptest.NewServer(http.NotFoundHandler())
	defer web.Close()
	webAddr := strings.TrimPrefix(web.URL, "http://")
	greeter := startGreeter(t)
	// A port nothing listens on, taken after the servers above: the kernel
	// may hand a closed port out again at once, and it once gave this one
	// to the web server when it was taken first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	for _, tc := range []struct {
		name string
		args []string
		code int
		once string // in stderr, exactly once
	}{
		{"closed_port", []string{"-addr", closed}, exitUntestable, "connection refused"},
		{"no_port", []string{"-addr", "127.0.0.1"}, exitUsage, `address "127.0.0.1": missing port in address`},
		{"bad_port", []string{"-addr", "127.0.0.1:http"}, exitUsage, `port "http" is not a number`},
		{"http", []string{"-addr", webAddr}, exitUntestable, `to "PING x" it answered "HTTP/1.1 400 Bad Request", not a server line`},
		{"http_without_ping", []string{"-addr", webAddr, "-tags", "core"}, exitUntestable, `it answered "HTTP/1.1 400 Bad Request"`},
		{"exec_exits", []string{"-exec", "sh -c 'echo bad flag >&2; exit 2' {port}"}, exitUntestable, "server output:\n  bad flag"},
		// The wait is the point here, so it is short.
		{"exec_never_listens", []string{"-start-timeout", "50ms", "-exec", "sh -c 'exec sleep 60' {port}"}, exitUntestable, "not accepting connections on 127.0.0.1:"},
		{"exec_missing", []string{"-exec", "nosuchprogram-xyz {port}"}, exitUntestable, "executable file not found"},
		{"greeter", []string{"-addr", greeter, "-run", "user_ok"}, exitPass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := chatconform(append([]string{"-dir", dir}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if tc.code == exitPass {
				if !strings.Contains(stdout, "PASS  user_ok") {
					t.Errorf("the script did not run:\n%s%s", stdout, stderr)
				}
				return
			}
			if stdout != "" {
				t.Errorf("stdout is not empty:\n%s", stdout)
			}
			if n := strings.Count(stderr, tc.once); n != 1 {
				t.Errorf("stderr has %q %d times, want once:\n%s", tc.once, n, stderr)
			}
			if n := strings.Count(stderr, "chatconform: "); n != 1 {
				t.Errorf("%d messages, want 1:\n%s", n, stderr)
			}
		})
	}
}

// TestExitStatus checks the statuses that TestPreflight does not, and that
// the usage text documents them all.
func TestExitStatus(t *testing.T) {
	addr := startGreeter(t)
	dir := scriptDir(t, map[string]string{"user_ok": "USER-1\n" + passes, "user_bad": "USER-1\n" + fails})
	manifest := func(text string) string {
		file := filepath.Join(t.TempDir(), "manifest")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"pass", []string{"-addr", addr, "-run", "user_ok"}, exitPass, "1 passed, 0 failed, 0 skipped, 0 expected failures"},
		{"fail", []string{"-addr", addr}, exitFail, "1 passed, 1 failed, 0 skipped, 0 expected failures"},
		{"xfail", []string{"-addr", addr, "-manifest", manifest("deviation user_bad known\n")}, exitPass, "1 passed, 0 failed, 0 skipped, 1 expected failure"},
		{"xpass", []string{"-addr", addr, "-manifest", manifest("deviation USER-1 known\n")}, exitFail, "0 passed, 1 failed, 0 skipped, 1 expected failure"},
		{"unknown_flag", []string{"-bogus"}, exitUsage, "flag provided but not defined"},
		{"unknown_rule", []string{"-addr", addr, "-manifest", manifest("deviation MSG-99 why\n")}, exitUsage, "no rule MSG-99"},
		{"unknown_script", []string{"-addr", addr, "-manifest", manifest("deviation user_nosuch why\n")}, exitUsage, `no script called "user_nosuch"`},
		{"help", []string{"-h"}, exitPass, "3  the server could not be tested"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := chatconform(append([]string{"-dir", dir}, tc.args...)...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
				t.Errorf("exit %d, want %d and %q\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}

// TestJSON checks the fields of -json output: one object per script, then
// a summary with the counts, the seed and the flags that reproduce the
// failures.
func TestJSON(t *testing.T) {
	addr := startGreeter(t)
	dir := scriptDir(t, map[string]string{
		"user_ok":    "USER-1\n" + passes,
		"user_bad":   "USER-1\n" + fails,
		"user_known": "USER-2\n" + fails,
	})
	m := filepath.Join(t.TempDir(), "manifest")
	os.WriteFile(m, []byte("deviation user_known it is known\n"), 0o644)
	code, stdout, stderr := chatconform("-dir", dir, "-addr", addr, "-json", "-seed", "42", "-manifest", m)
	if code != exitFail {
		t.Errorf("exit %d, want %d\n%s", code, exitFail, stderr)
	}
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		objs = append(objs, v)
	}
	if len(objs) != 4 {
		t.Fatalf("%d objects, want 3 results and a summary:\n%s", len(objs), stdout)
	}
	status := map[any]any{}
	for _, o := range objs[:3] {
		status[o["script"]] = o["status"]
	}
	if status["user_ok"] != "PASS" || status["user_bad"] != "FAIL" || status["user_known"] != "XFAIL" {
		t.Errorf("statuses %v", status)
	}
	sum := objs[3]
	for k, v := range map[string]any{
		"summary": "1 passed, 1 failed, 0 skipped, 1 expected failure",
		"passed":  1.0, "failed": 1.0, "skipped": 0.0, "xfail": 1.0, "xpass": 0.0,
		"seed": "42", "reproduce": "-seed 42 -run '^(user_bad)$'",
	} {
		if sum[k] != v {
			t.Errorf("summary %s = %#v, want %#v", k, sum[k], v)
		}
	}
}

// TestRuleDeviationCommand checks a manifest's deviation from a rule: it
// marks the scripts whose rules: header names the rule, in the text
// summary and in JUnit.
func TestRuleDeviationCommand(t *testing.T) {
	addr := startGreeter(t)
	dir := scriptDir(t, map[string]string{
		"msg_a":    "MSG-2\n" + fails,
		"msg_b":    "USER-1 MSG-2\n" + fails,
		"msg_pass": "MSG-2\n" + passes,
		"user_ok":  "USER-1\n" + passes,
	})
	m := filepath.Join(t.TempDir(), "manifest")
	os.WriteFile(m, []byte("deviation MSG-2 we do not echo\n"), 0o644)
	junit := filepath.Join(t.TempDir(), "junit.xml")
	code, stdout, stderr := chatconform("-dir", dir, "-addr", addr, "-manifest", m, "-junit", junit)
	if code != exitFail {
		t.Errorf("exit %d, want %d (XPASS)\n%s", code, exitFail, stderr)
	}
	for _, want := range []string{
		"XFAIL msg_a", ": MSG-2: we do not echo",
		"XFAIL msg_b",
		"XPASS msg_pass", "passes although the manifest declares a deviation (MSG-2: we do not echo): update the manifest",
		"PASS  user_ok",
		"1 unexpected pass (XPASS): update the manifest\n",
		"to reproduce: -seed ", " -run '^(msg_pass)$'\n",
		"1 passed, 1 failed, 0 skipped, 2 expected failures\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Props    []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil || len(suites.Suites) != 1 {
		t.Fatalf("junit: %v\n%s", err, data)
	}
	s := suites.Suites[0]
	props := map[string]string{}
	for _, p := range s.Props {
		props[p.Name] = p.Value
	}
	if s.Tests != 4 || s.Failures != 1 || s.Skipped != 2 || props["passed"] != "1" || props["xfail"] != "2" || props["xpass"] != "1" || props["skipped"] != "0" {
		t.Errorf("junit: %+v\n%s", s, data)
	}
}
