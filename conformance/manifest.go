package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// A Manifest is what a server declares about itself: the extensions it
// implements and the scripts it knowingly fails. Its text form is one
// declaration a line; # starts a comment:
//
//	# myserver 1.2
//	implements ping input
//	deviation frame_line_too_long_early  we answer only once the LF arrives
//
// core is always implemented. If the manifest has an implements line, a
// script that needs an extension it does not list is skipped; without one,
// the manifest says nothing about extensions. The robustness scripts need
// no declaration: robustness is not an extension (TagRobustness). A deviating script that fails is reported as
// XFAIL; one that passes is XPASS, a failure asking for the manifest to be
// updated.
type Manifest struct {
	Implements []string          // tags, core included; nil if not declared
	Deviations map[string]string // script name -> reason
}

// ParseManifest parses the text form of a manifest. known lists the script
// names, so that a misspelt deviation is an error.
func ParseManifest(data []byte, known []string) (*Manifest, error) {
	m := &Manifest{Deviations: map[string]string{}}
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
				return nil, fmt.Errorf("manifest line %d: want: deviation SCRIPT REASON...", n)
			}
			name := strings.TrimSuffix(fields[1], ".txtar")
			if known != nil && !slices.Contains(known, name) {
				return nil, fmt.Errorf("manifest line %d: no script called %q", n, name)
			}
			m.Deviations[name] = strings.Join(fields[2:], " ")
		default:
			return nil, fmt.Errorf("manifest line %d: unknown declaration %q (want implements or deviation)", n, fields[0])
		}
	}
	return m, sc.Err()
}
