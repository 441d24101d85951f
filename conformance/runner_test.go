package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// echoServer answers every line with the same line: the simplest wrong
// server. It also lets the commands be tested without a chat server.
type echoServer struct {
	ln net.Listener
	wg sync.WaitGroup
}

func startEcho(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &echoServer{ln: ln}
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
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					c.Write([]byte(strings.TrimSuffix(sc.Text(), "\r") + "\r\n"))
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return ln.Addr().String()
}

// runText runs one script text against addr and returns its result.
func runText(t *testing.T, addr, name, text string) Result {
	t.Helper()
	sc, err := ParseScript(name+".txtar", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(Config{Addr: addr, Scripts: []*Script{sc}, Timeout: 300 * time.Millisecond, Tags: []string{"core"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.RunScript(sc)
}

const header = "# tags: core\n# rules: USER-1\n\n"

// TestFailureReport checks what a failure shows: the failing phase, the
// first difference, and the transcript of every client.
func TestFailureReport(t *testing.T) {
	addr := startEcho(t)
	res := runText(t, addr, "user_echo", header+`# alice names herself
connect alice bob
send bob 'hello from bob'
send alice 'USERNAME alice$U'
recv alice 'OK Welcome, alice$U!'
`)
	if res.Status != Fail {
		t.Fatalf("status %s, want FAIL\n%s", res.Status, res.Log)
	}
	out := Details(res)
	for _, want := range []string{
		"# alice names herself",
		"> recv alice 'OK Welcome, alice$U!'",
		"recv alice: the next line differs",
		`want: "OK Welcome, alice` + res.U + `!"`,
		`got:  "USERNAME alice` + res.U + `"`,
		"first difference at byte 0",
		"alice> USERNAME alice" + res.U,
		"bob> hello from bob",
		"alice< USERNAME alice" + res.U,
		"bob< hello from bob   (unread)",
		"rules: USER-1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	t.Logf("sample failure report:\n%s\n%s", ResultLine(res), out)
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
		{name: "await", pass: true, script: "connect a\nawait a 'OK x' 'OK x'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runText(t, addr, "cmd_"+tc.name, header+tc.script)
			if tc.pass != (res.Status == Pass) {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if tc.want != "" && !strings.Contains(res.Log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, res.Log)
			}
		})
	}
}

func TestUnquoteRaw(t *testing.T) {
	for in, want := range map[string]string{
		`a\x{3}b\r\n`:  "axxxb\r\n",
		`\xff\x00`:     "\xff\x00",
		`\\x{3}`:       `\x{3}`,
		`é\t\u00a0`:    "é\t\u00a0",
		`\x{0}`:        "",
		`say \"hi\"\n`: "say \"hi\"\n",
	} {
		got, err := unquoteRaw(in)
		if err != nil || string(got) != want {
			t.Errorf("unquoteRaw(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := unquoteRaw(`"`); err == nil {
		t.Errorf("unquoteRaw of a bare quote: no error")
	}
}

func TestSplitWords(t *testing.T) {
	got, err := splitWords(`./chatd -addr 127.0.0.1:{port} -name "two words" 'x y'`)
	want := []string{"./chatd", "-addr", "127.0.0.1:{port}", "-name", "two words", "x y"}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("splitWords = %q, %v; want %q", got, err, want)
	}
	if _, err := splitWords(`a "b`); err == nil {
		t.Errorf("unterminated quote: no error")
	}
}

func TestParseScript(t *testing.T) {
	sc, err := ParseScript("x_y.txtar", []byte("# tags: core, limits\n# rules: LIMIT-1 LIMIT-2\n# server: -max-clients 2\n\nconnect a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "x_y" || !sc.HasTag("limits") || len(sc.Rules) != 2 || !sc.Fresh || strings.Join(sc.ServerFlags, " ") != "-max-clients 2" {
		t.Errorf("parsed %+v", sc)
	}
	for _, bad := range []string{
		"# rules: X-1\nconnect a\n",
		"# tags: core\nconnect a\n",
		"# tags: fancy\n# rules: X-1\n",
	} {
		if _, err := ParseScript("bad.txtar", []byte(bad)); err == nil {
			t.Errorf("ParseScript(%q): no error", bad)
		}
	}
}

func TestParseManifest(t *testing.T) {
	m, err := ParseManifest([]byte("# my server\nimplements ping, input\ndeviation a_b we do it otherwise  # comment\n"), []string{"a_b"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Implements, " ") != "core ping input" || m.Deviations["a_b"] != "we do it otherwise" {
		t.Errorf("parsed %+v", m)
	}
	for _, bad := range []string{"implements fancy\n", "deviation nosuch reason\n", "deviation a_b\n", "frobnicate\n"} {
		if _, err := ParseManifest([]byte(bad), []string{"a_b"}); err == nil {
			t.Errorf("ParseManifest(%q): no error", bad)
		}
	}
}

func TestParseRequirements(t *testing.T) {
	reqs := ParseRequirements("- **A-1** [core] x\n  - **B-2** [ping] indented: not a rule\n- **C-3** [input] y\nsee **D-4** [core]\n")
	if len(reqs) != 2 || reqs[0] != (Requirement{"A-1", "core"}) || reqs[1] != (Requirement{"C-3", "input"}) {
		t.Errorf("ParseRequirements = %v", reqs)
	}
}

// TestMain_ runs the chatconform command against the model server.
func TestMainCommand(t *testing.T) {
	addr := startModelServerT(t)
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
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Main(append([]string{"-dir", dir, "-timeout", "500ms"}, args...), &out, &errOut, MainOptions{})
		return code, out.String() + errOut.String()
	}

	code, out := run("-addr", addr)
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "2 passed, 1 failed, 1 skipped" {
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
	code, out = run("-addr", addr, "-manifest", manifest)
	if code != 0 || !strings.Contains(out, "XFAIL user_bad") || !strings.HasSuffix(strings.TrimSpace(out), "2 passed, 0 failed, 2 skipped") {
		t.Errorf("with manifest: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "needs the limits extension, which the manifest does not declare") {
		t.Errorf("no manifest skip reason:\n%s", out)
	}
	os.WriteFile(manifest, []byte("deviation user_ok something\n"), 0o644)
	code, out = run("-addr", addr, "-manifest", manifest, "-run", "user_(ok|limits)")
	if !strings.Contains(out, "PASS  user_limits") {
		t.Errorf("a manifest without implements restricted the tags:\n%s", out)
	}
	if code != 1 || !strings.Contains(out, "XPASS user_ok") || !strings.Contains(out, "update the manifest") {
		t.Errorf("XPASS: exit %d\n%s", code, out)
	}

	// JSON lines and JUnit XML.
	junit := filepath.Join(dir, "junit.xml")
	code, out = run("-addr", addr, "-json", "-junit", junit, "-save-failures", filepath.Join(dir, "failures"))
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
	var suites junitSuites
	if err := xml.Unmarshal(data, &suites); err != nil || suites.Suites[0].Failures != 1 || suites.Suites[0].Tests != 4 {
		t.Errorf("junit: %v %+v", err, suites)
	}
	if _, err := os.Stat(filepath.Join(dir, "failures", "user_bad.log")); err != nil {
		t.Errorf("-save-failures: %v", err)
	}

	// -exec starts a server per script, and fresh scripts run.
	code, out = run("-exec", "nosuchprogram-xyz {port}", "-run", "user_ok")
	if code != 1 || !strings.Contains(out, "cannot start the server") {
		t.Errorf("-exec with a missing program: exit %d\n%s", code, out)
	}

	// Usage errors.
	if code, out := run(); code != 2 {
		t.Errorf("no target: exit %d\n%s", code, out)
	}
	if code, out := run("-addr", addr, "-exec", "x {port}"); code != 2 {
		t.Errorf("both targets: exit %d\n%s", code, out)
	}
	if code, out := run("-exec", "chatd"); code != 2 || !strings.Contains(out, "{port}") {
		t.Errorf("-exec without {port}: exit %d\n%s", code, out)
	}
}

// TestCoverageCommand checks -coverage without a server: the built-in
// suite covers every requirement.
func TestCoverageCommand(t *testing.T) {
	var out bytes.Buffer
	sub, err := fstestFromSuite(t)
	if err != nil {
		t.Fatal(err)
	}
	code := Main([]string{"-coverage"}, &out, &out, MainOptions{Scripts: sub})
	if code != 0 || !strings.Contains(out.String(), "68 of 68 requirements covered") && !strings.Contains(out.String(), " requirements covered") {
		t.Errorf("exit %d\n%s", code, out.String())
	}
	if strings.Contains(out.String(), "NOT COVERED") {
		t.Errorf("uncovered requirements:\n%s", out.String())
	}
}

func fstestFromSuite(t *testing.T) (fstest.MapFS, error) {
	fs := fstest.MapFS{}
	for _, sc := range loadSuite(t) {
		fs[sc.Name+".txtar"] = &fstest.MapFile{Data: sc.Text}
	}
	return fs, nil
}
