package spec_test

import (
	"strings"
	"unicode"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// This file holds the rapid generators shared by the property tests. They
// follow the ABNF of PROTOCOL.md 3.1, 3.2 and 4, written out here
// independently of the tables in the package under test.

// commandWords are the command words of GRAM-1.
var commandWords = []string{"USERNAME", "JOIN", "LEAVE", "MSG", "PRIVMSG", "ROOMS", "USERS", "QUIT", "PING"}

// isCommandWord is GRAM-1, for the generators.
func isCommandWord(w string) bool {
	for _, c := range commandWords {
		if w == c {
			return true
		}
	}
	return false
}

// firstWord is the first word of a line under GRAM-1.
func firstWord(line string) string {
	w, _, _ := strings.Cut(line, " ")
	return w
}

var (
	// wordCharGen draws a word-char: any Unicode scalar value except SP and
	// the characters FRAME-8 forbids.
	wordCharGen = rapid.OneOf(
		rapid.RuneFrom([]rune("aZ09#_-!?/.:é€😀\u00a0\u2027\ufeff\ufffd\U0010FFFF")),
		rapid.RuneFrom(nil, unicode.Lu, unicode.Ll, unicode.Nd, unicode.P, unicode.S, unicode.Mn),
		rapid.Int32Range(0x21, 0x7e),
		rapid.Map(rapid.Int32Range(0xa0, unicode.MaxRune), func(r rune) rune {
			if 0xd800 <= r && r <= 0xdfff { // surrogates are not scalar values
				r -= 0x800
			}
			return r
		}),
	).Filter(func(r rune) bool { return !spec.IsForbidden(r) })
	// charGen draws a char: SP or a word-char, SP often enough to reach the
	// edge cases of leading, trailing and doubled spaces.
	charGen = rapid.OneOf(rapid.Just(' '), wordCharGen, wordCharGen)

	textGen     = rapid.StringOfN(charGen, 1, 24, -1) // text = 1*char
	tokenGen    = rapid.StringOfN(charGen, 0, 24, -1) // token = *char
	targetGen   = rapid.StringOfN(wordCharGen, 1, 12, -1)
	usernameGen = rapid.StringMatching(`[A-Za-z0-9_-]{1,32}`)
	roomGen     = rapid.StringMatching(`#[A-Za-z0-9_-]{1,31}`)

	// textLineGen draws a text line (GRAM-5): non-empty, first word not a
	// command word. Half of them start with something that looks like a
	// command: a lower-case or slash command word, or a leading space.
	textLineGen = rapid.OneOf(
		textGen,
		rapid.Custom(func(t *rapid.T) string {
			prefix := rapid.SampledFrom([]string{
				"join", "join ", "/join ", "Join ", "JOINS ", "PRIVMSG\u00a0", " ", "  ",
				" USERNAME ", "QUIT!", "ping", "PING\u2028", "MSGMSG ", "#", "/quit",
			}).Draw(t, "prefix")
			return prefix + tokenGen.Draw(t, "rest")
		}),
	).Filter(func(s string) bool { return s != "" && !isCommandWord(firstWord(s)) })

	// lineishGen draws arbitrary strings, some of them built from the
	// pieces of the grammar so that they often come close to a command.
	lineishGen = rapid.OneOf(
		rapid.String(),
		rapid.Custom(func(t *rapid.T) string {
			pieces := append([]string{
				" ", " ", "  ", "x", "bob", "#a", "é", "\t", "\r", "\x00", "\xff", "OK", "ERROR",
				"ROOM", "USERLIST", "ROOMLIST", "PONG", "join",
			}, commandWords...)
			parts := rapid.SliceOfN(rapid.SampledFrom(pieces), 0, 6).Draw(t, "pieces")
			return strings.Join(parts, "")
		}),
	)
)
