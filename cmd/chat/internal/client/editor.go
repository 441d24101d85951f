package client

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"roomchat.dev/roomchat/spec"
)

// editor is the line editor of termUI without its I/O: it holds the input
// line and what the bottom of the screen shows, and its methods append the
// bytes to write to the terminal to out.
//
// It counts display columns, not bytes or runes: the input is cut into
// grapheme clusters (UAX #29) and each is as wide as github.com/rivo/uniseg
// says, two columns for East Asian wide characters and most emoji, none
// for a lone combining mark. The cursor moves, and Backspace and Delete
// delete, a whole cluster at a time, so "e\u0301" is one character and a
// family emoji joined with U+200D is one character.
//
// The editor owns the live area at the bottom of the screen: the lines
// sent and not yet confirmed by the server (pending), the room bar if
// there is one, then, while a line is being read, the prompt and the
// input. Everything above the live area
// is chat, written once and never touched again. To redraw, the editor
// returns the cursor to column 0 with CR, moves up the rows it knows it
// drew, and erases to the end of the screen; it breaks rows itself with
// CRLF before a cluster that would not fit, instead of relying on the
// terminal's automatic margins, and it moves right from column 0 to place
// the cursor. It never moves left by a count of characters, so no width it
// gets wrong can leave a stray character behind.
type editor struct {
	width, height int
	prompt        string
	// complete is Tab's completion (see Complete); nil: none.
	complete func(line string, pos int) (newLine string, newPos int, options []string)
	// pending are the lines shown above the prompt, already rendered.
	pending []string
	// status is the room bar, drawn below the pending lines, just above
	// the prompt; "" for none.
	status string

	line    string // the input
	pos     int    // the cursor: a byte offset in line, at a cluster boundary
	reading bool   // a line is being read: the prompt and input are shown
	// secret: the line is a password. Nothing of it is drawn, it does not
	// go into the history, and Tab, Up, Down and PgUp do nothing; Ctrl-C
	// cancels it. What was typed before is kept aside meanwhile.
	secret     bool
	stashed    string
	stashedPos int

	// window is the digit of the last Alt and digit pressed (evWindow).
	window int

	history   []string // lines entered, oldest first
	histIndex int      // the history entry shown, 0 the newest; -1: none
	histSaved string   // the line being typed when Up was first pressed

	// What the screen shows, below the chat.
	above     int // rows of pending lines, above the prompt's row
	cursorRow int // the cursor's row, counted from the prompt's row

	out []byte // bytes for the terminal, written and reset by termUI
}

const (
	// maxEditLine bounds the input line, in bytes. A line longer than
	// spec.MaxLineLen is refused when entered anyway.
	maxEditLine = 4096
	// maxHistory bounds the lines Up and Down recall.
	maxHistory = 100
)

func newEditor(width, height int) *editor {
	e := &editor{histIndex: -1}
	e.width, e.height = sizeOrDefault(width, height)
	return e
}

func sizeOrDefault(width, height int) (int, int) {
	if width <= 0 || height <= 0 {
		return 80, 24
	}
	return width, height
}

// Events that end feed.
const (
	evNone   = iota // the keys are used up
	evLine          // Enter: a line is complete
	evEOF           // Ctrl-D on an empty line, or Ctrl-C
	evPageUp        // PgUp: earlier messages are wanted; the line stays
	evCancel        // Ctrl-C while a password is read
	evWindow        // Alt and a digit: a room is wanted (see window); the line stays
)

// startLine shows the prompt and the input line, which may hold what was
// typed and not yet entered.
func (e *editor) startLine() {
	e.reading = true
	e.refreshInput()
}

// beginSecret starts reading a password; endSecret ends it and brings back
// the line that was being typed before.
func (e *editor) beginSecret() {
	e.stashed, e.stashedPos = e.line, e.pos
	e.line, e.pos, e.secret = "", 0, true
}

func (e *editor) endSecret() {
	e.line, e.pos, e.secret = e.stashed, e.stashedPos, false
	e.stashed, e.stashedPos = "", 0
	if e.reading {
		e.refreshInput()
	}
}

