package conformance

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// A script whose SHOULD assertion fails against the echo server: the first
// recv (a MUST) passes, the one after should fails.
const shouldScript = `# tags: core
# rules: DISC-5 USER-1

connect alice
send alice 'hello'
recv alice 'hello'
should DISC-5
send alice 'USERNAME alice$U'
recv alice 'OK Welcome, alice$U!'
must
`

// TestVerdictNonStrict: a failure between should and must is NON-STRICT,
// not a failure, and names the SHOULD; -strict makes it a FAIL; a failure
// outside the region stays a FAIL. The wire log marks the line that
// differed.
func TestVerdictNonStrict(t *testing.T) {
	addr := startEcho(t)
	sc, err := parseScript("disc_should.txtar", []byte(shouldScript))
	if err != nil {
		t.Fatal(err)
	}
	run := func(strict bool) Result {
		r, err := NewRunner(Config{Addr: addr, Scripts: []*Script{sc}, Timeout: 300 * time.Millisecond, Tags: []string{"core"}, Strict: strict, Wire: true})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return r.RunScript(sc)
	}
	res := run(false)
	if res.Status != NonStrict || res.Should != "DISC-5" || res.Status.Failed() {
		t.Fatalf("status %s, should %q; want NON-STRICT for DISC-5\n%s", res.Status, res.Should, res.Log)
	}
	if !strings.Contains(res.Log, "(this assertion checks DISC-5, a SHOULD)") {
		t.Errorf("the report does not say the assertion is a SHOULD:\n%s", res.Log)
	}
	var differs []string
	for _, e := range res.Wire {
		if e.Differs {
			differs = append(differs, e.Client+"< "+e.Text)
		}
	}
	if want := []string{"alice< USERNAME alice" + res.U}; !slices.Equal(differs, want) {
		t.Errorf("lines marked as differing: %q, want %q", differs, want)
	}
	sum := Summarize(1, []Result{res})
	if sum.NonStrict != 1 || sum.Failed != 0 || !strings.Contains(sum.String(), "1 non-strict") {
		t.Errorf("summary %+v: %s", sum, sum)
	}

	if res := run(true); res.Status != Fail || res.Should != "DISC-5" {
		t.Errorf("with Strict: status %s, want FAIL", res.Status)
	}

	mustFails := strings.Replace(shouldScript, "recv alice 'hello'", "recv alice 'bye'", 1)
	if res := runText(t, addr, "disc_must", mustFails); res.Status != Fail || res.Should != "" {
		t.Errorf("a failure before should: status %s (should %q), want FAIL", res.Status, res.Should)
	}
}

// TestVerdictUnimplemented: a script of an extension that the manifest
// does not declare is UNIMPLEMENTED; one left out by -tags is SKIP.
func TestVerdictUnimplemented(t *testing.T) {
	sc, err := parseScript("limit_x.txtar", []byte("# tags: core, limits\n# rules: LIMIT-1\n\nconnect a\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  Config
		want Status
	}{
		{Config{Manifest: &Manifest{Implements: []string{"core"}}}, Unimplemented},
		{Config{Tags: []string{"core"}}, Skip},
	} {
		tc.cfg.Addr, tc.cfg.Scripts = "127.0.0.1:1", []*Script{sc}
		r, err := NewRunner(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		res := r.RunScript(sc)
		r.Close()
		if res.Status != tc.want {
			t.Errorf("%+v: status %s (%s), want %s", tc.cfg, res.Status, res.Reason, tc.want)
		}
	}
}

// TestShouldRegions: every SHOULD rule a script names in its header has a
// should region in it, and every should region names a SHOULD rule of the
// header, so that each assertion's verdict has the strength of the rule it
// checks. Every SHOULD of PROTOCOL.md is checked by some script.
func TestShouldRegions(t *testing.T) {
	strength := map[string]Strength{}
	for _, r := range readProtocol(t) {
		strength[r.ID] = r.Strength
	}
	checked := map[string]bool{}
	for _, sc := range loadSuite(t) {
		regions := sc.ShouldRules()
		for _, id := range regions {
			if strength[id] != Should {
				t.Errorf("%s: should %s, which is not a SHOULD of PROTOCOL.md", sc.Name, id)
			}
			if !slices.Contains(sc.Rules, id) {
				t.Errorf("%s: should %s, which its rules: header does not name", sc.Name, id)
			}
			checked[id] = true
		}
		for _, id := range sc.Rules {
			if strength[id] == Should && !slices.Contains(regions, id) {
				t.Errorf("%s names %s, a SHOULD, but marks no assertion with should %s", sc.Name, id, id)
			}
		}
	}
	for id, st := range strength {
		if st == Should && !checked[id] {
			t.Errorf("%s is a SHOULD that no script checks", id)
		}
	}
}
