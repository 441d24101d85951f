package driver

import (
	"bytes"
	"fmt"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// transcript records what every client sent and received, for failure
// reports. Lines are shown by spec.Show, as in every log of the project.
type transcript struct {
	entries []string
}

// sent records data written by a client, a line an entry; note says how it
// was cut into writes, if not one write per line.
func (tr *transcript) sent(label string, data []byte, note string) {
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if l != "" {
			tr.entries = append(tr.entries, fmt.Sprintf("%s> %s%s", label, spec.Show(strings.TrimRight(l, "\r\n")), suffixOf(l, note)))
		}
	}
}

func suffixOf(l, note string) string {
	switch {
	case !strings.HasSuffix(l, "\n"):
		return "   (no terminator)"
	case !strings.HasSuffix(l, "\r\n"):
		return "   (LF)"
	case note != "":
		return "   (" + note + ")"
	}
	return ""
}

// writeNote describes how data was cut into writes: "coalesced" for several
// lines in one write, "split" for writes that are not whole lines, "" for
// one write per line.
func writeNote(chunks [][]byte) string {
	if len(chunks) == 1 && bytes.Count(bytes.TrimSuffix(chunks[0], []byte("\n")), []byte("\n")) > 0 {
		return "coalesced"
	}
	for i, ch := range chunks {
		if n := bytes.IndexByte(ch, '\n'); n >= 0 && n < len(ch)-1 || n < 0 && i < len(chunks)-1 {
			return "split"
		}
	}
	return ""
}

func (tr *transcript) received(label, line string) {
	tr.entries = append(tr.entries, fmt.Sprintf("%s< %s", label, spec.Show(line)))
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
