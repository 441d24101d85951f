package client

import (
	"slices"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// Names is what Tab can complete besides command names: the users of the
// current room and the rooms the client has heard of.
type Names struct {
	Users []string
	Rooms []string
}

// Complete completes the word that ends at byte offset pos of line: a
// command name after a leading '/', a room name after '#', else a username.
// Names match case-insensitively (NAME-3). It returns the new line and
// cursor offset — unchanged if nothing matches — and, when several names
// match, all of them, for the caller to show.
func Complete(line string, pos int, names Names) (newLine string, newPos int, options []string) {
	if pos < 0 || pos > len(line) {
		return line, pos, nil
	}
	start := strings.LastIndexByte(line[:pos], ' ') + 1
	word := line[start:pos]
	var candidates []string
	var suffix string // added after a unique match
	switch {
	case start == 0 && strings.HasPrefix(word, "/") && !strings.HasPrefix(word, "//"):
		for _, name := range commandOrder {
			candidates = append(candidates, "/"+name)
		}
		for _, name := range commandAliases {
			candidates = append(candidates, "/"+name)
		}
		suffix = " "
	case strings.HasPrefix(word, "#"):
		candidates = names.Rooms
		suffix = " "
	case word == "":
		return line, pos, nil
	default:
		candidates = names.Users
		suffix = " "
		if start == 0 {
			suffix = ": " // addressing someone at the start of a message
		}
	}
	var matches []string
	for _, c := range candidates {
		if len(c) >= len(word) && spec.Fold(c[:len(word)]) == spec.Fold(word) && !slices.Contains(matches, c) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return line, pos, nil
	}
	replacement := matches[0]
	if len(matches) == 1 {
		if !strings.HasPrefix(line[pos:], " ") {
			replacement += suffix
		}
	} else {
		replacement = replacement[:commonFoldedPrefix(matches)]
		if len(replacement) < len(word) {
			replacement = word
		}
	}
	newLine = line[:start] + replacement + line[pos:]
	newPos = start + len(replacement)
	if len(matches) > 1 {
		options = matches
	}
	return newLine, newPos, options
}

// commonFoldedPrefix returns the length of the longest prefix the strings
// share, ignoring ASCII case.
func commonFoldedPrefix(ss []string) int {
	n := len(ss[0])
	for _, s := range ss[1:] {
		i := 0
		for i < n && i < len(s) && spec.Fold(s[i:i+1]) == spec.Fold(ss[0][i:i+1]) {
			i++
		}
		n = i
	}
	return n
}
