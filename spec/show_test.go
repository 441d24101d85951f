package spec_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

func TestShow(t *testing.T) {
	for line, want := range map[string]string{
		"OK Welcome, alice!":      "OK Welcome, alice!",
		"ROOM #a bob é ünïcödé ✓": "ROOM #a bob é ünïcödé ✓",
		"":                        `""`,
		" lead":                   `" lead"`,
		"trail ":                  `"trail "`,
		"MSG a\x00b":              `"MSG a\x00b"`,
		"line\r\n":                `"line\r\n"`,
		"\xff\xfe":                `"\xff\xfe"`,
		"MSG c1\u0085":            `"MSG c1\u0085"`,
		"MSG \u2028next":          `"MSG \u2028next"`,
		"MSG \u202egnp.exe":       `"MSG \u202egnp.exe"`,
		"MSG \u2066isolate\u2069": `"MSG \u2066isolate\u2069"`,
		"MSG \u061cmark":          `"MSG \u061cmark"`,
	} {
		if got := spec.Show(line); got != want {
			t.Errorf("Show(%q) = %s, want %s", line, got, want)
		}
	}
	long := strings.Repeat("a", 200) + strings.Repeat("b", 200)
	if got, want := spec.Show(long), strings.Repeat("a", 120)+"...(400 bytes in all)..."+strings.Repeat("b", 60); got != want {
		t.Errorf("Show of a long line = %q, want %q", got, want)
	}
	if got, want := spec.Quote(long+"\n"), `"`+strings.Repeat("a", 120)+`"...(401 bytes in all)..."`+strings.Repeat("b", 59)+`\n"`; got != want {
		t.Errorf("Quote of long data = %s, want %s", got, want)
	}
}

// TestShowForbidden checks that no character FRAME-8 forbids ever reaches a
// log as it is: a line holding one is quoted, with the character escaped.
func TestShowForbidden(t *testing.T) {
	for r := rune(0); r <= 0x2100; r++ {
		if !spec.IsForbidden(r) {
			continue
		}
		line := "MSG a" + string(r) + "b"
		if spec.Printable(line) {
			t.Errorf("Printable(%q) = true", line)
		}
		if got := spec.Show(line); strings.ContainsRune(got, r) || got != strconv.Quote(line) {
			t.Errorf("Show(%q) = %s", line, got)
		}
	}
}

// TestShowProperty: a line is shown as it is exactly when CheckLine
// accepts it and it has no space at either end, and a quoted line unquotes
// to the line.
func TestShowProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		line := rapid.StringOfN(rapid.OneOf(
			rapid.RuneFrom([]rune(" aé✓\x00\x1b\x7f\u0085\u00a0\u061c\u200e\u2028\u2029\u202e\u2066\ufeff\U0001F600")),
			rapid.Rune(),
		), 0, 40, -1).Draw(t, "line")
		if rapid.Bool().Draw(t, "invalid") {
			line += "\xc3"
		}
		plain := line != "" && line[0] != ' ' && line[len(line)-1] != ' ' && spec.CheckLine([]byte(line)) == ""
		got := spec.Show(line)
		if plain != (got == line) || plain != spec.Printable(line) {
			t.Fatalf("Show(%q) = %s; CheckLine says %q", line, got, spec.CheckLine([]byte(line)))
		}
		if !plain {
			if u, err := strconv.Unquote(got); err != nil || u != line {
				t.Fatalf("Show(%q) = %s does not unquote to the line: %q, %v", line, got, u, err)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("Show(%q) = %q is not valid UTF-8", line, got)
			}
		}
	})
}