// feed handles the keys at the start of in until a line is entered or the
// user ends the input. It returns the bytes it did not use: a partial key
// sequence, or whatever follows the line, for the next call.
func (e *editor) feed(in []byte) (rest []byte, line string, ev int) {
	dirty := false
	for {
		k, after, ok := parseKey(in)
		if !ok {
			break
		}
		in = after
		if k == keyEnter && len(in) > 0 && in[0] == '\n' {
			in = in[1:] // CRLF is one Enter
		}
		switch ev := e.key(k); ev {
		case evLine:
			line = e.line
			if !e.secret {
				e.addHistory(line)
			}
			e.line, e.pos, e.reading = "", 0, false
			e.refreshInput()
			return in, line, evLine
		case evEOF, evCancel:
			e.line, e.pos, e.reading = "", 0, false
			e.refreshInput()
			return in, "", ev
		case evPageUp, evWindow:
			// The line stays, and is still being read: the caller asks
			// for it again.
			if dirty {
				e.refreshInput()
			}
			return in, "", ev
		}
		dirty = true
	}
	if dirty {
		e.refreshInput()
	}
	return in, "", evNone
}

// key applies one key to the input line; the caller redraws it.
func (e *editor) key(k rune) int {
	switch k {
	case keyEnter, keyLF:
		return evLine
	case keyCtrlC:
		if e.secret {
			return evCancel
		}
		return evEOF
	case keyPageUp:
		if !e.secret {
			return evPageUp
		}
	case keyWindow1, keyWindow1 + 1, keyWindow1 + 2, keyWindow1 + 3, keyWindow1 + 4,
		keyWindow1 + 5, keyWindow1 + 6, keyWindow1 + 7, keyWindow9:
		if !e.secret {
			e.window = int(k-keyWindow1) + 1
			return evWindow
		}
	case keyTab, keyUp, keyDown:
		if !e.secret {
			e.recall(k)
		}
	case keyCtrlD:
		if e.line == "" {
			return evEOF
		}
		e.deleteRight()
	case keyDelete:
		e.deleteRight()
	case keyBackspace:
		if e.pos > 0 {
			start := prevBoundary(e.line, e.pos)
			e.edit(e.line[:start]+e.line[e.pos:], start)
		}
	case keyLeft:
		e.pos = prevBoundary(e.line, e.pos)
	case keyRight:
		e.pos = nextBoundary(e.line, e.pos)
	case keyHome:
		e.pos = 0
	case keyEnd:
		e.pos = len(e.line)
	case keyWordLeft:
		e.pos = floorBoundary(e.line, wordLeft(e.line, e.pos))
	case keyWordRight:
		e.pos = ceilBoundary(e.line, wordRight(e.line, e.pos))
	case keyDeleteWord:
		start := wordLeft(e.line, e.pos)
		e.edit(e.line[:start]+e.line[e.pos:], start)
	case keyKillStart:
		e.edit(e.line[e.pos:], 0)
	case keyKillEnd:
		e.edit(e.line[:e.pos], e.pos)
	case keyTranspose:
		e.transpose()
	case keyClear:
		e.out = append(e.out, "\x1b[2J\x1b[H"...)
		e.above, e.cursorRow = 0, 0
		e.drawAll()
	default:
		if k < ' ' || spec.IsForbidden(k) || isSpecialKey(k) || len(e.line)+utf8.RuneLen(k) > maxEditLine {
			// Nothing that could move the cursor, break the line or
			// reorder text reaches the screen; the server would refuse
			// it anyway (FRAME-8).
			break
		}
		s := string(k)
		e.edit(e.line[:e.pos]+s+e.line[e.pos:], e.pos+len(s))
	}
	return evNone
}

// recall applies Up, Down (the history) or Tab (completion).
func (e *editor) recall(k rune) {
	switch k {
	case keyUp:
		if e.histIndex+1 < len(e.history) {
			if e.histIndex == -1 {
				e.histSaved = e.line
			}
			e.histIndex++
			e.setLine(e.history[len(e.history)-1-e.histIndex])
		}
	case keyDown:
		switch {
		case e.histIndex > 0:
			e.histIndex--
			e.setLine(e.history[len(e.history)-1-e.histIndex])
		case e.histIndex == 0:
			e.histIndex = -1
			e.setLine(e.histSaved)
		}
	case keyTab:
		if e.complete == nil {
			return
		}
		line, pos, options := e.complete(e.line, e.pos)
		if len(options) > 1 && line == e.line {
			e.print(strings.Join(options, "  "))
			return
		}
		e.edit(line, pos)
	}
}

