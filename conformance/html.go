package conformance

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A Report is one run of the suite against one server, as WriteHTML shows it.
type Report struct {
	Server  string // the server's name, e.g. "chatd"
	Target  string // how it was reached: "-exec './chatd -addr 127.0.0.1:{port}'" or "-addr host:port"
	Seed    uint64
	Started time.Time
	Strict  bool
	Summary Summary
	Results []Result // in script order, the model checker's last if it ran
}

// WriteHTML writes rep as a report of static pages into dir, which it
// creates: index.html, with the summary and every rule of PROTOCOL.md
// section by section with the scripts that check it and their verdicts,
// and scripts/NAME.html for each result, with the rules it checks, its wire
// log and the logs of the script and of the server. The pages load nothing
// and run no script, and they link each other by relative paths, so that
// the directory can be moved, archived or opened from file://. Everything
// that comes from the run (the server's lines, logs, names) is escaped by
// html/template.
func WriteHTML(dir string, rep Report) error {
	return writeHTML(dir, rep, "")
}

// writeHTML is WriteHTML; up, if not "", is the page above the report's
// index.html (a matrix), relative to that index.html.
func writeHTML(dir string, rep Report, up string) error {
	if err := os.MkdirAll(filepath.Join(dir, "scripts"), 0o755); err != nil {
		return err
	}
	files := pageNames(rep.Results)
	if err := writePage(filepath.Join(dir, "index.html"), "index", newIndexPage(rep, files, up)); err != nil {
		return err
	}
	for i, r := range rep.Results {
		p := newScriptPage(rep, r, up)
		if err := writePage(filepath.Join(dir, "scripts", files[i]+".html"), "script", p); err != nil {
			return err
		}
	}
	return nil
}

// writePage executes the template name with data into file.
func writePage(file, name string, data any) error {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("conformance: %s: %w", file, err)
	}
	return os.WriteFile(file, b.Bytes(), 0o644)
}

// safeFile matches a script name that can serve as a file name as it is:
// lower case, so that no two names collide on a file system that ignores
// case.
var safeFile = regexp.MustCompile(`^[a-z0-9_-]{1,100}$`)

// pageNames returns the file name, without .html, of each result's page:
// its script's name if that is safe, else a safe name derived from it;
// made unique by a suffix -2, -3... where two results share one.
func pageNames(results []Result) []string {
	used := map[string]bool{}
	names := make([]string, len(results))
	for i, r := range results {
		base := safeName(scriptOf(r).Name, "script", true)
		name := base
		for n := 2; used[name]; n++ {
			name = fmt.Sprintf("%s-%d", base, n)
		}
		used[name] = true
		names[i] = name
	}
	return names
}

// safeName returns name if it is safe as a file name (safeFile), else a
// safe name derived from it: its letters in lower case, digits, _ and -,
// the other characters as _, cut to 60 bytes, or def if none is left; and,
// with hash, a hash of name so that different names stay apart.
func safeName(name, def string, hash bool) string {
	if safeFile.MatchString(name) {
		return name
	}
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if b.Len() >= 60 {
			break
		}
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_-")
	if s == "" {
		s = def
	}
	if hash {
		h := fnv.New32a()
		h.Write([]byte(name))
		s = fmt.Sprintf("%s-%08x", s, h.Sum32())
	}
	return s
}

// scriptOf returns r's script, or an empty one.
func scriptOf(r Result) *Script {
	if r.Script == nil {
		return &Script{}
	}
	return r.Script
}

// isModel reports whether r is the model checker's result rather than a
// script's: it comes from no file, and is called "model" (chatconform
// -model). Other results from no file, such as chatconform -concurrent's,
// are shown as scripts.
func isModel(r Result) bool {
	sc := scriptOf(r)
	return sc.File == "" && sc.Name == "model"
}

// statusRank orders the statuses from worst to best, as a rule's verdict
// takes the worst of its scripts': a failure, then a SHOULD missed, then an
// expected failure, then a pass; a rule whose scripts did not run at all is
// UNIMPLEMENTED or SKIP.
var statusRank = map[Status]int{Fail: 0, XPass: 1, NonStrict: 2, XFail: 3, Pass: 4, Unimplemented: 5, Skip: 6}

// worst returns the worst of statuses by statusRank, or "" if there are
// none. A status unknown to statusRank counts as worse than a skip only.
func worst(statuses []Status) Status {
	var w Status
	rank := func(s Status) int {
		if r, ok := statusRank[s]; ok {
			return r
		}
		return len(statusRank)
	}
	for _, s := range statuses {
		if w == "" || rank(s) < rank(w) {
			w = s
		}
	}
	return w
}

// statusMeaning says what each verdict means, as the pages explain it.
var statusMeaning = map[Status]string{
	Pass:          "the script passed",
	Fail:          "a MUST of PROTOCOL.md is broken",
	NonStrict:     "a SHOULD was missed: the server departs from a recommendation and still conforms (exit status 0 unless -strict)",
	Unimplemented: "the script tests an extension that the manifest does not declare: not run",
	Skip:          "not run, for another reason (left out by -tags, or needs a server of its own and the target was -addr)",
	XFail:         "an expected failure: failed, as a deviation declared by the manifest says",
	XPass:         "passed despite a deviation declared by the manifest: counts as a failure (update the manifest)",
}

// statusCount is one row of a summary: a verdict, how many results had
// it, and what it means.
type statusCount struct {
	Status  Status
	Count   int
	Meaning string
}

// summaryCounts returns the counts of s, one per verdict in the order of
// Statuses. Summary counts an XPASS among the failures; here FAIL does
// not, so that the rows add up to the number of results.
func summaryCounts(s Summary) []statusCount {
	n := map[Status]int{
		Pass: s.Passed, Fail: s.Failed - s.XPassed, NonStrict: s.NonStrict, Unimplemented: s.Unimplemented,
		Skip: s.Skipped, XFail: s.XFailed, XPass: s.XPassed,
	}
	var out []statusCount
	for _, st := range Statuses {
		out = append(out, statusCount{st, n[st], statusMeaning[st]})
	}
	return out
}

// reproduceLine is the command that runs the failed scripts of rep again,
// or "" if none failed.
func reproduceLine(rep Report) string {
	if rep.Summary.Reproduce == "" {
		return ""
	}
	args := []string{"chatconform"}
	if rep.Target != "" {
		args = append(args, rep.Target)
	} else {
		args = append(args, "...")
	}
	if rep.Strict {
		args = append(args, "-strict")
	}
	return strings.Join(append(args, rep.Summary.Reproduce), " ")
}

// formatDate formats the start of a run, or "" for the zero time.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02 15:04:05 MST")
}

// seconds formats a duration as a report line does: "0.12s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

// ruleAnchor is the id of a rule's row on index.html: rule-join-4 for
// JOIN-4, and for a rule that PROTOCOL.md lacks a safe name derived from
// it.
func ruleAnchor(id string) string {
	if r, ok := requirement(id); ok {
		return "rule-" + strings.ToLower(r.ID)
	}
	return "rule-x-" + safeName(strings.ToUpper(id), "rule", true)
}

// hasRule reports whether sc names the rule id (in any case).
func hasRule(sc *Script, id string) bool {
	return slices.ContainsFunc(sc.Rules, func(r string) bool { return strings.EqualFold(r, id) })
}
