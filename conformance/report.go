package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Summary counts the results of a run, each once: as passed, failed,
// non-strict (a SHOULD missed), unimplemented (an extension not declared),
// skipped or an expected failure (XFAIL, which is neither passed nor
// failed). An unexpected pass (XPASS) counts as failed. It also says how to
// reproduce the failures.
type Summary struct {
	Passed, Failed, Skipped int
	NonStrict               int // SHOULDs missed (NON-STRICT): not failures
	Unimplemented           int // scripts of extensions the manifest does not declare
	XFailed                 int // expected failures (XFAIL)
	XPassed                 int // unexpected passes (XPASS), among Failed

	Seed uint64 // the run's Config.Seed
	// Reproduce is what to add to the command line to run the failed
	// scripts again with the same $U: -seed and, if scripts failed, -run
	// with their names. Empty if nothing failed.
	Reproduce string
}

// Summarize counts the results of a run with seed. In Reproduce, -run names
// the failed scripts that were loaded from a file; a result of something
// else (the model checker's) is reproduced by -seed alone.
func Summarize(seed uint64, results []Result) Summary {
	s := Summary{Seed: seed}
	var failed []string
	for _, r := range results {
		switch r.Status {
		case Pass:
			s.Passed++
		case XFail:
			s.XFailed++
		case Fail:
			s.Failed++
		case XPass:
			s.Failed++
			s.XPassed++
		case NonStrict:
			s.NonStrict++
		case Unimplemented:
			s.Unimplemented++
		case Skip:
			s.Skipped++
		}
		if (r.Status.Failed() || r.Status == NonStrict) && r.Script.File != "" {
			failed = append(failed, regexp.QuoteMeta(r.Script.Name))
		}
	}
	switch {
	case len(failed) > 0 && s.Failed == 0:
		s.Reproduce = fmt.Sprintf("-seed %d -run '^(%s)$'", seed, strings.Join(failed, "|"))
	case len(failed) > 0:
		s.Reproduce = fmt.Sprintf("-seed %d -run '^(%s)$'", seed, strings.Join(failed, "|"))
	case s.Failed > 0:
		s.Reproduce = fmt.Sprintf("-seed %d", seed)
	}
	return s
}

// String is the closing line of a run, such as
// "40 passed, 1 failed, 3 skipped, 2 expected failures", with the counts of
// NON-STRICT and UNIMPLEMENTED results where there are any.
func (s Summary) String() string {
	noun := "expected failures"
	if s.XFailed == 1 {
		noun = "expected failure"
	}
	out := fmt.Sprintf("%d passed, %d failed", s.Passed, s.Failed)
	if s.NonStrict > 0 {
		out += fmt.Sprintf(", %d non-strict (a SHOULD missed)", s.NonStrict)
	}
	if s.Unimplemented > 0 {
		out += fmt.Sprintf(", %d unimplemented", s.Unimplemented)
	}
	return out + fmt.Sprintf(", %d skipped, %d %s", s.Skipped, s.XFailed, noun)
}

// ResultLine is the one-line report of a result, such as
// "PASS  join_switch_rooms  0.12s".
func ResultLine(r Result) string {
	line := fmt.Sprintf("%-5s %s (%.2fs)", r.Status, r.Script.Name, r.Duration.Seconds())
	if r.Reason != "" {
		line += ": " + r.Reason
	}
	return line
}

// Details is the full report of a failed (or, verbosely, any) result: the
// rules the script checks, testscript's log with the failing phase and the
// transcript of every client, and the server's output.
func Details(r Result) string {
	var b strings.Builder
	if r.Script.Text != nil {
		fmt.Fprintf(&b, "    script: %s.txtar  rules: %s  tags: %s  $U=%s\n",
			r.Script.Name, strings.Join(r.Script.Rules, " "), strings.Join(r.Script.Tags, ","), r.U)
	}
	if log := strings.TrimRight(r.Log, "\n"); log != "" {
		b.WriteString("    " + strings.ReplaceAll(log, "\n", "\n    ") + "\n")
	}
	if r.ServerLog != "" {
		b.WriteString("    server output:\n")
		b.WriteString("    " + strings.ReplaceAll(indent(r.ServerLog), "\n", "\n    ") + "\n")
	}
	return b.String()
}

