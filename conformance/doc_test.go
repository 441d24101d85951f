package conformance

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"roomchat.dev/roomchat/conformance/internal/commands"
)

// The # Commands section of doc.go, between these lines.
const (
	referenceStart = "// # Commands\n//\n"
	referenceEnd   = "//\n// # Running\n"
)

// TestCommandReference checks that the # Commands section of doc.go is the
// reference generated from the command table, so that each command's syntax
// is written once, in the table; with -update it rewrites the section.
func TestCommandReference(t *testing.T) {
	data, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte(referenceStart))
	j := bytes.Index(data, []byte(referenceEnd))
	if i < 0 || j < i {
		t.Fatalf("doc.go has no section between %q and %q", referenceStart, referenceEnd)
	}
	i += len(referenceStart)
	want := commentLines(commands.Reference())
	if *flagUpdate {
		out := append(append(append([]byte(nil), data[:i]...), want...), data[j:]...)
		if err := os.WriteFile("doc.go", out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := string(data[i:j]); got != want {
		t.Errorf("the # Commands section of doc.go is out of date with the command table: run go generate ./conformance\n--- doc.go\n%s\n--- generated\n%s", got, want)
	}
}

// commentLines turns text into the lines of a doc comment.
func commentLines(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		switch {
		case l == "":
			b.WriteString("//\n")
		case strings.HasPrefix(l, "\t"):
			b.WriteString("//" + l + "\n")
		default:
			b.WriteString("// " + l + "\n")
		}
	}
	return b.String()
}
