package conformance

import (
	"fmt"
	"strings"
)

// scriptPage is what scripts/NAME.html shows: one result, the rules its
// script checks with their text, its wire log and its logs.
type scriptPage struct {
	Server    string
	Index     string // index.html, relative to the page
	Up        string // the page above the index (a matrix), or ""
	Name      string
	Model     bool // the model checker's result
	Status    Status
	Meaning   string
	Reason    string
	Should    string
	Duration  string
	U         string
	Tags      []string
	Strength  Strength
	Rules     []ruleDetail
	Wire      []wireRow
	Differs   bool // a row of Wire is the first difference
	Unread    int  // rows of Wire received and never read
	Log       string
	ServerLog string
	Source    string // the script
}

// ruleDetail is a rule a script checks, with its text.
type ruleDetail struct {
	ID, Tag, Section string
	Known            bool // PROTOCOL.md has it
	Strength         Strength
	Text             string // Markdown
	Href             string // its row on index.html
}

// wireRow is one row of a wire log.
type wireRow struct {
	At, Client, Dir, Text string
	Class                 string // sent, received, note or elided, and unread or differs
	Elided                bool
	Unread                bool
	Differs               bool
	First                 bool // the first row that Differs: id="first-difference"
}

// newScriptPage builds the page of r, a result of rep.
func newScriptPage(rep Report, r Result, up string) scriptPage {
	sc := scriptOf(r)
	p := scriptPage{
		Server: rep.Server, Index: "../index.html", Name: sc.Name, Model: isModel(r),
		Status: r.Status, Meaning: statusMeaning[r.Status], Reason: r.Reason, Should: r.Should,
		Duration: seconds(r.Duration), U: r.U, Tags: sc.Tags, Strength: sc.Strength(),
		Log: r.Log, ServerLog: r.ServerLog, Source: string(sc.Text),
	}
	if up != "" {
		p.Up = "../" + up
	}
	for _, id := range sc.Rules {
		d := ruleDetail{ID: id, Href: "../index.html#" + ruleAnchor(id)}
		if req, ok := requirement(id); ok {
			d.ID, d.Tag, d.Section, d.Strength, d.Text, d.Known = req.ID, req.Tag, req.Section, req.Strength, req.Text, true
		}
		p.Rules = append(p.Rules, d)
	}
	for _, e := range r.Wire {
		w := wireRow{At: fmt.Sprintf("+%.3fs", e.At.Seconds()), Client: e.Client, Text: e.Text, Unread: e.Unread, Differs: e.Differs}
		switch e.Kind {
		case WireSent:
			w.Dir, w.Class = ">", "sent"
		case WireReceived:
			w.Dir, w.Class = "<", "received"
		case WireElided:
			w.Elided, w.Class = true, "elided"
		default:
			w.Dir, w.Class = ":", "note"
		}
		if w.Unread {
			w.Class += " unread"
			p.Unread++
		}
		if w.Differs {
			w.Class += " differs"
			w.First = !p.Differs
			p.Differs = true
		}
		p.Wire = append(p.Wire, w)
	}
	return p
}

// Title returns the page's title.
func (p scriptPage) Title() string {
	what := p.Name
	if p.Model {
		what = "model checker"
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s: %s", p.Status, what, p.Server))
}
