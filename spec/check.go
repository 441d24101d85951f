package spec

import (
	"encoding/binary"
	"unicode/utf8"
)

// CheckLine applies the content checks of FRAME-7 and FRAME-8 to a line
// whose terminator has been removed. It returns "" for an acceptable line, or
// the ERROR text to answer: ErrInvalidUTF8 if the line is not valid UTF-8,
// else ErrInvalidCharacter if it holds a character IsForbidden rejects.
func CheckLine(line []byte) string {
	if printableASCII(line) {
		return "" // valid UTF-8, and no character IsForbidden rejects
	}
	if !utf8.Valid(line) {
		return ErrInvalidUTF8
	}
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			if IsForbidden(rune(c)) {
				return ErrInvalidCharacter
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(line[i:])
		if IsForbidden(r) {
			return ErrInvalidCharacter
		}
		i += size
	}
	return ""
}

// printableASCII reports whether every byte of line is printable ASCII,
// 0x20 to 0x7e: the lines of nearly every client, which CheckLine then
// accepts without decoding them. It looks at eight bytes at a time.
func printableASCII(line []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		del := w ^ (0x7f * ones) // a byte 0x7f becomes 0
		// A byte has its high bit set, is below 0x20, or is 0 in del. The
		// subtractions borrow only from bytes that are below 0x20 (or 1),
		// and only where the byte itself has no high bit (highs &^ w).
		if w&highs != 0 || (w-0x20*ones)&^w&highs != 0 || (del-ones)&^del&highs != 0 {
			return false
		}
	}
	for ; i < len(line); i++ {
		if c := line[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// IsControl reports whether r is a control character that FRAME-8 forbids in
// a line: U+0000–U+001F and U+007F–U+009F.
func IsControl(r rune) bool {
	return r < 0x20 || 0x7f <= r && r <= 0x9f
}

// IsForbidden reports whether FRAME-8 forbids r in a line: the control
// characters of IsControl, the Unicode line and paragraph separators
// (U+2028, U+2029), and the bidirectional formatting characters (U+061C,
// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069). None of them may reach
// another client: they could break a line on its screen or reorder text so
// that it reads as if someone else had sent it.
func IsForbidden(r rune) bool {
	switch {
	case IsControl(r):
		return true
	case r < 0x61c:
		return false
	}
	return r == 0x61c || r == 0x200e || r == 0x200f || r == 0x2028 || r == 0x2029 ||
		0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069
}
