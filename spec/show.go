package spec

import (
	"fmt"
	"strconv"
)

// Printable reports whether a line can be shown as it is in a log or a
// transcript, without quotes: it is not empty, does not begin or end with a
// space, and CheckLine accepts it — so it is valid UTF-8 and holds none of
// the characters IsForbidden rejects, which could break the log's line or
// reorder its text on a screen.
func Printable(line string) bool {
	n := len(line)
	return n > 0 && line[0] != ' ' && line[n-1] != ' ' && CheckLine([]byte(line)) == ""
}

// Show returns line as logs and transcripts show it: as it is if it is
// Printable, else quoted by Quote. A printable line of more than 300 bytes
// is shortened as Quote shortens.
func Show(line string) string {
	if !Printable(line) {
		return Quote(line)
	}
	if len(line) <= maxShown {
		return line
	}
	return line[:shownHead] + elided(len(line)) + line[len(line)-shownTail:]
}

// Quote quotes data as a Go string, escaping every byte and character that
// is not printable (among them all those IsForbidden rejects). Of more than
// 300 bytes, it shows the first 120 and the last 60, with the total between
// them.
func Quote(data string) string {
	if len(data) <= maxShown {
		return strconv.Quote(data)
	}
	return strconv.Quote(data[:shownHead]) + elided(len(data)) + strconv.Quote(data[len(data)-shownTail:])
}

// How much of a long line Show and Quote show.
const (
	maxShown  = 300
	shownHead = 120
	shownTail = 60
)

func elided(n int) string { return fmt.Sprintf("...(%d bytes in all)...", n) }
