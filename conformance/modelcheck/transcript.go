package modelcheck

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// transcript records what every client sent and received during one test
// case, for the failure report.
type transcript struct {
	entries []string
}

func (tr *transcript) sent(label string, data []byte, how string) {
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l != "" {
			tr.entries = append(tr.entries, fmt.Sprintf("%s> %s%s", label, show(strings.TrimRight(l, "\r\n")), suffixOf(l, how)))
		}
	}
}

func suffixOf(l, how string) string {
	switch {
	case !strings.HasSuffix(l, "\n"):
		return "   (no terminator)"
	case !strings.HasSuffix(l, "\r\n"):
		return "   (LF)"
	case how != "" && how != "crlf":
		return "   (" + how + ")"
	}
	return ""
}

func (tr *transcript) received(label, line string) {
	tr.entries = append(tr.entries, fmt.Sprintf("%s< %s", label, show(line)))
}

func (tr *transcript) event(label, what string) {
	tr.entries = append(tr.entries, fmt.Sprintf("%s: %s", label, what))
}

func (tr *transcript) String() string {
	var b strings.Builder
	b.WriteString("transcript (> sent by a client, < received by it, : connection events):\n")
	for _, e := range tr.entries {
		b.WriteString("    " + e + "\n")
	}
	return b.String()
}

// show prints a line as it is when it is plain text, quoted otherwise, and
// shortens very long lines.
func show(s string) string {
	if len(s) > 120 {
		return show(s[:60]) + fmt.Sprintf("…(%d bytes)…", len(s)-80) + show(s[len(s)-20:])
	}
	plain := utf8.ValidString(s)
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}
