package conformance

import (
	"slices"
	"strconv"
	"strings"
)

// indexPage is what index.html shows: the run, its summary, the rules of
// PROTOCOL.md section by section, and every result.
type indexPage struct {
	Rep       Report
	Up        string // the page above (a matrix), or ""
	Date      string
	Summary   string // Summary.String()
	Counts    []statusCount
	Reproduce string // the command that runs the failures again, or ""
	Sections  []sectionView
	Unknown   []ruleView // rules that scripts name and PROTOCOL.md lacks
	Scripts   []scriptRow
}

// sectionView is one section of PROTOCOL.md and its rules.
type sectionView struct {
	Name   string
	Anchor string
	Rules  []ruleView
}

// ruleView is one rule's row: what checks it, and its verdict.
type ruleView struct {
	ID, Anchor, Tag string
	Strength        Strength
	Text            string // Markdown
	Checks          []scriptLink
	Model           *modelLink // nil if the model checker does not check the rule
	Transcripts     bool       // the transcripts of PROTOCOL.md check it
	Verdict         Status     // the worst of its results', "" if none ran
}

// scriptLink is a link to a result's page, with its verdict.
type scriptLink struct {
	Name, Href string
	Status     Status
}

// modelLink is the model checker in a rule's row.
type modelLink struct {
	Href   string // its page, or "" if it did not run
	Status Status // its verdict on the rule, or "" if it did not judge it
	Note   string // why there is no verdict
}

// scriptRow is one result in the list of all of them.
type scriptRow struct {
	Name, Href string
	Model      bool
	Status     Status
	Duration   string
	Reason     string
	Rules      []ruleRef
}

// ruleRef is a rule named by a script, with a link to its row.
type ruleRef struct{ ID, Href string }

// newIndexPage builds index.html for rep, whose results' pages are
// scripts/files[i].html.
func newIndexPage(rep Report, files []string, up string) indexPage {
	p := indexPage{
		Rep: rep, Up: up, Date: formatDate(rep.Started), Summary: rep.Summary.String(),
		Counts: summaryCounts(rep.Summary), Reproduce: reproduceLine(rep),
	}
	href := func(i int) string { return "scripts/" + files[i] + ".html" }
	model := -1 // the model checker's result, the last if several
	for i, r := range rep.Results {
		if isModel(r) {
			model = i
		}
	}
	means := modelMeans()
	// row builds the row of a rule, known or not.
	row := func(id string, req Requirement, known bool) ruleView {
		v := ruleView{ID: id, Anchor: ruleAnchor(id)}
		if known {
			v.ID, v.Tag, v.Strength, v.Text = req.ID, req.Tag, req.Strength, req.Text
		}
		var statuses []Status
		for i, r := range rep.Results {
			if isModel(r) || !hasRule(scriptOf(r), id) {
				continue
			}
			v.Checks = append(v.Checks, scriptLink{scriptOf(r).Name, href(i), r.Status})
			statuses = append(statuses, r.Status)
		}
		checker := slices.Contains(means[v.ID], meansChecker)
		v.Transcripts = slices.Contains(means[v.ID], meansTranscripts)
		switch {
		case model >= 0 && hasRule(scriptOf(rep.Results[model]), id):
			r := rep.Results[model]
			v.Model = &modelLink{Href: href(model), Status: r.Status}
			statuses = append(statuses, r.Status)
		case model >= 0 && checker:
			v.Model = &modelLink{Href: href(model), Note: "not judged"}
			if rep.Results[model].Status == Pass {
				v.Model.Note = "not reached"
			}
		case checker:
			v.Model = &modelLink{Note: "not run"}
		}
		v.Verdict = worst(statuses)
		return v
	}
	for _, req := range Requirements {
		if n := len(p.Sections); n == 0 || p.Sections[n-1].Name != req.Section {
			p.Sections = append(p.Sections, sectionView{Name: req.Section, Anchor: "section-" + strconv.Itoa(n+1)})
		}
		s := &p.Sections[len(p.Sections)-1]
		s.Rules = append(s.Rules, row(req.ID, req, true))
	}
	// Rules that scripts name and PROTOCOL.md lacks, in the order they are
	// first named.
	var unknown []string
	for _, r := range rep.Results {
		for _, id := range scriptOf(r).Rules {
			if _, ok := requirement(id); !ok && !slices.ContainsFunc(unknown, func(u string) bool { return strings.EqualFold(u, id) }) {
				unknown = append(unknown, id)
			}
		}
	}
	for _, id := range unknown {
		p.Unknown = append(p.Unknown, row(id, Requirement{}, false))
	}
	for i, r := range rep.Results {
		sc := scriptOf(r)
		sr := scriptRow{Name: sc.Name, Href: href(i), Model: isModel(r), Status: r.Status, Duration: seconds(r.Duration), Reason: r.Reason}
		for _, id := range sc.Rules {
			sr.Rules = append(sr.Rules, ruleRef{id, "#" + ruleAnchor(id)})
		}
		p.Scripts = append(p.Scripts, sr)
	}
	return p
}
