package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
)

// someResults has one result of each status, and a failed result that is
// not a script file (as the model checker's).
func someResults() []Result {
	sc := func(name string) *Script {
		return &Script{Name: name, File: name + ".txtar", Rules: []string{"USER-1"}, Tags: []string{"core"}}
	}
	return []Result{
		{Script: sc("a_pass"), Status: Pass},
		{Script: sc("b_fail"), Status: Fail, Log: "it broke"},
		{Script: sc("c_skip"), Status: Skip, Reason: "needs limits"},
		{Script: sc("d_xfail"), Status: XFail, Reason: "USER-1: we differ"},
		{Script: sc("e_x.pass"), Status: XPass, Reason: "passes although"},
		{Script: sc("f_xfail"), Status: XFail, Reason: "known"},
		{Script: &Script{Name: "model"}, Status: Fail},
	}
}

// TestSummarize checks that expected failures are counted apart from
// passes, unexpected passes among failures, and the reproduce flags.
func TestSummarize(t *testing.T) {
	s := Summarize(42, someResults())
	want := Summary{Passed: 1, Failed: 3, Skipped: 1, XFailed: 2, XPassed: 1, Seed: 42,
		Reproduce: `-seed 42 -run '^(b_fail|e_x\.pass)$'`}
	if s != want {
		t.Errorf("Summarize = %+v\nwant        %+v", s, want)
	}
	if got, want := s.String(), "1 passed, 3 failed, 1 skipped, 2 expected failures"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got, want := (Summary{XFailed: 1}).String(), "0 passed, 0 failed, 0 skipped, 1 expected failure"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if s := Summarize(7, someResults()[:1]); s.Reproduce != "" {
		t.Errorf("nothing failed, yet Reproduce = %q", s.Reproduce)
	}
	if s := Summarize(7, someResults()[6:]); s.Reproduce != "-seed 7" {
		t.Errorf("only the model failed: Reproduce = %q, want -seed 7", s.Reproduce)
	}
}

// TestWriteJSONSummary checks the closing JSON object: the counts, the seed
// as a string that keeps all its digits, and the reproduce flags.
func TestWriteJSONSummary(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSONSummary(&b, Summarize(18446744073709551615, someResults())); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, b.Bytes())
	}
	want := map[string]any{
		"summary": "1 passed, 3 failed, 1 skipped, 2 expected failures",
		"passed":  1.0, "failed": 3.0, "skipped": 1.0, "xfail": 2.0, "xpass": 1.0,
		"non_strict": 0.0, "unimplemented": 0.0,
		"seed":      "18446744073709551615",
		"reproduce": `-seed 18446744073709551615 -run '^(b_fail|e_x\.pass)$'`,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	b.Reset()
	WriteJSONSummary(&b, Summarize(3, someResults()[:1]))
	if bytes.Contains(b.Bytes(), []byte("reproduce")) {
		t.Errorf("a run without failures has a reproduce field: %s", b.Bytes())
	}
}

// TestWriteJUnit checks that an expected failure is a skipped case of type
// xfail, and that the suite's properties hold the counts and the seed.
func TestWriteJUnit(t *testing.T) {
	file := filepath.Join(t.TempDir(), "junit.xml")
	results := someResults()
	if err := WriteJUnit(file, Summarize(42, results), results); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Suites []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Skipped  int `xml:"skipped,attr"`
			Props    []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct {
					Type    string `xml:"type,attr"`
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("%v\n%s", err, data)
	}
	s := doc.Suites[0]
	if s.Tests != 7 || s.Failures != 3 || s.Skipped != 3 {
		t.Errorf("tests %d, failures %d, skipped %d; want 7, 3 and 3 (a skip and 2 XFAIL)\n%s", s.Tests, s.Failures, s.Skipped, data)
	}
	props := map[string]string{}
	for _, p := range s.Props {
		props[p.Name] = p.Value
	}
	for k, v := range map[string]string{"passed": "1", "failed": "3", "skipped": "1", "xfail": "2", "xpass": "1", "seed": "42",
		"reproduce": `-seed 42 -run '^(b_fail|e_x\.pass)$'`} {
		if props[k] != v {
			t.Errorf("property %s = %q, want %q\n%s", k, props[k], v, data)
		}
	}
	for _, c := range s.Cases {
		if c.Name == "d_xfail" && (c.Skipped == nil || c.Skipped.Type != "xfail" || c.Skipped.Message != "XFAIL: USER-1: we differ") {
			t.Errorf("XFAIL case: %+v\n%s", c.Skipped, data)
		}
		if c.Name == "c_skip" && (c.Skipped == nil || c.Skipped.Type != "") {
			t.Errorf("SKIP case: %+v\n%s", c.Skipped, data)
		}
	}
}