// jsonResult is one line of -json output.
type jsonResult struct {
	Script   string   `json:"script"`
	Status   Status   `json:"status"`
	Seconds  float64  `json:"seconds"`
	Tags     []string `json:"tags"`
	Rules    []string `json:"rules"`
	Strength Strength `json:"strength"`
	Should   string   `json:"should,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	U        string   `json:"u,omitempty"`
	Output   string   `json:"output,omitempty"`
	Server   string   `json:"server_output,omitempty"`
	Progress string   `json:"progress,omitempty"`
}

// WriteJSON writes one JSON object for a result, on one line.
func WriteJSON(w io.Writer, r Result) error {
	return json.NewEncoder(w).Encode(jsonResult{
		Script: r.Script.Name, Status: r.Status, Seconds: r.Duration.Seconds(),
		Tags: r.Script.Tags, Rules: r.Script.Rules, Strength: r.Script.Strength(), Should: r.Should, Reason: r.Reason, U: r.U,
		Output: r.Log, Server: r.ServerLog,
	})
}

// jsonSummary is the closing line of -json output. The seed is a string:
// JSON readers that hold numbers as float64 would round it.
type jsonSummary struct {
	Summary   string `json:"summary"`
	Passed    int    `json:"passed"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
	NonStrict int    `json:"non_strict"`
	Unimpl    int    `json:"unimplemented"`
	XFail     int    `json:"xfail"`
	XPass     int    `json:"xpass"`
	Seed      string `json:"seed"`
	Reproduce string `json:"reproduce,omitempty"`
}

// WriteJSONSummary writes the closing JSON object of a run: the counts of
// Summary, the seed and, if something failed, the flags that reproduce it.
func WriteJSONSummary(w io.Writer, s Summary) error {
	return json.NewEncoder(w).Encode(jsonSummary{
		Summary: s.String(), Passed: s.Passed, Failed: s.Failed, Skipped: s.Skipped,
		NonStrict: s.NonStrict, Unimpl: s.Unimplemented,
		XFail: s.XFailed, XPass: s.XPassed, Seed: strconv.FormatUint(s.Seed, 10), Reproduce: s.Reproduce,
	})
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suites  []junitRun `xml:"testsuite"`
}

