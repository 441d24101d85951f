package conformance

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/conformance/modelcheck"
)

// protocolSection is one section of PROTOCOL.md (a ## or ### heading and
// what follows it up to the next): the rules it defines and how many
// transcripts it holds.
type protocolSection struct {
	heading     string
	rules       []string
	transcripts int
}

var headingLine = regexp.MustCompile(`^#{2,3} `)

// protocolSections splits PROTOCOL.md into its sections.
func protocolSections(t *testing.T) []protocolSection {
	t.Helper()
	data, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	var secs []protocolSection
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case headingLine.MatchString(line):
			secs = append(secs, protocolSection{heading: line})
		case len(secs) == 0:
		case strings.HasPrefix(line, "```transcript"):
			secs[len(secs)-1].transcripts++
		default:
			if m := requirementLine.FindStringSubmatch(line); m != nil {
				secs[len(secs)-1].rules = append(secs[len(secs)-1].rules, m[1])
			}
		}
	}
	return secs
}

// TestMeans checks the lists of means.go against PROTOCOL.md: every rule
// they name is a requirement; each section they name by its anchor holds a
// transcript; and every section that holds both rules and transcripts is
// listed, so that a new transcript is not forgotten.
func TestMeans(t *testing.T) {
	reqs := map[string]bool{}
	for _, r := range readProtocol(t) {
		reqs[r.ID] = true
	}
	for _, id := range ModelCheckerRules {
		if !reqs[id] {
			t.Errorf("ModelCheckerRules: %s is not a requirement of PROTOCOL.md", id)
		}
	}
	secs := protocolSections(t)
	listed := map[string]bool{}
	for _, s := range transcriptRules {
		i := slices.IndexFunc(secs, func(sec protocolSection) bool { return slices.Contains(sec.rules, s.anchor) })
		switch {
		case i < 0:
			t.Errorf("transcriptRules: no section of PROTOCOL.md defines %s", s.anchor)
			continue
		case secs[i].transcripts == 0:
			t.Errorf("transcriptRules: the section of %s (%q) holds no transcript", s.anchor, secs[i].heading)
		}
		listed[secs[i].heading] = true
		for _, id := range s.rules {
			if !reqs[id] {
				t.Errorf("transcriptRules, section of %s: %s is not a requirement of PROTOCOL.md", s.anchor, id)
			}
		}
	}
	for _, sec := range secs {
		if sec.transcripts > 0 && len(sec.rules) > 0 && !listed[sec.heading] {
			t.Errorf("%q holds %d transcripts, but transcriptRules does not say which rules they show", sec.heading, sec.transcripts)
		}
	}
}

// TestModelCheckerRules: ModelCheckerRules are exactly the rules whose
// situations the model checker steers to and counts (modelcheck's rule
// coverage), so that the two lists cannot drift apart.
func TestModelCheckerRules(t *testing.T) {
	counted := slices.Sorted(slices.Values(new(modelcheck.Coverage).Rules()))
	listed := slices.Sorted(slices.Values(ModelCheckerRules))
	if !slices.Equal(counted, listed) {
		t.Errorf("ModelCheckerRules are %v; the model checker counts situations of %v", listed, counted)
	}
}
