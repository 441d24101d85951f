package conformance

import (
	"regexp"
	"strings"
)

//go:generate go test -run TestRequirementsUpToDate -update

// A Requirement is one rule of PROTOCOL.md.
type Requirement struct {
	ID       string   // such as JOIN-4
	Tag      string   // core or an extension
	Strength Strength // whether a server that breaks it fails (MUST) or only departs from a recommendation (SHOULD)
	Section  string   // the heading of the section it is in, such as "5.3 JOIN"
	Text     string   // its text in PROTOCOL.md (Markdown), after the ID and tag
}

// Strength is how binding a requirement is (PROTOCOL.md 1.1): a
// requirement whose text says SHOULD, and nothing stronger, is a
// recommendation; every other one is absolute.
type Strength string

// The strengths.
const (
	Must   Strength = "MUST"
	Should Strength = "SHOULD"
)

// requirementLine matches a requirement at the start of a bullet item,
// such as "- **JOIN-4** [core] The joiner then receives...".
var requirementLine = regexp.MustCompile(`^- \*\*([A-Z]+-[0-9]+)\*\* \[([a-z]+)\] ?(.*)$`)

// stronger matches the key words that make a requirement absolute even if
// it also says SHOULD.
var stronger = regexp.MustCompile(`\b(MUST|SHALL|REQUIRED)\b`)

// recommends matches the key words of a recommendation.
var recommends = regexp.MustCompile(`\b(SHOULD|RECOMMENDED)\b`)

// parseRequirements returns the requirements of a PROTOCOL.md text in the
// order they appear, each with its section, text and strength. A
// requirement's text runs to the end of its bullet item: the next line that
// is not indented, or a blank line.
func parseRequirements(protocol string) []Requirement {
	var reqs []Requirement
	section := ""
	var cur *Requirement
	finish := func() {
		if cur == nil {
			return
		}
		cur.Strength = Must
		if recommends.MatchString(cur.Text) && !stronger.MatchString(cur.Text) {
			cur.Strength = Should
		}
		reqs = append(reqs, *cur)
		cur = nil
	}
	for _, line := range strings.Split(protocol, "\n") {
		if cur != nil && strings.HasPrefix(line, "  ") && strings.TrimSpace(line) != "" {
			cur.Text += " " + strings.TrimSpace(line)
			continue
		}
		finish()
		if h, ok := strings.CutPrefix(line, "## "); ok {
			section = h
		} else if h, ok := strings.CutPrefix(line, "### "); ok {
			section = h
		}
		if m := requirementLine.FindStringSubmatch(line); m != nil {
			cur = &Requirement{ID: m[1], Tag: m[2], Section: strings.TrimSuffix(section, "."), Text: m[3]}
		}
	}
	finish()
	return reqs
}

// requirement returns the requirement called id (in any case) from
// Requirements.
func requirement(id string) (Requirement, bool) {
	id = strings.ToUpper(id)
	for _, r := range Requirements {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}

// ruleCoverage is what checks one requirement: the scripts, and the means
// of the model side (means.go).
type ruleCoverage struct {
	Requirement
	Scripts []string
	Model   []string // "model checker", "transcripts"
}

// Means returns how many independent means check the requirement: each
// script is one, the model checker one, the transcripts one.
func (c ruleCoverage) Means() int { return len(c.Scripts) + len(c.Model) }

// minMeans is how many independent means every requirement must have.
const minMeans = 2

// coverage maps every requirement to the scripts whose "# rules:" header
// names it, and to the means of the model side that check it, in
// requirement order. Rules that scripts name but reqs lacks are returned
// as unknown.
func coverage(reqs []Requirement, scripts []*Script) (cov []ruleCoverage, unknown map[string][]string) {
	model := modelMeans()
	byID := map[string]int{}
	for i, r := range reqs {
		cov = append(cov, ruleCoverage{Requirement: r, Model: model[r.ID]})
		byID[r.ID] = i
	}
	unknown = map[string][]string{}
	for _, sc := range scripts {
		for _, id := range sc.Rules {
			if i, ok := byID[strings.ToUpper(id)]; ok {
				cov[i].Scripts = append(cov[i].Scripts, sc.Name)
			} else {
				unknown[id] = append(unknown[id], sc.Name)
			}
		}
	}
	return cov, unknown
}
