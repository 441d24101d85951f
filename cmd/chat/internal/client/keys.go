package client

import "unicode/utf8"

// Keys. Control characters stand for themselves; the keys that are not
// characters are runes of the UTF-16 surrogate range, which no valid UTF-8
// input decodes to.
const (
	keyCtrlC     = 3
	keyCtrlD     = 4
	keyTab       = '\t'
	keyLF        = '\n'
	keyEnter     = '\r'
	keyEscape    = 27
	keyBackspace = 127

	keyUnknown = 0xd800 + iota
	keyUp
	keyDown
	keyLeft
	keyRight
	keyWordLeft
	keyWordRight
	keyHome
	keyEnd
	keyDelete
	keyDeleteWord
	keyKillStart
	keyKillEnd
	keyClear
	keyTranspose
	keyPageUp
	keyWindow1 // Alt-1; Alt-2 to Alt-9 follow it
)

// keyWindow9 is Alt-9.
const keyWindow9 = keyWindow1 + 8

func isSpecialKey(k rune) bool { return 0xd800 <= k && k < 0xe000 }

// controlKeys are the Emacs-style control keys of the editor, as
// golang.org/x/term's Terminal has them.
var controlKeys = [' ']rune{
	1:  keyHome,       // ^A
	2:  keyLeft,       // ^B
	5:  keyEnd,        // ^E
	6:  keyRight,      // ^F
	8:  keyBackspace,  // ^H
	11: keyKillEnd,    // ^K
	12: keyClear,      // ^L
	14: keyDown,       // ^N
	16: keyUp,         // ^P
	20: keyTranspose,  // ^T
	21: keyKillStart,  // ^U
	23: keyDeleteWord, // ^W
}

// escapeKeys are the escape sequences of the keys the editor knows, in the
// forms xterm and its followers send in normal and application cursor mode.
var escapeKeys = map[string]rune{
	"\x1b[A": keyUp, "\x1b[B": keyDown, "\x1b[C": keyRight, "\x1b[D": keyLeft,
	"\x1bOA": keyUp, "\x1bOB": keyDown, "\x1bOC": keyRight, "\x1bOD": keyLeft,
	"\x1b[H": keyHome, "\x1b[F": keyEnd, "\x1bOH": keyHome, "\x1bOF": keyEnd,
	"\x1b[1~": keyHome, "\x1b[7~": keyHome, "\x1b[4~": keyEnd, "\x1b[8~": keyEnd,
	"\x1b[3~":   keyDelete,
	"\x1b[5~":   keyPageUp,
	"\x1b[1;3C": keyWordRight, "\x1b[1;3D": keyWordLeft, // Alt-arrow
	"\x1b[1;5C": keyWordRight, "\x1b[1;5D": keyWordLeft, // Ctrl-arrow
	"\x1bf": keyWordRight, "\x1bb": keyWordLeft, // Alt-f, Alt-b
	// Alt-1 to Alt-9, as terminals that send Alt as ESC send them.
	"\x1b1": keyWindow1, "\x1b2": keyWindow1 + 1, "\x1b3": keyWindow1 + 2,
	"\x1b4": keyWindow1 + 3, "\x1b5": keyWindow1 + 4, "\x1b6": keyWindow1 + 5,
	"\x1b7": keyWindow1 + 6, "\x1b8": keyWindow1 + 7, "\x1b9": keyWindow9,
}

// maxEscape bounds a CSI sequence; a longer one is dropped.
const maxEscape = 32

// parseKey returns the key at the start of b and the bytes after it. It
// returns false if b holds only the beginning of a key. Unknown sequences
// and invalid UTF-8 are keyUnknown.
func parseKey(b []byte) (k rune, rest []byte, ok bool) {
	if len(b) == 0 {
		return 0, b, false
	}
	c := b[0]
	switch {
	case c == keyEscape:
		return parseEscape(b)
	case c < ' ' && controlKeys[c] != 0:
		return controlKeys[c], b[1:], true
	case c < utf8.RuneSelf:
		return rune(c), b[1:], true
	case !utf8.FullRune(b):
		return 0, b, false
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n == 1 {
		return keyUnknown, b[1:], true
	}
	return r, b[n:], true
}

// parseEscape parses a key that starts with ESC: a CSI sequence (ESC [
// parameters final), an SS3 one (ESC O letter), or ESC and one more byte
// (a key with Alt).
func parseEscape(b []byte) (rune, []byte, bool) {
	if len(b) < 2 {
		return 0, b, false // a lone ESC, or the start of a sequence
	}
	n := 2
	switch b[1] {
	case '[':
		for n < len(b) && n < maxEscape && 0x20 <= b[n] && b[n] <= 0x3f {
			n++
		}
		switch {
		case n == maxEscape:
			return keyUnknown, b[n:], true
		case n == len(b):
			return 0, b, false
		}
		n++ // the final byte
	case 'O':
		if len(b) < 3 {
			return 0, b, false
		}
		n = 3
	}
	if k, ok := escapeKeys[string(b[:n])]; ok {
		return k, b[n:], true
	}
	return keyUnknown, b[n:], true
}
