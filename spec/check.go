package spec

import "unicode/utf8"

// CheckLine applies the content checks of FRAME-7 and FRAME-8 to a line
// whose terminator has been removed. It returns "" for an acceptable line, or
// the ERROR text to answer: ErrInvalidUTF8 if the line is not valid UTF-8,
// else ErrInvalidCharacter if it holds a control character.
func CheckLine(line []byte) string {
	if !utf8.Valid(line) {
		return ErrInvalidUTF8
	}
	for i := 0; i < len(line); {
		c := line[i]
		if c < utf8.RuneSelf {
			if IsControl(rune(c)) {
				return ErrInvalidCharacter
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(line[i:])
		if IsControl(r) {
			return ErrInvalidCharacter
		}
		i += size
	}
	return ""
}

// IsControl reports whether r is a control character that FRAME-8 forbids in
// a line: U+0000–U+001F and U+007F–U+009F.
func IsControl(r rune) bool {
	return r < 0x20 || 0x7f <= r && r <= 0x9f
}
