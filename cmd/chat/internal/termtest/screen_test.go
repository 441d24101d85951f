package termtest

import (
	"io"
	"slices"
	"sync"
	"testing"

	"golang.org/x/term"
)

func screenOf(width, height int, writes ...string) *Screen {
	s := New(width, height)
	for _, w := range writes {
		s.Write([]byte(w))
	}
	return s
}

func TestScreen(t *testing.T) {
	tests := []struct {
		name     string
		writes   []string
		lines    []string
		row, col int
	}{
		{"text and CRLF", []string{"ab\r\ncd"}, []string{"ab", "cd"}, 1, 2},
		{"last column waits to wrap", []string{"abcde"}, []string{"abcde"}, 0, 4},
		{"the next character wraps", []string{"abcdef"}, []string{"abcde", "f"}, 1, 1},
		{"CRLF after the last column adds one row", []string{"abcde\r\nf"}, []string{"abcde", "f"}, 1, 1},
		{"wide characters take two columns", []string{"日本"}, []string{"日本"}, 0, 4},
		{"a wide character does not fit in the last column", []string{"abcd日"}, []string{"abcd", "日"}, 1, 2},
		{"combining mark", []string{"e\u0301x"}, []string{"e\u0301x"}, 0, 2},
		{"combining mark in its own write", []string{"e", "\u0301x"}, []string{"e\u0301x"}, 0, 2},
		{"rune cut between writes", []string{"a\xe6\x97", "\xa5b"}, []string{"a日b"}, 0, 4},
		{"ZWJ sequence", []string{"👩\u200d💻."}, []string{"👩\u200d💻."}, 0, 3},
		{"CR and erase to the end of the line", []string{"abcd\r\x1b[Kx"}, []string{"x"}, 0, 1},
		{"up and erase to the end of the screen", []string{"a\r\nb\r\nc\r\x1b[1A\x1b[J"}, []string{"a"}, 1, 0},
		{"right from column 0", []string{"日本x\r\x1b[2C"}, []string{"日本x"}, 0, 2},
		{"overwriting half a wide character blanks it", []string{"日本\r\x1b[1Cx"}, []string{" x本"}, 0, 2},
		{"SGR takes no room", []string{"\x1b[2ma\x1b[0mb"}, []string{"ab"}, 0, 2},
		{"scrolling keeps the rows", []string{"1\r\n2\r\n3\r\n4"}, []string{"1", "2", "3", "4"}, 3, 1},
		{"up stops at the top of the screen", []string{"1\r\n2\r\n3\r\n4\x1b[9A\rx"}, []string{"1", "x", "3", "4"}, 1, 1},
		{"clear the screen", []string{"1\r\n2\x1b[2J\x1b[Hz"}, []string{"z"}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := screenOf(5, 3, tt.writes...)
			row, col := s.Cursor()
			if !slices.Equal(s.Lines(), tt.lines) || row != tt.row || col != tt.col {
				t.Errorf("screen %q, cursor %d,%d; want %q, %d,%d", s.Lines(), row, col, tt.lines, tt.row, tt.col)
			}
			if len(s.Errors) > 0 {
				t.Errorf("errors: %q", s.Errors)
			}
		})
	}
}

// TestScreenVisible: Visible leaves out the rows scrolled off the top,
// which Lines keeps.
func TestScreenVisible(t *testing.T) {
	for _, tt := range []struct {
		writes  string
		lines   []string
		visible []string
	}{
		{"1\r\n2", []string{"1", "2"}, []string{"1", "2"}},
		{"1\r\n2\r\n3\r\n4", []string{"1", "2", "3", "4"}, []string{"2", "3", "4"}},
		{"1\r\n2\r\n3\r\n4\x1b[2J\x1b[Hz", []string{"1", "z"}, []string{"z"}},
		{"1\r\n2\r\n3\r\n4\x1b[2J", []string{"1"}, nil},
	} {
		s := screenOf(5, 3, tt.writes)
		if !slices.Equal(s.Lines(), tt.lines) || !slices.Equal(s.Visible(), tt.visible) {
			t.Errorf("%q: lines %q, visible %q; want %q, %q", tt.writes, s.Lines(), s.Visible(), tt.lines, tt.visible)
		}
	}
}

func TestScreenErrors(t *testing.T) {
	s := screenOf(10, 3, "a\tb\x1b[5n\x1b7")
	if want := []string{`control '\t'`, `escape "\x1b[5n"`, `escape "\x1b7"`}; !slices.Equal(s.Errors, want) {
		t.Errorf("errors %q, want %q", s.Errors, want)
	}
}

// TestScreenSeesRuneCounting replays the report that led to the client's
// own line editor: golang.org/x/term's Terminal counts runes, not columns,
// so with 日本 typed an incoming line leaves stray prompt characters, and
// after Ctrl-U and /msg b<Tab> the line reads "#r> 日/msg bob".
func TestScreenSeesRuneCounting(t *testing.T) {
	scr := New(80, 24)
	tty := &scriptedTTY{screen: scr, keys: make(chan string), reading: make(chan bool)}
	term := term.NewTerminal(tty, "#r> ")
	term.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key == '\t' && line == "/msg b" {
			return "/msg bob ", 9, true
		}
		return "", 0, false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		term.ReadLine()
	}()
	<-tty.reading
	tty.typeKeys("日本")
	term.Write([]byte("09:30 [#r] alice: hi\n"))
	if got := scr.Lines(); !slices.Equal(got, []string{"#r09:30 [#r] alice: hi", "#r> 日本"}) {
		t.Errorf("after an incoming line, the screen reads %q", got)
	}
	tty.typeKeys("\x15/msg b\t")
	if got := scr.Lines(); got[len(got)-1] != "#r> 日/msg bob" {
		t.Errorf("after Ctrl-U and Tab, the input reads %q", got[len(got)-1])
	}
	close(tty.keys)
	<-done
}

// scriptedTTY feeds keys to a Terminal and writes its output to a Screen.
type scriptedTTY struct {
	mu      sync.Mutex
	screen  *Screen
	keys    chan string // test -> Read
	reading chan bool   // Read -> test: the keys given before are handled
}

func (s *scriptedTTY) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.Write(p)
}

func (s *scriptedTTY) Read(p []byte) (int, error) {
	s.reading <- true
	keys, ok := <-s.keys
	if !ok {
		return 0, io.EOF
	}
	return copy(p, keys), nil
}

// typeKeys gives the reading Terminal keys, and waits until it has handled
// them and reads again.
func (s *scriptedTTY) typeKeys(keys string) {
	s.keys <- keys
	<-s.reading
}
