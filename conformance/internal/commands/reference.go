package commands

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The layout of the reference.
const (
	textWidth     = 74 // a paragraph
	synopsisWidth = 25 // the column of the synopses
	summaryWidth  = 50 // the column of the summaries, after the synopses
)

// Reference returns the reference of the script commands, generated from
// the table: the # Commands section of the documentation of package
// conformance, as plain text whose lines that begin with a tab form code
// blocks.
func Reference() string {
	var b strings.Builder
	var negs []string
	for i, sec := range table {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, l := range wrap(sec.title, textWidth) {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
		for _, cmd := range sec.cmds {
			writeEntry(&b, cmd.synopsis(false), cmd.summary)
			if cmd.neg != nil {
				writeEntry(&b, cmd.synopsis(true), cmd.neg.summary)
				negs = append(negs, cmd.name)
			}
		}
	}
	b.WriteString("\n")
	last := len(negs) - 1
	only := strings.Join(negs[:last], ", ") + " and " + negs[last]
	for _, l := range wrap("Only "+only+" accept the ! prefix; every other command refuses it.", textWidth) {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// writeEntry writes the entry of one command: its synopsis and, in a column
// of its own, its summary.
func writeEntry(b *strings.Builder, synopsis, summary string) {
	lines := wrap(summary, summaryWidth)
	pad := strings.Repeat(" ", synopsisWidth)
	if n := utf8.RuneCountInString(synopsis); n < synopsisWidth {
		fmt.Fprintf(b, "\t%s%s%s\n", synopsis, pad[n:], lines[0])
		lines = lines[1:]
	} else {
		fmt.Fprintf(b, "\t%s\n", synopsis)
	}
	for _, l := range lines {
		fmt.Fprintf(b, "\t%s%s\n", pad, l)
	}
}

// wrap fills the words of text into lines of at most width characters (a
// longer word has a line of its own).
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width:
			lines = append(lines, line)
			line = w
		default:
			line += " " + w
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
