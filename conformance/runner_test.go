package conformance

import (
	"bufio"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer answers every line with the same line: the simplest wrong
// server.
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
	sc, err := parseScript(name+".txtar", []byte(text))
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
recv bob 'hello from bob'
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
		"bob< hello from bob\n", // consumed: no (unread) mark (TestTranscriptUnread checks the mark)
		"rules: USER-1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	t.Logf("sample failure report:\n%s\n%s", ResultLine(res), out)
}

func TestSplitWords(t *testing.T) {
	got, err := SplitWords(`./chatd -addr 127.0.0.1:{port} -name "two words" 'x y'`)
	want := []string{"./chatd", "-addr", "127.0.0.1:{port}", "-name", "two words", "x y"}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SplitWords = %q, %v; want %q", got, err, want)
	}
	if _, err := SplitWords(`a "b`); err == nil {
		t.Errorf("unterminated quote: no error")
	}
}

func TestParseScript(t *testing.T) {
	sc, err := parseScript("x_y.txtar", []byte("# tags: core, limits\n# rules: LIMIT-1 LIMIT-2\n# server: -max-clients 2\n\nconnect a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "x_y" || !slices.Contains(sc.Tags, "limits") || len(sc.Rules) != 2 || !sc.Fresh || strings.Join(sc.ServerFlags, " ") != "-max-clients 2" {
		t.Errorf("parsed %+v", sc)
	}
	for _, bad := range []string{
		"# rules: X-1\nconnect a\n",
		"# tags: core\nconnect a\n",
		"# tags: fancy\n# rules: X-1\n",
	} {
		if _, err := parseScript("bad.txtar", []byte(bad)); err == nil {
			t.Errorf("parseScript(%q): no error", bad)
		}
	}
}

func TestParseManifest(t *testing.T) {
	scripts := []*Script{{Name: "a_b", Rules: []string{"USER-1", "OWN-7"}}}
	m, err := ParseManifest([]byte("# my server\nimplements ping, input\ndeviation a_b we do it otherwise  # comment\n"+
		"deviation msg-2 we do not echo\ndeviation OWN-7 a rule of a script of our own\n"), scripts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Implements, " ") != "core ping input" || m.Deviations["a_b"] != "we do it otherwise" ||
		m.RuleDeviations["MSG-2"] != "we do not echo" || m.RuleDeviations["OWN-7"] != "a rule of a script of our own" || len(m.RuleDeviations) != 2 {
		t.Errorf("parsed %+v", m)
	}
	for bad, want := range map[string]string{
		"implements fancy\n":          "unknown tag",
		"deviation nosuch reason\n":   `no script called "nosuch"`,
		"deviation MSG-99 reason\n":   "no rule MSG-99 in PROTOCOL.md",
		"deviation a_b\n":             "want: deviation SCRIPT-OR-RULE REASON",
		"frobnicate\n":                "unknown declaration",
		"deviation NOPE-1 reason\n":   "no rule NOPE-1",
		"deviation MSG-2\n":           "want: deviation",
		"deviation msg_2.txtar why\n": `no script called "msg_2"`,
	} {
		_, err := ParseManifest([]byte(bad), scripts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseManifest(%q): %v, want %q", bad, err, want)
		}
	}
	// Without scripts, nothing is checked.
	m, err = ParseManifest([]byte("deviation nosuch r\ndeviation NOPE-1 r\n"), nil)
	if err != nil || m.Deviations["nosuch"] != "r" || m.RuleDeviations["NOPE-1"] != "r" {
		t.Errorf("without scripts: %+v, %v", m, err)
	}
}

// TestRuleDeviation checks that a deviation from a rule marks every script
// that checks it, and only those: a failure is XFAIL, a pass XPASS.
func TestRuleDeviation(t *testing.T) {
	addr := startModelServerT(t)
	const (
		pass = "connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n"
		fail = "connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Bienvenue, a$U!'\n"
	)
	var scripts []*Script
	for _, s := range []struct{ name, rules, body string }{
		{"msg_fails", "MSG-2", fail},
		{"msg_fails_too", "USER-1 msg-2", fail},
		{"msg_passes", "MSG-2", pass},
		{"user_fails", "USER-1", fail},
		{"user_passes", "USER-1", pass},
		{"own_fails", "MSG-2", fail},
	} {
		sc, err := parseScript(s.name+".txtar", []byte("# tags: core\n# rules: "+s.rules+"\n\n"+s.body))
		if err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, sc)
	}
	m, err := ParseManifest([]byte("deviation MSG-2 we do not echo\ndeviation own_fails a reason of its own\n"), scripts)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, Config{Addr: addr, Scripts: scripts, Manifest: m, Tags: []string{"core", "ping"}})
	want := map[string]struct {
		status Status
		reason string
	}{
		"msg_fails":     {XFail, "MSG-2: we do not echo"},
		"msg_fails_too": {XFail, "msg-2: we do not echo"},
		"msg_passes":    {XPass, "passes although the manifest declares a deviation (MSG-2: we do not echo): update the manifest"},
		"user_fails":    {Fail, ""},
		"user_passes":   {Pass, ""},
		"own_fails":     {XFail, "a reason of its own"},
	}
	results := r.RunAll(nil)
	for _, res := range results {
		w := want[res.Script.Name]
		if res.Status != w.status || res.Reason != w.reason {
			t.Errorf("%s: %s (%s), want %s (%s)\n%s", res.Script.Name, res.Status, res.Reason, w.status, w.reason, res.Log)
		}
	}
	sum := Summarize(1, results)
	if got, want := sum.String(), "1 passed, 2 failed, 0 skipped, 3 expected failures"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestParseRequirements(t *testing.T) {
	reqs := parseRequirements("- **A-1** [core] x\n  - **B-2** [ping] indented: not a rule\n- **C-3** [input] y\nsee **D-4** [core]\n")
	if len(reqs) != 2 || reqs[0].ID != "A-1" || reqs[0].Tag != "core" || reqs[1].ID != "C-3" || reqs[1].Tag != "input" {
		t.Errorf("parseRequirements = %v", reqs)
	}
}

// TestRobustnessTag: robustness is not an extension. A manifest need not
// declare it, and -tags can leave its scripts out.
func TestRobustnessTag(t *testing.T) {
	addr := startModelServerT(t)
	sc, err := parseScript("robust_x.txtar", []byte("# tags: core, robustness\n# rules: USER-1\n\nconnect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name     string
		tags     []string
		manifest *Manifest
		want     Status
		reason   string
	}{
		{name: "default", want: Pass},
		{name: "manifest", manifest: &Manifest{Implements: []string{"core", "ping"}}, want: Pass},
		{name: "tags", tags: []string{"core", "ping"}, want: Skip, reason: "is a robustness script, not selected by -tags or -skip-tags"},
		{name: "tags_with", tags: []string{"core", TagRobustness}, want: Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A seed of its own gives each case a $U of its own: the server
			// may not yet have freed the name of the case before.
			r, err := NewRunner(Config{Addr: addr, Scripts: []*Script{sc}, Tags: tc.tags, Manifest: tc.manifest, Timeout: 2 * time.Second, Seed: uint64(i + 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			res := r.RunScript(sc)
			if res.Status != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("status %s (%s), want %s (%s)\n%s", res.Status, res.Reason, tc.want, tc.reason, res.Log)
			}
		})
	}
}
