package client

import (
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/cmd/chat/internal/termtest"
)

// editorScreen is an editor whose output goes to an emulated terminal.
type editorScreen struct {
	t   *testing.T
	e   *editor
	scr *termtest.Screen
	raw strings.Builder // every byte written
}

func newEditorScreen(t *testing.T, width, height int, prompt string) *editorScreen {
	e := newEditor(width, height)
	e.prompt = prompt
	e.complete = func(line string, pos int) (string, int, []string) {
		return Complete(line, pos, Names{Users: []string{"bob", "bea"}, Rooms: []string{"#r"}})
	}
	return &editorScreen{t: t, e: e, scr: termtest.New(width, height)}
}

// flush sends what the editor wrote to the screen and returns it.
func (s *editorScreen) flush() string {
	s.t.Helper()
	out := string(s.e.out)
	s.e.out = s.e.out[:0]
	s.raw.WriteString(out)
	s.scr.Write([]byte(out))
	if len(s.scr.Errors) > 0 {
		s.t.Fatalf("unexpected output: %q", s.scr.Errors)
	}
	return out
}

// keys feeds keys to the editor, which must use them all, and returns the
// line entered, if any.
func (s *editorScreen) keys(keys string) (line string, ev int) {
	s.t.Helper()
	rest, line, ev := s.e.feed([]byte(keys))
	if len(rest) > 0 {
		s.t.Fatalf("keys %q: %q left over", keys, rest)
	}
	s.flush()
	return line, ev
}

// want checks the screen's lines from the end, and the cursor.
func (s *editorScreen) want(row, col int, last ...string) {
	s.t.Helper()
	lines := s.scr.Lines()
	r, c := s.scr.Cursor()
	if len(lines) < len(last) || !slices.Equal(lines[len(lines)-len(last):], last) || r != row || c != col {
		s.t.Fatalf("screen (cursor at %d,%d):\n%s\nwant last lines %q, cursor at %d,%d", r, c, s.scr, last, row, col)
	}
}

// TestEditorWideIncomingLine is the reported bug: with 日本 typed and
// not sent, an incoming line left one stray prompt character per extra
// column; after Ctrl-U and /msg b<Tab> the line read "#r> 日/msg bob".
func TestEditorWideIncomingLine(t *testing.T) {
	s := newEditorScreen(t, 80, 24, "#r> ")
	s.e.complete = func(line string, pos int) (string, int, []string) {
		return Complete(line, pos, Names{Users: []string{"bob"}})
	}
	s.e.startLine()
	s.flush()
	s.keys("日本e\u0301")
	s.want(0, 9, "#r> 日本e\u0301")

	s.e.print("09:30 [#r] alice: hi")
	if out, want := s.flush(), "\r\x1b[J09:30 [#r] alice: hi\r\n#r> 日本e\u0301"; out != want {
		t.Errorf("redraw after an incoming line: %q, want %q", out, want)
	}
	s.want(1, 9, "09:30 [#r] alice: hi", "#r> 日本e\u0301")

	s.keys("\x15/msg b\t")
	s.want(1, 13, "09:30 [#r] alice: hi", "#r> /msg bob")
	if s.e.line != "/msg bob " {
		t.Errorf("line %q", s.e.line)
	}
}