// edit replaces the line and puts the cursor at pos, or just after the
// cluster pos falls in: inserting a combining mark joins it to the
// character before it.
func (e *editor) edit(line string, pos int) {
	e.line = line
	e.pos = ceilBoundary(line, min(max(pos, 0), len(line)))
}

// setLine replaces the line with the cursor at its end.
func (e *editor) setLine(line string) { e.edit(line, len(line)) }

func (e *editor) deleteRight() {
	if e.pos < len(e.line) {
		e.edit(e.line[:e.pos]+e.line[nextBoundary(e.line, e.pos):], e.pos)
	}
}

// transpose swaps the characters before and at the cursor, or the last two
// at the end of the line, and moves the cursor past them.
func (e *editor) transpose() {
	p := e.pos
	if p == len(e.line) {
		p = prevBoundary(e.line, p)
	}
	if p == 0 {
		return
	}
	a, b := prevBoundary(e.line, p), nextBoundary(e.line, p)
	e.edit(e.line[:a]+e.line[p:b]+e.line[a:p]+e.line[b:], b)
}

func (e *editor) addHistory(line string) {
	e.histIndex, e.histSaved = -1, ""
	if line == "" || len(e.history) > 0 && e.history[len(e.history)-1] == line {
		return
	}
	if len(e.history) == maxHistory {
		e.history = append(e.history[:0], e.history[1:]...)
	}
	e.history = append(e.history, line)
}

// setPrompt changes the prompt.
func (e *editor) setPrompt(prompt string) {
	e.prompt = prompt
	if e.reading {
		e.refreshInput()
	}
}

// setPending changes the lines shown above the prompt.
func (e *editor) setPending(lines []string) {
	if len(lines) == 0 && len(e.pending) == 0 {
		return
	}
	e.pending = lines
	e.refreshAll()
}

// setStatus changes the room bar.
func (e *editor) setStatus(bar string) {
	if bar == e.status {
		return
	}
	e.eraseAll()
	e.status = bar
	e.drawAll()
}

// redraw clears the screen, writes the newest of lines that fit above the
// live area, from the top, and draws the live area again below them: the
// chat of another room replaces what was shown.
func (e *editor) redraw(lines []string) {
	e.out = append(e.out, "\x1b[2J\x1b[H"...)
	e.above, e.cursorRow = 0, 0
	var rows []string
	for _, l := range lines {
		rows = append(rows, strings.Split(l, "\n")...)
	}
	room := e.height - e.liveRows()
	n, used := 0, 0
	for n < len(rows) {
		r := e.rows(rows[len(rows)-1-n])
		if used+r > room {
			break
		}
		used += r
		n++
	}
	for _, l := range rows[len(rows)-n:] {
		e.out = append(e.out, l...)
		e.out = append(e.out, '\r', '\n')
	}
	e.drawAll()
}

// liveRows returns how many rows drawAll takes, the cursor's row included.
func (e *editor) liveRows() int {
	n := e.statusRows() + 1
	if e.reading {
		n = e.statusRows() + e.inputRows()
	}
	for _, p := range e.pending[len(e.pending)-e.shownPending():] {
		n += e.rows(p)
	}
	return n
}

// statusRows returns how many rows the room bar takes.
func (e *editor) statusRows() int {
	if e.status == "" {
		return 0
	}
	return e.rows(e.status)
}

// print writes text above the live area, which it draws again below it.
func (e *editor) print(text string) {
	e.eraseAll()
	for line := range strings.SplitSeq(text, "\n") {
		e.out = append(e.out, line...)
		e.out = append(e.out, '\r', '\n')
	}
	e.drawAll()
}

