package transcript

import (
	"strings"
	"testing"
)

// FuzzParseSteps: any body parses or is refused with an error, never a
// panic or a huge allocation; a parsed step names a client, an operation
// of the notation, and the line it came from.
func FuzzParseSteps(f *testing.F) {
	f.Add("alice> USERNAME alice\nalice< OK Welcome, alice!\nbob: connect\n", 1)
	f.Add("# comment\n\nalice> USERNAME \\x{600}\nalice> \\xff\n", 10)
	f.Add("alice: shutdown\nserver: shutdown\nx> \\x{99999999999}\n", 1)
	f.Fuzz(func(t *testing.T, body string, first int) {
		steps, err := ParseSteps(body, first)
		if err != nil {
			return
		}
		for _, s := range steps {
			if s.Who == "" || s.Src == "" || !strings.Contains(body, s.Src) {
				t.Fatalf("step %+v does not come from the body", s)
			}
			if s.Op != ">" && s.Op != "<" && !isEvent(s.Op) {
				t.Fatalf("step %+v: unknown operation", s)
			}
		}
	})
}
