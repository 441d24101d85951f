package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Expectations are the committed verdicts of a run, which a later run is
// compared with (chatconform -expect): the key is a script's name, or
// "SERVER SCRIPT" for a matrix of servers (-servers), and the value its
// verdict. An implementer's CI pins today's state in a file and fails only
// when a verdict changes, for better or worse.
//
// The text form has one verdict a line; # starts a comment:
//
//	# chatconform -write-expect
//	join_create_room PASS
//	disc_reset_lines NON-STRICT
type Expectations map[string]Status

// ResultExpectations returns the verdicts of results, each under its
// script's name, prefixed by server and a space unless server is "".
func ResultExpectations(server string, results []Result) Expectations {
	e := Expectations{}
	for _, r := range results {
		key := r.Script.Name
		if server != "" {
			key = server + " " + key
		}
		e[key] = r.Status
	}
	return e
}

// ParseExpectations parses the text form of Expectations.
func ParseExpectations(data []byte) (Expectations, error) {
	e := Expectations{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("expectations line %d: want SCRIPT VERDICT or SERVER SCRIPT VERDICT", n)
		}
		st := Status(fields[len(fields)-1])
		if !slices.Contains(Statuses, st) {
			return nil, fmt.Errorf("expectations line %d: unknown verdict %q (known: %s)", n, st, statusList())
		}
		key := strings.Join(fields[:len(fields)-1], " ")
		if _, dup := e[key]; dup {
			return nil, fmt.Errorf("expectations line %d: %s is listed twice", n, key)
		}
		e[key] = st
	}
	return e, sc.Err()
}

func statusList() string {
	var s []string
	for _, st := range Statuses {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// Format returns the text form of e, sorted by key.
func (e Expectations) Format() []byte {
	var b bytes.Buffer
	b.WriteString("# The verdicts of a chatconform run (chatconform -write-expect): a run\n")
	b.WriteString("# with -expect fails when one of them changes.\n")
	for _, k := range slices.Sorted(maps.Keys(e)) {
		fmt.Fprintf(&b, "%s %s\n", k, e[k])
	}
	return b.Bytes()
}

// A Change is a verdict that differs from the expectation.
type Change struct {
	Key      string
	Was, Now Status // "" when the script was not expected, or did not run
}

// Better reports whether the change is an improvement: the new verdict
// ranks above the old (rank).
func (c Change) Better() bool { return c.Was != "" && c.Now != "" && rank(c.Now) < rank(c.Was) }

// String describes the change, such as
// "worse: join_create_room was PASS, now FAIL".
func (c Change) String() string {
	switch {
	case c.Was == "":
		return fmt.Sprintf("new: %s is %s (not in the expectations)", c.Key, c.Now)
	case c.Now == "":
		return fmt.Sprintf("gone: %s was %s, and did not run", c.Key, c.Was)
	case c.Better():
		return fmt.Sprintf("better: %s was %s, now %s", c.Key, c.Was, c.Now)
	default:
		return fmt.Sprintf("worse: %s was %s, now %s", c.Key, c.Was, c.Now)
	}
}

// rank orders the verdicts from best to worst, for Change.Better: a pass,
// then an expected failure, a SHOULD missed, a script that did not run, and
// a failure.
func rank(s Status) int {
	return map[Status]int{Pass: 0, XFail: 1, NonStrict: 2, Unimplemented: 3, Skip: 3, XPass: 4, Fail: 5}[s]
}

// Compare returns the differences between the expectations e and the
// verdicts got, sorted by key.
func (e Expectations) Compare(got Expectations) []Change {
	var changes []Change
	all := maps.Clone(e)
	maps.Copy(all, got)
	keys := slices.Sorted(maps.Keys(all))
	for _, k := range keys {
		if was, now := e[k], got[k]; was != now {
			changes = append(changes, Change{Key: k, Was: was, Now: now})
		}
	}
	return changes
}
