// Package termtest is a small terminal emulator for tests: a Screen takes
// what a program writes to a terminal and keeps what a person would see,
// so that a test can check the screen rather than the bytes.
//
// It knows what the chat client writes: text, CR, LF, cursor movement
// (CSI A, B, C, D, H), erasing (CSI J, K) and SGR (CSI m, ignored). It
// follows xterm: a character written in the last column leaves the cursor
// there until the next character wraps, and a wide character that does
// not fit in the last column goes to the next row. Characters are grapheme
// clusters, as wide as github.com/rivo/uniseg says, the widths that
// terminals using grapheme clusters give them. Anything else written is
// recorded in Errors.
package termtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Screen is an emulated terminal of fixed size. Rows that scroll off the
// top are kept, so Lines returns the whole session.
type Screen struct {
	width, height int
	rows          [][]cell // every row so far; the screen is rows[top:top+height]
	top           int
	x, y          int  // the cursor; y indexes rows
	wrapNext      bool // a character was written in the last column
	rest          []byte

	// Errors lists what was written that the emulator does not know.
	Errors []string
}

// cell is one column of a row: a grapheme cluster, "" for a blank, or the
// right half of a wide character.
type cell struct {
	s    string
	wide bool // the right half of the character in the cell to the left
}

// New returns an empty screen of the given size, the cursor at the top left.
func New(width, height int) *Screen {
	return &Screen{width: width, height: height, rows: [][]cell{nil}}
}

// Write interprets p. A sequence or character cut at the end of p is kept
// for the next Write.
func (s *Screen) Write(p []byte) (int, error) {
	b := append(s.rest, p...)
	for len(b) > 0 {
		n := s.step(b)
		if n == 0 {
			break // incomplete
		}
		b = b[n:]
	}
	s.rest = append([]byte(nil), b...)
	return len(p), nil
}

// step interprets the start of b and returns how many bytes it used, or 0
// if b holds only the start of something.
func (s *Screen) step(b []byte) int {
	switch c := b[0]; {
	case c == '\r':
		s.x, s.wrapNext = 0, false
		return 1
	case c == '\n':
		s.lineFeed()
		return 1
	case c == 0x1b:
		return s.escape(b)
	case c < ' ' || c == 0x7f:
		s.Errors = append(s.Errors, fmt.Sprintf("control %q", c))
		return 1
	}
	// Text up to the next control byte, cluster by cluster.
	end := 0
	for end < len(b) && b[end] >= ' ' && b[end] != 0x7f {
		end++
	}
	text := b[:end]
	if end == len(b) {
		// Keep a rune cut by the end of the Write for the next one.
		i := len(text) - 1
		for i > 0 && i > len(text)-utf8.UTFMax && !utf8.RuneStart(text[i]) {
			i--
		}
		if !utf8.FullRune(text[i:]) {
			text = text[:i]
		}
		if len(text) == 0 {
			return 0
		}
	}
	state := -1
	used := 0
	for len(text) > 0 {
		cluster, rest, w, st := uniseg.FirstGraphemeCluster(text, state)
		s.put(string(cluster), w)
		used += len(cluster)
		text, state = rest, st
	}
	return used
}

func (s *Screen) row() []cell {
	for len(s.rows) <= s.y {
		s.rows = append(s.rows, nil)
	}
	for len(s.rows[s.y]) < s.width {
		s.rows[s.y] = append(s.rows[s.y], cell{})
	}
	return s.rows[s.y]
}

func (s *Screen) lineFeed() {
	s.wrapNext = false
	s.y++
	if s.y >= s.top+s.height {
		s.top++
	}
	s.row()
}

