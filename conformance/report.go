package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Summary counts results. XFAIL counts as passed, XPASS as failed.
type Summary struct {
	Passed, Failed, Skipped int
	XFailed, XPassed        int
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch r.Status {
		case Pass:
			s.Passed++
		case XFail:
			s.Passed++
			s.XFailed++
		case Fail:
			s.Failed++
		case XPass:
			s.Failed++
			s.XPassed++
		case Skip:
			s.Skipped++
		}
	}
	return s
}

// String is the closing line of a run.
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
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
		Tags: r.Script.Tags, Rules: r.Script.Rules, Reason: r.Reason, U: r.U,
		Output: r.Log, Server: r.ServerLog,
	})
}

// WriteJSONSummary writes the closing JSON object of a run.
func WriteJSONSummary(w io.Writer, s Summary) error {
	return json.NewEncoder(w).Encode(map[string]any{
		"summary": s.String(), "passed": s.Passed, "failed": s.Failed, "skipped": s.Skipped,
		"xfail": s.XFailed, "xpass": s.XPassed,
	})
}

// JUnit XML, as CI systems read it.
type junitSuites struct {
	XMLName xml.Name   `xml:"testsuites"`
	Suites  []junitRun `xml:"testsuite"`
}

type junitRun struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
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
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes results as a JUnit XML report to file.
func WriteJUnit(file string, results []Result) error {
	run := junitRun{Name: "chatconform"}
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
		case XFail:
			c.SystemOut = "XFAIL: " + r.Reason + "\n" + Details(r)
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

// WriteCoverage prints, for every requirement, the scripts that check it
// and, given results, how they fared. It returns the number of
// requirements that no script checks.
func WriteCoverage(w io.Writer, reqs []Requirement, scripts []*Script, results []Result) int {
	cov, unknown := Coverage(reqs, scripts)
	status := map[string]Status{}
	for _, r := range results {
		status[r.Script.Name] = r.Status
	}
	missing := 0
	for _, c := range cov {
		if len(c.Scripts) == 0 {
			missing++
			fmt.Fprintf(w, "%-9s %-10s NOT COVERED\n", c.ID, "["+c.Tag+"]")
			continue
		}
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
		line := fmt.Sprintf("%-9s %-10s %2d %s", c.ID, "["+c.Tag+"]", len(c.Scripts), noun)
		if len(tally) > 0 {
			line += " (" + strings.Join(tally, ", ") + ")"
		}
		fmt.Fprintf(w, "%s: %s\n", line, strings.Join(c.Scripts, " "))
	}
	for _, id := range slices.Sorted(maps.Keys(unknown)) {
		names := unknown[id]
		fmt.Fprintf(w, "%-9s not a requirement of PROTOCOL.md, named by %s\n", id, strings.Join(names, " "))
	}
	fmt.Fprintf(w, "%d of %d requirements covered\n", len(cov)-missing, len(cov))
	return missing
}