// TestEditorKeys checks editing by grapheme cluster, and that the screen
// always shows the line, with the cursor where the editor has it.
func TestEditorKeys(t *testing.T) {
	const (
		left, right, home, end = "\x1b[D", "\x1b[C", "\x01", "\x05"
		bs, del                = "\x7f", "\x1b[3~"
	)
	tests := []struct {
		name string
		keys string
		line string
		col  int // of the cursor; the prompt "> " takes 2
	}{
		{"wide", "日本", "日本", 6},
		{"left over a wide character", "日本" + left, "日本", 4},
		{"right over a wide character", "日本" + home + right, "日本", 4},
		{"backspace over a wide character", "a日本" + bs, "a日", 5},
		{"backspace over a combining sequence", "xe\u0301" + bs, "x", 3},
		{"left over a combining sequence", "e\u0301x" + left + left, "e\u0301x", 2},
		{"delete a combining sequence", "e\u0301\u0302x" + home + del, "x", 2},
		{"backspace over a ZWJ sequence", "a👩\u200d💻b" + left + bs, "ab", 3},
		{"backspace over a flag", "🇯🇵🇫🇷" + bs, "🇯🇵", 4},
		{"backspace over an emoji with VS16", "☺\ufe0f" + bs, "", 2},
		{"a combining mark typed after its base joins it", "e" + left + "\u0301" + end, "\u0301e", 3},
		{"a base typed before a lone mark takes it", "\u0301" + home + "e", "e\u0301", 3},
		{"insert in the middle", "日語" + left + "本", "日本語", 6},
		{"Ctrl-U", "日本語" + left + "\x15", "語", 2},
		{"Ctrl-K", "日本語" + home + right + "\x0b", "日", 4},
		{"Ctrl-W", "hi 日本 e\u0301e\u0301\x17", "hi 日本 ", 10},
		{"Ctrl-T swaps wide characters", "日本\x14", "本日", 6},
		{"Ctrl-T in the middle", "ab日" + left + "\x14", "a日b", 6},
		{"word left and right", "日本 e\u0301 x\x1b[1;3D\x1b[1;3D\x1b[1;3C", "日本 e\u0301 x", 9},
		{"Ctrl-D deletes under the cursor", "日本" + home + "\x04", "本", 2},
		{"controls, C1, and bidi overrides are not inserted", "a\x00\x07\u0085\u202eb\u2028", "ab", 4},
		{"invalid UTF-8 is skipped", "a\xffb", "ab", 4},
		{"unknown sequences are skipped", "a\x1b[15~\x1b[200~b", "ab", 4},
		{"Tab completes a unique name", "日本 bo\t", "日本 bob ", 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newEditorScreen(t, 40, 10, "> ")
			s.e.startLine()
			s.keys(tt.keys)
			if s.e.line != tt.line {
				t.Fatalf("line %q, want %q", s.e.line, tt.line)
			}
			s.want(0, tt.col, strings.TrimRight("> "+tt.line, " "))
			if len(s.scr.Lines()) != 1 {
				t.Errorf("screen:\n%s", s.scr)
			}
		})
	}
}

func TestEditorCompletionOptions(t *testing.T) {
	s := newEditorScreen(t, 40, 10, "> ")
	s.e.startLine()
	s.keys("日本 b\t")
	s.want(1, 8, "bob  bea", "> 日本 b")
}

// TestEditorWrap: the editor breaks rows itself, so a wide character that
// does not fit in the last column goes to the next row, and the cursor
// is found there.
func TestEditorWrap(t *testing.T) {
	s := newEditorScreen(t, 10, 5, "#r> ")
	s.e.startLine()
	s.keys("a日本日")
	s.want(1, 2, "#r> a日本", "日")
	s.keys("\x1b[D")
	s.want(1, 0, "#r> a日本", "日")
	s.keys("\x1b[D")
	s.want(0, 7, "#r> a日本", "日")
	s.keys("\x1b[F\x7f")
	s.want(0, 9, "#r> a日本")

	// A line that ends at the margin puts the cursor on the next row.
	s.keys("\x15abcdef")
	s.want(1, 0, "#r> abcdef")
	s.e.print("hello")
	s.flush()
	s.want(2, 0, "hello", "#r> abcdef")
	s.keys("\x7f")
	s.want(1, 9, "hello", "#r> abcde")
	lines := s.scr.Lines()
	if lines[len(lines)-2] != "hello" {
		t.Errorf("screen:\n%s", s.scr)
	}

	// Long lines wrap over several rows, and come back.
	s.keys("\x15" + strings.Repeat("日本", 8))
	s.want(4, 6, "#r> 日本日", "本日本日本", "日本日本日", "本日本")
	s.keys("\x01")
	s.want(1, 4, "#r> 日本日", "本日本日本", "日本日本日", "本日本")
	s.keys("\x05\x15")
	s.want(1, 4, "hello", "#r>")
}

// TestEditorEnterAndPending: the entered line leaves the screen, and is
// shown once: pending above the prompt, then as the confirmation.
func TestEditorEnterAndPending(t *testing.T) {
	s := newEditorScreen(t, 40, 10, "#r> ")
	s.e.startLine()
	s.flush()
	line, ev := s.keys("日本e\u0301\r")
	if ev != evLine || line != "日本e\u0301" {
		t.Fatalf("got %q, %d", line, ev)
	}
	if len(s.scr.Lines()) != 0 {
		t.Fatalf("the line stays:\n%s", s.scr)
	}
	s.e.setPending([]string{"--:-- [#r] <you> 日本e\u0301"})
	s.e.startLine()
	s.flush()
	s.want(1, 4, "--:-- [#r] <you> 日本e\u0301", "#r>")

	s.e.print("09:30 [#r] alice: hi")
	s.keys("x")
	s.want(2, 5, "09:30 [#r] alice: hi", "--:-- [#r] <you> 日本e\u0301", "#r> x")

	s.e.setPending(nil)
	s.e.print("09:30 [#r] <you> 日本e\u0301")
	s.flush()
	want := []string{"09:30 [#r] alice: hi", "09:30 [#r] <you> 日本e\u0301", "#r> x"}
	if got := s.scr.Lines(); !slices.Equal(got, want) {
		t.Errorf("screen:\n%s\nwant:\n%s", s.scr, strings.Join(want, "\n"))
	}

	// Ctrl-D on an empty line ends the input, and the prompt goes.
	s.keys("\x7f")
	if _, ev := s.keys("\x04"); ev != evEOF {
		t.Fatalf("Ctrl-D: %d", ev)
	}
	if got := s.scr.Lines(); !slices.Equal(got, want[:2]) {
		t.Errorf("screen:\n%s", s.scr)
	}
}

