package spec_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"roomchat.dev/roomchat/spec"
)

func TestCheckLine(t *testing.T) {
	const (
		ok      = ""
		badUTF8 = spec.ErrInvalidUTF8
		badChar = spec.ErrInvalidCharacter
	)
	for _, tt := range []struct {
		line string
		want string
	}{
		{"", ok},
		{"USERNAME alice", ok},
		{" ", ok},
		{"~", ok},
		{"é", ok},                        // U+00E9, 2 bytes
		{"\u00a0", ok},                   // NBSP, the first rune after the C1 controls
		{"€", ok},                        // 3 bytes
		{"😀", ok},                        // 4 bytes
		{"👩‍💻 hi", ok},                   // with ZWJ
		{"\u2028", badChar},              // line separator
		{"a\u2029b", badChar},            // paragraph separator
		{"\u202eevil", badChar},          // right-to-left override
		{"x\u2066y", badChar},            // left-to-right isolate
		{"\u200f", badChar},              // right-to-left mark
		{"\u061c", badChar},              // Arabic letter mark
		{"\u2027\u202f\u2065\u206a", ok}, // neighbours of the forbidden ranges
		{"\ufeff\ufffd\U0010FFFF", ok},   // BOM, replacement char, the last scalar value
		{"USERNAME al\x07ice", badChar},  // BEL
		{"a\x00b", badChar},              // NUL
		{"\x00", badChar},                // NUL alone
		{"a\tb", badChar},                // TAB
		{"a\x1b[31mred", badChar},        // ESC
		{"a\rb", badChar},                // lone CR
		{"a\r", badChar},                 // CR left over before a bare LF that ended a "\r\r\n"
		{"a\n", badChar},                 // LF
		{"a\x1f", badChar},               // U+001F
		{"a\x7f", badChar},               // DEL
		{"a\u0080", badChar},             // first C1 control
		{"a\u0085b", badChar},            // NEL
		{"a\u009f", badChar},             // last C1 control
		{"\xff", badUTF8},                // never valid
		{"USERNAME \xff", badUTF8},       //
		{"a\xc3", badUTF8},               // truncated é
		{"\xe2\x82", badUTF8},            // truncated €
		{"\xf0\x9f\x98", badUTF8},        // truncated emoji
		{"\xc0\x80", badUTF8},            // overlong NUL
		{"\xc1\xbf", badUTF8},            // overlong DEL
		{"\xed\xa0\x80", badUTF8},        // surrogate U+D800
		{"\xf4\x90\x80\x80", badUTF8},    // beyond U+10FFFF
		{"\x80", badUTF8},                // lone continuation byte
		{"\x85", badUTF8},                // the byte of NEL, not its encoding
		{"\x00\xff", badUTF8},            // FRAME-9: UTF-8 comes before control characters
		{"\xff\x07", badUTF8},            //
		{"\u0085\xff", badUTF8},          //
		{strings.Repeat("é", 255), ok},   //
		{strings.Repeat("é", 255) + "\x01", badChar},
	} {
		if got := spec.CheckLine([]byte(tt.line)); got != tt.want {
			t.Errorf("CheckLine(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestIsControl(t *testing.T) {
	for r := rune(0); r <= 0x200; r++ {
		want := r <= 0x1f || 0x7f <= r && r <= 0x9f
		if got := spec.IsControl(r); got != want {
			t.Errorf("IsControl(%U) = %v, want %v", r, got, want)
		}
	}
	for _, r := range []rune{' ', '~', 0xa0, 0xfeff, utf8.MaxRune} {
		if spec.IsControl(r) {
			t.Errorf("IsControl(%U) = true", r)
		}
	}
}

// checkLineRef is CheckLine written from FRAME-7, FRAME-8 and FRAME-9.
func checkLineRef(b []byte) string {
	if !utf8.Valid(b) {
		return spec.ErrInvalidUTF8
	}
	for _, r := range string(b) {
		switch {
		case r <= 0x1f || 0x7f <= r && r <= 0x9f:
			return spec.ErrInvalidCharacter
		case r == 0x2028 || r == 0x2029: // line breaks
			return spec.ErrInvalidCharacter
		case r == 0x61c || r == 0x200e || r == 0x200f || 0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069: // bidi
			return spec.ErrInvalidCharacter
		}
	}
	return ""
}

func FuzzCheckLine(f *testing.F) {
	for _, s := range []string{
		"", "USERNAME alice", "é😀", "a\x00b", "a\tb", "\x1b[2J", "a\rb", "\x7f",
		"\u0085", "\u00a0", "\xff", "\xc3", "\xed\xa0\x80", "\x00\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := string(line)
		got := spec.CheckLine(line)
		if string(line) != orig {
			t.Fatalf("CheckLine modified its argument")
		}
		if want := checkLineRef(line); got != want {
			t.Fatalf("CheckLine(%q) = %q, want %q", line, got, want)
		}
		if got == "" {
			// An accepted line holds no byte that could end a line or start
			// a terminal escape sequence (FRAME-8).
			for _, c := range line {
				if c < 0x20 || c == 0x7f {
					t.Fatalf("CheckLine(%q) accepted byte %#x", line, c)
				}
			}
		}
	})
}

// TestCheckLineEachByte puts every byte value at every position of lines of
// printable ASCII, of lengths around the eight bytes CheckLine looks at
// together, and compares the verdict with checkLineRef's.
func TestCheckLineEachByte(t *testing.T) {
	for n := 1; n <= 17; n++ {
		for pos := range n {
			for b := range 256 {
				line := []byte(strings.Repeat("~ Az", 5)[:n])
				line[pos] = byte(b)
				if got, want := spec.CheckLine(line), checkLineRef(line); got != want {
					t.Fatalf("CheckLine(%q) = %q, want %q", line, got, want)
				}
			}
		}
	}
}