// setSize tells the editor the terminal's new size and redraws the live
// area. Terminals differ in what they do with rows already written when the
// width changes: some rewrap them and some do not, so the editor erases as
// many rows as either would have.
func (e *editor) setSize(width, height int) {
	width, height = sizeOrDefault(width, height)
	if width == e.width {
		e.height = height
		return
	}
	up := e.above + e.cursorRow
	e.width, e.height = width, height
	rewrapped := e.inputCursorRow()
	for _, p := range e.pending[len(e.pending)-e.shownPending():] {
		rewrapped += e.rows(p)
	}
	rewrapped += e.statusRows()
	e.eraseUp(max(up, rewrapped))
	e.above = 0
	e.drawAll()
}

// close erases the room bar, the prompt and the input, leaving the lines
// not confirmed on the screen.
func (e *editor) close() {
	e.reading = false
	if e.status != "" {
		e.status = ""
		e.refreshAll()
		return
	}
	e.refreshInput()
}

// refreshInput draws the prompt and the input line again.
func (e *editor) refreshInput() {
	e.eraseUp(e.cursorRow)
	if e.reading {
		e.drawInput()
	}
}

// refreshAll draws the whole live area again.
func (e *editor) refreshAll() {
	e.eraseAll()
	e.drawAll()
}

func (e *editor) eraseAll() {
	e.eraseUp(e.above + e.cursorRow)
	e.above = 0
}

// eraseUp moves the cursor to column 0 n rows up and erases everything
// from there to the end of the screen.
func (e *editor) eraseUp(n int) {
	e.out = append(e.out, '\r')
	e.out = appendCSI(e.out, n, 'A')
	e.out = append(e.out, "\x1b[J"...)
	e.cursorRow = 0
}

// drawAll draws the live area from column 0 of an erased row: as many of
// the newest pending lines as fit on the screen with the input, the room
// bar, then the prompt and input if a line is being read.
func (e *editor) drawAll() {
	above := e.pending[len(e.pending)-e.shownPending():]
	if e.status != "" {
		above = append(above[:len(above):len(above)], e.status)
	}
	for _, p := range above {
		c := cursor{width: e.width}
		e.out, _, _ = c.write(e.out, p, -1)
		e.out = append(e.out, '\r', '\n')
		e.above += c.row + 1
	}
	e.cursorRow = 0
	if e.reading {
		e.drawInput()
	}
}

// shownPending returns how many of the newest pending lines drawAll shows:
// the live area must fit on the screen, or the editor could not move up to
// its top.
func (e *editor) shownPending() int {
	room := e.height - 1 - e.statusRows() // the bar and the cursor's row after them
	if e.reading {
		room = e.height - e.statusRows() - e.inputRows()
	}
	n, rows := 0, 0
	for n < len(e.pending) {
		rows += e.rows(e.pending[len(e.pending)-1-n])
		if rows > room {
			break
		}
		n++
	}
	return n
}

// drawInput draws the prompt and the input line from column 0 of an erased
// row, and puts the cursor at its place.
func (e *editor) drawInput() {
	var endRow, row, col int
	e.out, endRow, row, col = e.layoutInput(e.out)
	if e.pos < len(e.line) {
		// The cursor is before the end, where the writing left it.
		e.out = appendCSI(e.out, endRow-row, 'A')
		e.out = append(e.out, '\r')
		e.out = appendCSI(e.out, col, 'C')
	}
	e.cursorRow = row
}

// layoutInput appends the prompt and the input line to b as drawInput
// writes them. It returns the row the writing ends on and the cursor's row
// and column, rows counted from the prompt's. When the input ends at the
// right margin, it moves to the next row, so that the cursor is never left
// where terminals disagree about it.
func (e *editor) layoutInput(b []byte) (out []byte, endRow, row, col int) {
	c := cursor{width: e.width}
	b, _, _ = c.write(b, e.prompt, -1)
	if e.secret {
		// Nothing of a password is drawn, not even its length.
		row, col = c.row, c.col
	} else {
		b, row, col = c.write(b, e.line, e.pos)
	}
	if c.col >= c.width {
		b = append(b, '\r', '\n')
		c.row, c.col = c.row+1, 0
	}
	if e.pos == len(e.line) {
		row, col = c.row, c.col
	}
	return b, c.row, row, col
}

