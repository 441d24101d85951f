package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// A Manifest is what a server declares about itself: the extensions it
// implements and where it knowingly departs from PROTOCOL.md. Its text form
// is one declaration a line; # starts a comment:
//
//	# myserver 1.2
//	implements ping input
//	deviation frame_line_too_long_early  we answer only once the LF arrives
//	deviation MSG-2  we do not echo room messages to their sender
//
// core is always implemented. If the manifest has an implements line, a
// script that needs an extension it does not list is skipped; without one,
// the manifest says nothing about extensions. The robustness scripts need
// no declaration: robustness is not an extension (TagRobustness).
//
// A deviation names a script, or a rule of PROTOCOL.md: the latter marks
// every script whose "# rules:" header names the rule. A marked script that
// fails is reported as XFAIL; one that passes is XPASS, a failure asking for
// the manifest to be updated.
type Manifest struct {
	Implements     []string          // tags, core included; nil if not declared
	Deviations     map[string]string // script name -> reason
	RuleDeviations map[string]string // rule ID, in upper case -> reason
}

// ruleID matches the form of a rule ID, such as MSG-2.
var ruleID = regexp.MustCompile(`^[A-Za-z]+-[0-9]+$`)

// ParseManifest parses the text form of a manifest. A deviation must name
// one of scripts, or a rule of Requirements or of a script's "# rules:"
// header, so that a misspelt one is an error; if scripts is nil, any script
// name or rule ID is accepted.
func ParseManifest(data []byte, scripts []*Script) (*Manifest, error) {
	var names, rules []string
	for _, sc := range scripts {
		names = append(names, sc.Name)
		for _, id := range sc.Rules {
			rules = append(rules, strings.ToUpper(id))
		}
	}
	for _, req := range Requirements {
		rules = append(rules, req.ID)
	}
	m := &Manifest{Deviations: map[string]string{}, RuleDeviations: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		switch fields[0] {
		case "implements":
			if m.Implements == nil {
				m.Implements = []string{"core"}
			}
			for _, t := range fields[1:] {
				t = strings.Trim(t, ",")
				if !slices.Contains(Tags, t) {
					return nil, fmt.Errorf("manifest line %d: unknown tag %q (known: %s)", n, t, strings.Join(Tags, ", "))
				}
				if !slices.Contains(m.Implements, t) {
					m.Implements = append(m.Implements, t)
				}
			}
		case "deviation":
			if len(fields) < 3 {
				return nil, fmt.Errorf("manifest line %d: want: deviation SCRIPT-OR-RULE REASON...", n)
			}
			name, reason := strings.TrimSuffix(fields[1], ".txtar"), strings.Join(fields[2:], " ")
			switch {
			case scripts == nil && !ruleID.MatchString(name) || slices.Contains(names, name):
				m.Deviations[name] = reason
			case scripts == nil || ruleID.MatchString(name) && slices.Contains(rules, strings.ToUpper(name)):
				m.RuleDeviations[strings.ToUpper(name)] = reason
			case ruleID.MatchString(name):
				return nil, fmt.Errorf("manifest line %d: no rule %s in PROTOCOL.md or in the scripts' rules: headers", n, name)
			default:
				return nil, fmt.Errorf("manifest line %d: no script called %q", n, name)
			}
		default:
			return nil, fmt.Errorf("manifest line %d: unknown declaration %q (want implements or deviation)", n, fields[0])
		}
	}
	return m, sc.Err()
}