type junitRun struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Type    string `xml:"type,attr,omitempty"`
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes results, which sum counts, as a JUnit XML report to
// file. An expected failure (XFAIL) is a skipped test case of type xfail,
// as pytest writes it, so the suite's skipped attribute counts skips and
// expected failures; its properties hold the counts of sum apart, the seed
// and the flags that reproduce the failures.
func WriteJUnit(file string, sum Summary, results []Result) error {
	run := junitRun{Name: "chatconform", Properties: []junitProperty{
		{"passed", strconv.Itoa(sum.Passed)},
		{"failed", strconv.Itoa(sum.Failed)},
		{"skipped", strconv.Itoa(sum.Skipped)},
		{"non-strict", strconv.Itoa(sum.NonStrict)},
		{"unimplemented", strconv.Itoa(sum.Unimplemented)},
		{"xfail", strconv.Itoa(sum.XFailed)},
		{"xpass", strconv.Itoa(sum.XPassed)},
		{"seed", strconv.FormatUint(sum.Seed, 10)},
	}}
	if sum.Reproduce != "" {
		run.Properties = append(run.Properties, junitProperty{"reproduce", sum.Reproduce})
	}
	var total float64
	for _, r := range results {
		c := junitCase{Name: r.Script.Name, Classname: "chatconform", Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
		total += r.Duration.Seconds()
		switch r.Status {
		case Fail:
			c.Failure = &junitMessage{Message: "FAIL (rules " + strings.Join(r.Script.Rules, " ") + ")", Body: Details(r)}
			run.Failures++
		case XPass:
			c.Failure = &junitMessage{Message: "XPASS: " + r.Reason}
			run.Failures++
		case Skip:
			c.Skipped = &junitMessage{Message: r.Reason}
			run.Skipped++
		case Unimplemented:
			c.Skipped = &junitMessage{Type: "unimplemented", Message: "UNIMPLEMENTED: " + r.Reason}
			run.Skipped++
		case NonStrict:
			// Not a failure: a SHOULD missed. The case passes, with the
			// report in its output.
			c.SystemOut = "NON-STRICT: " + r.Reason + "\n" + Details(r)
		case XFail:
			c.Skipped = &junitMessage{Type: "xfail", Message: "XFAIL: " + r.Reason, Body: Details(r)}
			run.Skipped++
		}
		run.Cases = append(run.Cases, c)
	}
	run.Tests = len(results)
	run.Time = fmt.Sprintf("%.3f", total)
	data, err := xml.MarshalIndent(junitSuites{Suites: []junitRun{run}}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}

// SaveFailure writes a failed script and its report into dir, as NAME.txtar
// and NAME.log.
func SaveFailure(dir string, r Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, r.Script.Name+".txtar"), r.Script.Text, 0o644); err != nil {
		return err
	}
	report := ResultLine(r) + "\n" + Details(r)
	return os.WriteFile(filepath.Join(dir, r.Script.Name+".log"), []byte(report), 0o644)
}

// WriteCoverage prints, for every requirement, how many independent means
// check it and which: the scripts, by name, and, given results, how they
// fared; then the model checker and the transcripts of PROTOCOL.md where
// they check it (means.go). A requirement with fewer than two means is
// marked. It returns the number of such requirements.
func WriteCoverage(w io.Writer, reqs []Requirement, scripts []*Script, results []Result) int {
	cov, unknown := coverage(reqs, scripts)
	status := map[string]Status{}
	for _, r := range results {
		status[r.Script.Name] = r.Status
	}
	short, uncovered := 0, 0
	for _, c := range cov {
		counts := map[Status]int{}
		for _, s := range c.Scripts {
			if st, ok := status[s]; ok {
				counts[st]++
			}
		}
		var tally []string
		for _, st := range []Status{Pass, Fail, Skip, XFail, XPass} {
			if counts[st] > 0 {
				tally = append(tally, fmt.Sprintf("%d %s", counts[st], strings.ToLower(string(st))))
			}
		}
		noun := "scripts"
		if len(c.Scripts) == 1 {
			noun = "script"
		}
		means := fmt.Sprintf("%d %s", len(c.Scripts), noun)
		if len(tally) > 0 {
			means += " (" + strings.Join(tally, ", ") + ")"
		}
		for _, m := range c.Model {
			means += " + " + m
		}
		line := fmt.Sprintf("%-9s %-11s %2d means: %s", c.ID, "["+c.Tag+"]", c.Means(), means)
		if len(c.Scripts) > 0 {
			line += ": " + strings.Join(c.Scripts, " ")
		}
		switch {
		case c.Means() == 0:
			uncovered++
			line += "   NOT COVERED"
		case c.Means() < minMeans:
			line += "   ONLY ONE MEANS"
		}
		if c.Means() < minMeans {
			short++
		}
		fmt.Fprintln(w, line)
	}
	for _, id := range slices.Sorted(maps.Keys(unknown)) {
		names := unknown[id]
		fmt.Fprintf(w, "%-9s not a requirement of PROTOCOL.md, named by %s\n", id, strings.Join(names, " "))
	}
	fmt.Fprintf(w, "%d of %d requirements covered; %d checked by at least %d means (a script each, the model checker, the transcripts)\n",
		len(cov)-uncovered, len(cov), len(cov)-short, minMeans)
	return short
}