// put writes a character of width w at the cursor.
func (s *Screen) put(cluster string, w int) {
	if w == 0 {
		// A combining mark alone joins the character before it.
		x := s.x - 1
		if s.wrapNext {
			x = s.x
		}
		r := s.row()
		if x >= 0 && r[x].wide {
			x--
		}
		if x >= 0 {
			r[x].s += cluster
		}
		return
	}
	if s.wrapNext || s.x+w > s.width {
		s.x = 0
		s.lineFeed()
	}
	r := s.row()
	s.clear(r, s.x, s.x+w)
	r[s.x] = cell{s: cluster}
	if w == 2 && s.x+1 < s.width {
		r[s.x+1] = cell{wide: true}
	}
	s.x += w
	if s.x >= s.width {
		s.x, s.wrapNext = s.width-1, true
	}
}

// clear blanks columns [from, to) of r, and the halves of wide characters
// they cut.
func (s *Screen) clear(r []cell, from, to int) {
	if from < len(r) && r[from].wide && from > 0 {
		from--
	}
	if to < len(r) && r[to].wide {
		to++
	}
	for i := from; i < to && i < len(r); i++ {
		r[i] = cell{}
	}
}

// escape interprets an escape sequence.
func (s *Screen) escape(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	if b[1] != '[' {
		s.Errors = append(s.Errors, fmt.Sprintf("escape %q", b[:2]))
		return 2
	}
	n := 2
	for n < len(b) && 0x20 <= b[n] && b[n] <= 0x3f {
		n++
	}
	if n == len(b) {
		return 0
	}
	params, final := string(b[2:n]), b[n]
	n++
	arg := func(def int) int {
		first, _, _ := strings.Cut(params, ";")
		if v, err := strconv.Atoi(first); err == nil && v > 0 {
			return v
		}
		return def
	}
	if final != 'm' {
		s.wrapNext = false
	}
	switch final {
	case 'A':
		s.y = max(s.y-arg(1), s.top)
	case 'B':
		s.y = min(s.y+arg(1), s.top+s.height-1)
		s.row()
	case 'C':
		s.x = min(s.x+arg(1), s.width-1)
	case 'D':
		s.x = max(s.x-arg(1), 0)
	case 'H':
		row, col, _ := strings.Cut(params, ";")
		r, _ := strconv.Atoi(row)
		c, _ := strconv.Atoi(col)
		s.y, s.x = s.top+max(r, 1)-1, max(c, 1)-1
		s.row()
	case 'K':
		s.clear(s.row(), s.x, s.width)
	case 'J':
		switch arg(0) {
		case 0:
			s.clear(s.row(), s.x, s.width)
			for y := s.y + 1; y < len(s.rows); y++ {
				s.rows[y] = nil
			}
		case 2:
			for y := s.top; y < len(s.rows); y++ {
				s.rows[y] = nil
			}
		default:
			s.Errors = append(s.Errors, fmt.Sprintf("escape %q", b[:n]))
		}
	case 'm':
	default:
		s.Errors = append(s.Errors, fmt.Sprintf("escape %q", b[:n]))
	}
	return n
}

// Lines returns every row written so far, scrolled off or on the screen,
// without trailing blanks; trailing empty rows are left out.
func (s *Screen) Lines() []string {
	var lines []string
	for _, r := range s.rows {
		var b strings.Builder
		for _, c := range r {
			switch {
			case c.wide:
			case c.s == "":
				b.WriteByte(' ')
			default:
				b.WriteString(c.s)
			}
		}
		lines = append(lines, strings.TrimRight(b.String(), " "))
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Visible returns the rows on the screen now, the rows scrolled off the
// top left out, as Lines returns them: without trailing blanks, and
// trailing empty rows left out.
func (s *Screen) Visible() []string {
	lines := s.Lines()
	if s.top >= len(lines) {
		return nil
	}
	return lines[s.top:]
}

// Cursor returns the cursor's row, as an index into Lines, and column.
func (s *Screen) Cursor() (row, col int) { return s.y, s.x }

// String returns Lines joined with newlines, for failure messages.
func (s *Screen) String() string { return strings.Join(s.Lines(), "\n") }
