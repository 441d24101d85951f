package conformance

import (
	"regexp"
	"strings"
)

//go:generate go test -run TestRequirementsUpToDate -update

// A Requirement is one rule of PROTOCOL.md.
type Requirement struct {
	ID  string // such as JOIN-4
	Tag string // core or an extension
}

// requirementLine matches a requirement at the start of a bullet item,
// such as "- **JOIN-4** [core] The joiner then receives...".
var requirementLine = regexp.MustCompile(`(?m)^- \*\*([A-Z]+-[0-9]+)\*\* \[([a-z]+)\]`)

// parseRequirements returns the requirements of a PROTOCOL.md text in the
// order they appear.
func parseRequirements(protocol string) []Requirement {
	var reqs []Requirement
	for _, m := range requirementLine.FindAllStringSubmatch(protocol, -1) {
		reqs = append(reqs, Requirement{ID: m[1], Tag: m[2]})
	}
	return reqs
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