// inputRows returns how many rows the prompt and input take.
func (e *editor) inputRows() int {
	_, end, _, _ := e.layoutInput(nil)
	return end + 1
}

// inputCursorRow returns the cursor's row in the input as drawn now.
func (e *editor) inputCursorRow() int {
	if !e.reading {
		return 0
	}
	_, _, row, _ := e.layoutInput(nil)
	return row
}

// rows returns how many rows a pending line takes.
func (e *editor) rows(s string) int {
	c := cursor{width: e.width}
	c.write(nil, s, -1)
	return c.row + 1
}

// cursor follows the terminal's cursor through text written from column 0.
type cursor struct{ width, row, col int }

// write appends s to b. It starts a new row with CRLF before a cluster
// that would pass the right margin (a wide character in the last column
// goes to the next row, as terminals put it) and before any cluster after
// the margin is reached. SGR sequences in s take no room. It returns where
// the cluster at byte offset mark of s is drawn, or -1, -1.
func (c *cursor) write(b []byte, s string, mark int) (out []byte, markRow, markCol int) {
	markRow, markCol = -1, -1
	state := -1
	for i := 0; i < len(s); {
		if s[i] == '\x1b' {
			n := escapeLen(s[i:])
			b = append(b, s[i:i+n]...)
			i += n
			state = -1
			continue
		}
		cluster, _, w, st := uniseg.FirstGraphemeClusterInString(s[i:], state)
		state = st
		if c.col >= c.width || w > 0 && c.col > 0 && c.col+w > c.width {
			b = append(b, '\r', '\n')
			c.row, c.col = c.row+1, 0
		}
		if i == mark {
			markRow, markCol = c.row, c.col
		}
		b = append(b, cluster...)
		c.col += w
		i += len(cluster)
	}
	return b, markRow, markCol
}

// escapeLen returns the length of the escape sequence s starts with: a CSI
// sequence, or the ESC alone.
func escapeLen(s string) int {
	if len(s) < 2 || s[1] != '[' {
		return 1
	}
	i := 2
	for i < len(s) && 0x20 <= s[i] && s[i] <= 0x3f {
		i++
	}
	if i < len(s) {
		i++ // the final byte
	}
	return i
}

// appendCSI appends ESC [ n final, for n > 0.
func appendCSI(b []byte, n int, final byte) []byte {
	if n <= 0 {
		return b
	}
	b = append(b, "\x1b["...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, final)
}

// Grapheme cluster boundaries. Offsets are in bytes; 0 and len(s) are
// boundaries.

// nextBoundary returns the end of the cluster that starts at boundary i.
func nextBoundary(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	cluster, _, _, _ := uniseg.FirstGraphemeClusterInString(s[i:], -1)
	return i + len(cluster)
}

// prevBoundary returns the start of the cluster that ends at boundary i.
func prevBoundary(s string, i int) int {
	if i <= 0 {
		return 0
	}
	return floorBoundary(s, i-1)
}

// floorBoundary returns the start of the cluster that holds byte i, or
// len(s).
func floorBoundary(s string, i int) int {
	start, state := 0, -1
	for start < len(s) {
		cluster, _, _, st := uniseg.FirstGraphemeClusterInString(s[start:], state)
		if start+len(cluster) > i {
			return start
		}
		start += len(cluster)
		state = st
	}
	return len(s)
}

// ceilBoundary returns i if it is a boundary, else the end of the cluster
// that holds it.
func ceilBoundary(s string, i int) int {
	start := floorBoundary(s, i)
	if start == i {
		return i
	}
	return nextBoundary(s, start)
}

// wordLeft returns the start of the word before i: spaces, then other
// characters, are skipped.
func wordLeft(s string, i int) int {
	for i > 0 && s[i-1] == ' ' {
		i--
	}
	for i > 0 && s[i-1] != ' ' {
		i--
	}
	return i
}

// wordRight returns the start of the word after i.
func wordRight(s string, i int) int {
	for i < len(s) && s[i] != ' ' {
		i++
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}
