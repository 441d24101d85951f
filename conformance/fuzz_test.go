package conformance

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzParseManifest: any text is a manifest or an error, never a panic; a
// manifest implements core whenever it names extensions, only known tags,
// and its deviations have reasons.
func FuzzParseManifest(f *testing.F) {
	f.Add("implements ping input\ndeviation MSG-2 we do not echo\n# comment\n")
	f.Add("deviation frame_bare_lf  no bare LF\nimplements limits, shutdown\n")
	f.Add("implements\ndeviation x\nbogus\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := ParseManifest([]byte(text), nil)
		if err != nil {
			return
		}
		if m.Implements != nil && !slices.Contains(m.Implements, "core") {
			t.Fatalf("implements %v without core", m.Implements)
		}
		for _, tag := range m.Implements {
			if !slices.Contains(Tags, tag) {
				t.Fatalf("unknown tag %q accepted", tag)
			}
		}
		for name, reason := range m.Deviations {
			if name == "" || strings.TrimSpace(reason) == "" {
				t.Fatalf("deviation %q with reason %q", name, reason)
			}
		}
	})
}

// FuzzParseScript: any file is a script or an error; a script has tags,
// all known, and rules, and its name comes from its file name.
func FuzzParseScript(f *testing.F) {
	f.Add("# tags: core, ping\n# rules: JOIN-3 JOIN-4\n# server: -max-clients 2\n\nconnect a\n")
	f.Add("# tags: limits\n# rules: LIMIT-1\n# server: -name 'two words' \"x y\n")
	f.Add("-- file --\n# tags: core\n")
	f.Fuzz(func(t *testing.T, text string) {
		sc, err := parseScript("area_name.txtar", []byte(text))
		if err != nil {
			return
		}
		if sc.Name != "area_name" || len(sc.Tags) == 0 || len(sc.Rules) == 0 {
			t.Fatalf("parsed %+v", sc)
		}
		for _, tag := range sc.Tags {
			if !slices.Contains(Tags, tag) {
				t.Fatalf("unknown tag %q accepted", tag)
			}
		}
		sc.Strength() // must not panic whatever the rules are
		sc.ShouldRules()
	})
}

// FuzzExpectations: any text is expectations or an error; what parses
// formats and parses back to itself.
func FuzzExpectations(f *testing.F) {
	f.Add("join_create_room PASS\nchatd disc_reset_lines NON-STRICT\n# c\n")
	f.Add("a FAIL\na PASS\n")
	f.Add("x y z w\n")
	f.Fuzz(func(t *testing.T, text string) {
		e, err := ParseExpectations([]byte(text))
		if err != nil {
			return
		}
		back, err := ParseExpectations(e.Format())
		if err != nil {
			t.Fatalf("the formatted expectations do not parse: %v\n%s", err, e.Format())
		}
		if !maps.Equal(e, back) {
			t.Fatalf("round trip: %v, then %v", e, back)
		}
	})
}

// FuzzSplitWords: a command line splits into words or is refused; the
// words, quoted again, split into the same words.
func FuzzSplitWords(f *testing.F) {
	f.Add(`./chatd -addr 127.0.0.1:{port} -name "two words" 'x y'`)
	f.Add(`a "b`)
	f.Add(`''  ""`)
	f.Fuzz(func(t *testing.T, line string) {
		words, err := SplitWords(line)
		if err != nil {
			return
		}
		var quoted []string
		for _, w := range words {
			if strings.Contains(w, "'") {
				if strings.Contains(w, `"`) {
					return // not expressible without escapes
				}
				quoted = append(quoted, `"`+w+`"`)
			} else {
				quoted = append(quoted, "'"+w+"'")
			}
		}
		again, err := SplitWords(strings.Join(quoted, " "))
		if err != nil || !slices.Equal(words, again) {
			t.Fatalf("%q split into %q; quoted again, into %q (%v)", line, words, again, err)
		}
	})
}

// FuzzParseRequirements: any document yields requirements with IDs of the
// right form, one strength each, and text on one line.
func FuzzParseRequirements(f *testing.F) {
	f.Add("## 5. Commands\n\n- **JOIN-4** [core] The joiner MUST\n  receive it.\n- **DISC-5** [core] It SHOULD be so.\n")
	f.Add("### 8.3 Output\n- **A-1** [x]\n  \n- **B-2** [y] text\n")
	id := regexp.MustCompile(`^[A-Z]+-[0-9]+$`)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, r := range parseRequirements(doc) {
			if !id.MatchString(r.ID) || r.Tag == "" || strings.Contains(r.Text, "\n") {
				t.Fatalf("requirement %+v", r)
			}
			if r.Strength != Must && r.Strength != Should {
				t.Fatalf("requirement %s of strength %q", r.ID, r.Strength)
			}
		}
	})
}
