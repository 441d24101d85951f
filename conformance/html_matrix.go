package conformance

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A MatrixColumn is one server of a matrix: its report, written into the subdirectory Dir of the matrix's directory.
type MatrixColumn struct {
	Name   string // the server's name, the column's heading
	Dir    string // its subdirectory (a safe name derived from Name if empty)
	Report Report
}

// WriteMatrix writes the reports of several servers side by side into dir,
// which it creates: each column's report, as WriteHTML writes it, into its
// subdirectory; index.html, a table with a row for each script, grouped by
// the section of PROTOCOL.md of the script's first rule, and a column for
// each server, whose cells link to the script's page in that server's
// report; and matrix.json, the same as data:
//
//	{"servers": [{"name": ..., "dir": ..., "target": ..., "seed": "1", "summary": {"passed": 40, ...}}],
//	 "scripts": [{"name": ..., "section": ..., "rules": [...], "strength": "MUST",
//	              "verdicts": {"chatd": "PASS", ...}}]}
//
// A script that a server's results lack has no verdict for it. Names must
// be unique, and so must directories; a Dir given must be a plain file
// name.
func WriteMatrix(dir string, cols []MatrixColumn) error {
	dirs, err := matrixDirs(cols)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := make([][]string, len(cols))
	for i, c := range cols {
		if err := writeHTML(filepath.Join(dir, dirs[i]), c.Report, "../index.html"); err != nil {
			return err
		}
		files[i] = pageNames(c.Report.Results)
	}
	m := newMatrix(cols, dirs, files)
	if err := writePage(filepath.Join(dir, "index.html"), "matrix", m.page()); err != nil {
		return err
	}
	data, err := json.MarshalIndent(m.json(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "matrix.json"), append(data, '\n'), 0o644)
}