// TestEditorPendingFits: pending lines wrap, and only the newest that fit
// on the screen with the input are shown.
func TestEditorPendingFits(t *testing.T) {
	s := newEditorScreen(t, 10, 4, "> ")
	s.e.startLine()
	s.e.setPending([]string{"\x1b[2mfirst\x1b[0m", "second 日本語", "third"})
	s.flush()
	s.want(3, 2, "second 日", "本語", "third", ">")
	s.e.setPending([]string{"third"})
	s.flush()
	if got := s.scr.Lines(); !slices.Equal(got, []string{"third", ">"}) {
		t.Errorf("screen:\n%s", s.scr)
	}
}

func TestEditorHistory(t *testing.T) {
	s := newEditorScreen(t, 40, 10, "> ")
	for _, l := range []string{"one", "日本", "日本", ""} {
		s.e.startLine()
		s.keys(l + "\r")
	}
	s.e.startLine()
	s.keys("dr")
	for _, step := range []struct{ key, line string }{
		{"\x1b[A", "日本"}, {"\x1b[A", "one"}, {"\x1b[A", "one"},
		{"\x1b[B", "日本"}, {"\x1b[B", "dr"}, {"\x1b[B", "dr"},
	} {
		s.keys(step.key)
		if s.e.line != step.line {
			t.Fatalf("after %q: %q, want %q", step.key, s.e.line, step.line)
		}
	}
	s.want(0, 4, "> dr")
}

func TestEditorPromptAndSize(t *testing.T) {
	s := newEditorScreen(t, 20, 10, "username: ")
	s.e.startLine()
	s.keys("日本")
	s.e.setPrompt("#general> ")
	s.flush()
	s.want(0, 14, "#general> 日本")

	// Narrower: the input now takes two rows, as a terminal that rewraps
	// would show it; the editor erases them both before drawing again.
	s.keys("ab")
	s.e.setSize(10, 10)
	if out := string(s.e.out); !strings.HasPrefix(out, "\r\x1b[1A\x1b[J#general> ") {
		t.Errorf("after resizing: %q", out)
	}
}

// TestEditorFeedPartial: keys cut between reads wait for the rest.
func TestEditorFeedPartial(t *testing.T) {
	e := newEditor(40, 10)
	e.startLine()
	for _, step := range []struct {
		in, rest string
	}{
		{"a\xe6\x97", "\xe6\x97"},
		{"\xe6\x97\xa5\x1b", "\x1b"},
		{"\x1b[", "\x1b["},
		{"\x1b[D", ""},
	} {
		rest, _, ev := e.feed([]byte(step.in))
		if string(rest) != step.rest || ev != evNone {
			t.Fatalf("feed(%q) leaves %q, %d; want %q", step.in, rest, ev, step.rest)
		}
	}
	if e.line != "a日" || e.pos != 1 {
		t.Errorf("line %q pos %d", e.line, e.pos)
	}
	// CRLF is one Enter; what follows a line waits for the next.
	rest, line, ev := e.feed([]byte("\r\nb\r"))
	if ev != evLine || line != "a日" || string(rest) != "b\r" {
		t.Errorf("got %q %q %d", rest, line, ev)
	}
}

// TestEditorSecret: a password is not drawn, not even its length, does not
// go into the history, is not completed, and Ctrl-C cancels it; the line
// typed before comes back after it.
func TestEditorSecret(t *testing.T) {
	s := newEditorScreen(t, 40, 10, "> ")
	s.e.startLine()
	s.keys("half")
	s.e.beginSecret()
	s.e.setPrompt("password: ")
	s.flush()
	s.want(0, 10, "password:")
	line, ev := s.keys("hunter22\tb\x1b[A\x1b[5~")
	if ev != evNone {
		t.Fatalf("event %d", ev)
	}
	s.e.print("a line arrives")
	s.flush()
	s.want(1, 10, "a line arrives", "password:")
	line, ev = s.keys("\r")
	if ev != evLine || line != "hunter22b" {
		t.Fatalf("got %q, event %d", line, ev)
	}
	s.e.endSecret()
	s.e.setPrompt("> ")
	s.e.startLine()
	s.flush()
	s.want(1, 6, "a line arrives", "> half")
	if raw := s.raw.String(); strings.Contains(raw, "hunter") || strings.Contains(raw, "*") {
		t.Errorf("the password, or its length, is written: %q", raw)
	}
	s.keys("\x1b[A")
	if s.e.line != "half" {
		t.Errorf("Up recalls %q: a password went into the history", s.e.line)
	}

	s.e.beginSecret()
	s.e.startLine()
	if _, ev := s.keys("abc\x03"); ev != evCancel {
		t.Errorf("Ctrl-C: event %d, want evCancel", ev)
	}
	s.e.endSecret()
	if s.e.line != "half" {
		t.Errorf("after a cancelled password: %q", s.e.line)
	}
}

// TestEditorPageUp: PgUp ends the read with evPageUp and leaves the line,
// and the cursor, as they were.
func TestEditorPageUp(t *testing.T) {
	s := newEditorScreen(t, 40, 10, "#r> ")
	s.e.startLine()
	if _, ev := s.keys("hello\x1b[D\x1b[5~"); ev != evPageUp {
		t.Fatalf("event %d, want evPageUp", ev)
	}
	s.e.print("— earlier messages —")
	s.flush()
	s.e.startLine()
	s.flush()
	s.want(1, 8, "— earlier messages —", "#r> hello")
	if line, ev := s.keys("!\r"); ev != evLine || line != "hell!o" {
		t.Errorf("got %q, event %d", line, ev)
	}
}

// TestEditorWindowKey: Alt and a digit end the read with evWindow and the
// digit, and leave the line as it was; in a password they do nothing.
func TestEditorWindowKey(t *testing.T) {
	s := newEditorScreen(t, 40, 10, "#r> ")
	s.e.startLine()
	for d := 1; d <= 9; d++ {
		if _, ev := s.keys("x\x1b" + string(rune('0'+d))); ev != evWindow || s.e.window != d {
			t.Fatalf("Alt-%d: event %d, window %d", d, ev, s.e.window)
		}
	}
	s.want(0, 13, "#r> xxxxxxxxx")
	if _, ev := s.keys("\x1b0"); ev != evNone {
		t.Errorf("Alt-0: event %d, want none", ev)
	}
	s.e.beginSecret()
	if _, ev := s.keys("\x1b1"); ev != evNone {
		t.Errorf("Alt-1 in a password: event %d, want none", ev)
	}
}

// TestEditorRoomBarAndRedraw: the room bar is drawn between the pending
// lines and the prompt, and stays there as lines are printed; a redraw
// clears the screen and writes the newest lines that fit above the live
// area, from the top.
func TestEditorRoomBarAndRedraw(t *testing.T) {
	s := newEditorScreen(t, 20, 6, "#a> ")
	s.e.startLine()
	s.keys("hi")
	s.e.print("one")
	s.e.setPending([]string{"--:-- sent"})
	s.e.setStatus("[1:#a] 2:#b(3)")
	s.flush()
	s.want(3, 6, "one", "--:-- sent", "[1:#a] 2:#b(3)", "#a> hi")
	s.e.print("two")
	s.flush()
	s.want(4, 6, "one", "two", "--:-- sent", "[1:#a] 2:#b(3)", "#a> hi")

	// Six rows: the live area takes three, so three rows of chat fit,
	// the line of two rows among them.
	s.e.setPrompt("#b> ")
	s.e.redraw([]string{"b1", "b2", "b3\nb4", "a line that wraps here"})
	s.flush()
	want := []string{"b4", "a line that wraps he", "re", "--:-- sent", "[1:#a] 2:#b(3)", "#b> hi"}
	if got := s.scr.Visible(); !slices.Equal(got, want) {
		t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	s.e.setStatus("")
	s.e.setPending(nil)
	s.flush()
	want = []string{"b4", "a line that wraps he", "re", "#b> hi"}
	if got := s.scr.Visible(); !slices.Equal(got, want) {
		t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// At the end the bar goes with the prompt; pending lines stay.
	s.e.setStatus("[1:#a] 2:#b")
	s.e.setPending([]string{"--:-- sent"})
	s.e.close()
	s.flush()
	want = []string{"b4", "a line that wraps he", "re", "--:-- sent"}
	if got := s.scr.Visible(); !slices.Equal(got, want) {
		t.Fatalf("screen at the end:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