// safeDir matches a subdirectory given as MatrixColumn.Dir.
var safeDir = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$`)

// matrixDirs checks the names and directories of cols and returns the
// directories, derived from the names where not given.
func matrixDirs(cols []MatrixColumn) ([]string, error) {
	reserved := map[string]bool{"index.html": true, "matrix.json": true}
	names := map[string]bool{}
	used := map[string]bool{}
	// Given directories first, so that a derived one never takes a name
	// that is given later.
	for _, c := range cols {
		if c.Name == "" {
			return nil, fmt.Errorf("conformance: matrix: a column has no name")
		}
		if names[c.Name] {
			return nil, fmt.Errorf("conformance: matrix: two columns are called %q", c.Name)
		}
		names[c.Name] = true
		if c.Dir == "" {
			continue
		}
		d := strings.ToLower(c.Dir)
		if !safeDir.MatchString(c.Dir) || reserved[d] {
			return nil, fmt.Errorf("conformance: matrix: column %q: directory %q is not a plain file name", c.Name, c.Dir)
		}
		if used[d] {
			return nil, fmt.Errorf("conformance: matrix: two columns use the directory %q", c.Dir)
		}
		used[d] = true
	}
	dirs := make([]string, len(cols))
	for i, c := range cols {
		if c.Dir != "" {
			dirs[i] = c.Dir
			continue
		}
		base := safeName(strings.ToLower(c.Name), "server", false)
		d := base
		for n := 2; used[d]; n++ {
			d = fmt.Sprintf("%s-%d", base, n)
		}
		used[d] = true
		dirs[i] = d
	}
	return dirs, nil
}

// A matrix is the scripts of several runs, row by row.
type matrix struct {
	cols   []MatrixColumn
	dirs   []string
	groups []matrixGroup
}

// matrixGroup is the scripts whose first rule is in one section.
type matrixGroup struct {
	Name string
	rank int // the section's place in PROTOCOL.md
	Rows []matrixRow
}

// matrixRow is a script and its result in each column.
type matrixRow struct {
	Name     string
	Model    bool
	Rules    []string
	Strength Strength
	Cells    []matrixCell
}

// matrixCell is a script's verdict on one server, with a link to its page
// there; empty if that server's results lack the script.
type matrixCell struct {
	Status Status
	Href   string
}

// newMatrix lays out the results of cols, whose reports are in dirs with
// the results' pages named files.
func newMatrix(cols []MatrixColumn, dirs []string, files [][]string) matrix {
	m := matrix{cols: cols, dirs: dirs}
	sections := map[string]int{} // section -> its place in PROTOCOL.md
	for _, r := range Requirements {
		if _, ok := sections[r.Section]; !ok {
			sections[r.Section] = len(sections)
		}
	}
	// The scripts, each once, by name; the first column that has one gives
	// its rules.
	rows := map[string]*matrixRow{}
	var names []string
	for i, c := range cols {
		for j, r := range c.Report.Results {
			sc := scriptOf(r)
			row, ok := rows[sc.Name]
			if !ok {
				row = &matrixRow{Name: sc.Name, Model: isModel(r), Rules: sc.Rules, Strength: sc.Strength(), Cells: make([]matrixCell, len(cols))}
				rows[sc.Name] = row
				names = append(names, sc.Name)
			}
			if row.Cells[i].Status == "" {
				row.Cells[i] = matrixCell{r.Status, dirs[i] + "/scripts/" + files[i][j] + ".html"}
			}
		}
	}
	slices.Sort(names)
	groupOf := map[string]int{} // group name -> index in m.groups
	for _, name := range names {
		row := rows[name]
		g := matrixGroup{Name: "Rules not in PROTOCOL.md", rank: len(sections)}
		switch {
		case row.Model:
			g = matrixGroup{Name: "Model checker", rank: len(sections) + 1}
		case len(row.Rules) > 0:
			if req, ok := requirement(row.Rules[0]); ok {
				g = matrixGroup{Name: req.Section, rank: sections[req.Section]}
			}
		}
		k, ok := groupOf[g.Name]
		if !ok {
			k = len(m.groups)
			groupOf[g.Name] = k
			m.groups = append(m.groups, g)
		}
		m.groups[k].Rows = append(m.groups[k].Rows, *row)
	}
	slices.SortStableFunc(m.groups, func(a, b matrixGroup) int { return cmp.Compare(a.rank, b.rank) })
	return m
}

// matrixPage is what the matrix's index.html shows.
type matrixPage struct {
	Title    string
	Columns  []matrixColumnView
	Groups   []matrixGroup
	Span     int // the columns of the table
	Meanings []statusCount
}

// matrixColumnView is one server in the matrix's heading.
type matrixColumnView struct {
	Name, Href, Target, Date, Summary string
	Seed                              uint64
	Counts                            []statusCount // those that are not zero
}

func (m matrix) page() matrixPage {
	p := matrixPage{Title: "Conformance to PROTOCOL.md", Groups: m.groups, Span: 2 + len(m.cols), Meanings: summaryCounts(Summary{})}
	for i, c := range m.cols {
		v := matrixColumnView{
			Name: c.Name, Href: m.dirs[i] + "/index.html", Target: c.Report.Target, Date: formatDate(c.Report.Started),
			Summary: c.Report.Summary.String(), Seed: c.Report.Seed,
		}
		for _, sc := range summaryCounts(c.Report.Summary) {
			if sc.Count > 0 {
				v.Counts = append(v.Counts, sc)
			}
		}
		p.Columns = append(p.Columns, v)
	}
	return p
}

// matrixJSON is matrix.json.
type matrixJSON struct {
	Servers []matrixServerJSON `json:"servers"`
	Scripts []matrixScriptJSON `json:"scripts"`
}

type matrixServerJSON struct {
	Name    string            `json:"name"`
	Dir     string            `json:"dir"`
	Target  string            `json:"target"`
	Seed    string            `json:"seed"` // a string: readers that hold numbers as float64 would round it
	Started string            `json:"started,omitempty"`
	Strict  bool              `json:"strict,omitempty"`
	Summary matrixSummaryJSON `json:"summary"`
}

type matrixSummaryJSON struct {
	Passed        int    `json:"passed"`
	Failed        int    `json:"failed"` // XPASS included, as in Summary
	NonStrict     int    `json:"non_strict"`
	Unimplemented int    `json:"unimplemented"`
	Skipped       int    `json:"skipped"`
	XFail         int    `json:"xfail"`
	XPass         int    `json:"xpass"`
	Reproduce     string `json:"reproduce,omitempty"`
}

type matrixScriptJSON struct {
	Name     string            `json:"name"`
	Section  string            `json:"section"`
	Rules    []string          `json:"rules"`
	Strength Strength          `json:"strength"`
	Verdicts map[string]Status `json:"verdicts"` // encoding/json sorts the keys
}

func (m matrix) json() matrixJSON {
	out := matrixJSON{Servers: []matrixServerJSON{}, Scripts: []matrixScriptJSON{}}
	for i, c := range m.cols {
		s := c.Report.Summary
		v := matrixServerJSON{
			Name: c.Name, Dir: m.dirs[i], Target: c.Report.Target, Seed: strconv.FormatUint(c.Report.Seed, 10),
			Strict: c.Report.Strict,
			Summary: matrixSummaryJSON{
				Passed: s.Passed, Failed: s.Failed, NonStrict: s.NonStrict, Unimplemented: s.Unimplemented,
				Skipped: s.Skipped, XFail: s.XFailed, XPass: s.XPassed, Reproduce: s.Reproduce,
			},
		}
		if !c.Report.Started.IsZero() {
			v.Started = c.Report.Started.Format(time.RFC3339)
		}
		out.Servers = append(out.Servers, v)
	}
	for _, g := range m.groups {
		for _, row := range g.Rows {
			v := matrixScriptJSON{Name: row.Name, Section: g.Name, Rules: row.Rules, Strength: row.Strength, Verdicts: map[string]Status{}}
			if v.Rules == nil {
				v.Rules = []string{}
			}
			for i, c := range row.Cells {
				if c.Status != "" {
					v.Verdicts[m.cols[i].Name] = c.Status
				}
			}
			out.Scripts = append(out.Scripts, v)
		}
	}
	return out
}
