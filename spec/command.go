package spec

import (
	"strconv"
	"strings"
)

// Kind identifies a client line: one of the commands of PROTOCOL.md 3.1, a
// text line (GRAM-5), or an empty line (FRAME-6).
type Kind uint8

// The kinds of client line.
const (
	Empty    Kind = iota // FRAME-6: ignored
	Text                 // GRAM-5: a room message without MSG
	Username             // USERNAME <name>
	Join                 // JOIN <room>
	Leave                // LEAVE, or LEAVE <room> with rooms (MULTI-3)
	Msg                  // MSG <text>, or MSG <room> <text> with rooms (MULTI-4)
	Privmsg              // PRIVMSG <user> <text>
	Rooms                // ROOMS
	Users                // USERS, or USERS <room> with rooms (MULTI-6)
	Quit                 // QUIT
	Ping                 // PING [<token>]
	// The commands of PROTOCOL.md section 13, command words only where
	// Words allows them.
	Caps     // CAPS [<ext> ...], in NEW (CAPS-1)
	Register // REGISTER <password> (ACCT-1)
	Login    // LOGIN <name> <password> (ACCT-2)
	Password // PASSWORD <old> <new> (ACCT-4)
	History  // HISTORY <room> <before> <limit> (HIST-3)

	// KindCount is the number of kinds: tables indexed by Kind have this
	// length.
	KindCount = iota
)

// shape is how a command's arguments are laid out after its word.
type shape uint8

const (
	noArgs      shape = iota // the word alone
	oneArg                   // word SP argument (non-empty, rest of line)
	textArg                  // word SP text (non-empty, rest of line)
	targetText               // word SP target SP text
	optToken                 // word [SP token]
	nameList                 // word *(SP word): CAPS
	oneWord                  // word SP word: REGISTER
	twoWords                 // word SP word SP word: LOGIN, PASSWORD
	historyArgs              // word SP room SP before SP limit: HISTORY
)

type commandSpec struct {
	word  string
	shape shape
	usage string // what follows "Usage: " in the usage error
	// caps and ext say where the word is a command word beyond the core:
	// in NEW on a server that offers extensions (caps), or on a connection
	// that enabled ext. The core words need neither.
	caps bool
	ext  Ext
}

// commandTable describes every command word (GRAM-1, GRAM-2), indexed by
// kind; the kinds of no command word (Empty, Text) have no word. Parsing
// looks a line's kind up in it, so it is an array, not a map.
var commandTable = [KindCount]commandSpec{
	Username: {"USERNAME", oneArg, "USERNAME <name>", false, 0},
	Join:     {"JOIN", oneArg, "JOIN <room>", false, 0},
	Leave:    {"LEAVE", noArgs, "LEAVE", false, 0},
	Msg:      {"MSG", textArg, "MSG <text>", false, 0},
	Privmsg:  {"PRIVMSG", targetText, "PRIVMSG <user> <text>", false, 0},
	Rooms:    {"ROOMS", noArgs, "ROOMS", false, 0},
	Users:    {"USERS", noArgs, "USERS", false, 0},
	Quit:     {"QUIT", noArgs, "QUIT", false, 0},
	Ping:     {"PING", optToken, "PING [<token>]", false, 0},
	Caps:     {"CAPS", nameList, "CAPS [<extension> ...]", true, 0},
	Register: {"REGISTER", oneWord, "REGISTER <password>", false, ExtAccounts},
	Login:    {"LOGIN", twoWords, "LOGIN <name> <password>", false, ExtAccounts},
	Password: {"PASSWORD", twoWords, "PASSWORD <old> <new>", false, ExtAccounts},
	History:  {"HISTORY", historyArgs, "HISTORY <room> <before> <limit>", false, ExtHistory},
}

// roomsTable gives the commands whose arguments change on a connection
// that enabled rooms: each names the room it acts on (PROTOCOL.md 13.4).
// The other kinds have no word here.
var roomsTable = [KindCount]commandSpec{
	Leave: {"LEAVE", oneArg, "LEAVE <room>", false, 0},
	Msg:   {"MSG", targetText, "MSG <room> <text>", false, 0},
	Users: {"USERS", oneArg, "USERS <room>", false, 0},
}

// specOf returns how command k is laid out on a connection that enabled
// ext.
func specOf(k Kind, ext Ext) commandSpec {
	if ext.Has(ExtRooms) {
		if c, ok := lookup(&roomsTable, k); ok {
			return c
		}
	}
	c, _ := lookup(&commandTable, k)
	return c
}

// lookup returns the entry of kind k in table, and whether it has one.
func lookup(table *[KindCount]commandSpec, k Kind) (commandSpec, bool) {
	if int(k) >= len(table) || table[k].word == "" {
		return commandSpec{}, false
	}
	return table[k], true
}

// kindByWord maps a command word to its kind.
var kindByWord = func() map[string]Kind {
	m := make(map[string]Kind, len(commandTable))
	for k, c := range commandTable {
		if c.word != "" {
			m[c.word] = Kind(k)
		}
	}
	return m
}()

// String returns the command word of k, or "text" or "empty".
func (k Kind) String() string {
	switch k {
	case Empty:
		return "empty"
	case Text:
		return "text"
	}
	if c, ok := lookup(&commandTable, k); ok {
		return c.word
	}
	return "Kind(?)"
}

// IsCommandWord reports whether word is one of the core command words of
// GRAM-1. Matching is case-sensitive (D-4).
func IsCommandWord(word string) bool {
	k, ok := kindByWord[word]
	return ok && commandTable[k].allowed(Words{})
}

// allowed reports whether the command is a command word under w.
func (c commandSpec) allowed(w Words) bool {
	return (!c.caps || w.Caps) && w.Ext.Has(c.ext)
}

// Command is one parsed client line.
type Command struct {
	Kind Kind
	// Arg is the name of USERNAME, the room of JOIN, or the target of
	// PRIVMSG; on a connection that enabled rooms, also the room of LEAVE,
	// MSG and USERS (13.4). It is not checked against the name rules: that
	// is a later step (STATE-3).
	Arg string
	// Text is the text of MSG, PRIVMSG or a text line, or the token of PING.
	//
	// For the commands of section 13: CAPS has its names, separated by
	// single spaces, in Text; REGISTER its password in Text; LOGIN its
	// name in Arg and password in Text; PASSWORD the old password in Arg
	// and the new one in Text; HISTORY its room in Arg.
	Text string
	// Before and Limit are HISTORY's: Before is 0 for "*".
	Before uint64
	Limit  int
}

// UsageError is a line whose first word is a command word but whose
// arguments do not fit the command (GRAM-2).
type UsageError struct {
	Kind Kind
	Line string
	// Ext is what the connection enabled, which decides the usage of
	// LEAVE, MSG and USERS (13.4); zero on a core connection.
	Ext Ext
}

func (e *UsageError) Error() string { return "spec: usage: " + e.Line }

// Text returns the ERROR text to answer.
func (e *UsageError) Text() string { return UsageWith(e.Kind, e.Ext) }

// ParseCommand parses one client line of a core connection whose
// terminator has been removed. It applies the grammar only: the framing
// checks (CheckLine) come before it, and name rules and state after it.
// The only error is a *UsageError.
func ParseCommand(line string) (Command, error) { return ParseCommandWith(line, Words{}) }

// ParseCommandWith is ParseCommand on a connection where w allows the
// command words of section 13 (CAPS-1, CAPS-3); where it does not, a line
// that begins with one is a text line.
func ParseCommandWith(line string, w Words) (Command, error) {
	if line == "" {
		return Command{Kind: Empty}, nil
	}
	word, rest, hasRest := strings.Cut(line, " ")
	kind, ok := kindByWord[word]
	if !ok || !commandTable[kind].allowed(w) {
		return Command{Kind: Text, Text: line}, nil
	}
	usage := func() error { return &UsageError{Kind: kind, Line: line, Ext: w.Ext} }
	switch specOf(kind, w.Ext).shape {
	case noArgs:
		if hasRest {
			return Command{}, usage()
		}
		return Command{Kind: kind}, nil
	case oneArg:
		if rest == "" {
			return Command{}, usage()
		}
		return Command{Kind: kind, Arg: rest}, nil
	case textArg:
		if rest == "" {
			return Command{}, usage()
		}
		return Command{Kind: kind, Text: rest}, nil
	case targetText:
		target, text, _ := strings.Cut(rest, " ")
		if target == "" || text == "" {
			return Command{}, usage()
		}
		return Command{Kind: kind, Arg: target, Text: text}, nil
	case nameList:
		if hasRest {
			if _, ok := words(rest, strings.Count(rest, " ")+1); !ok {
				return Command{}, usage()
			}
		}
		return Command{Kind: kind, Text: rest}, nil
	case oneWord:
		f, ok := words(rest, 1)
		if !ok {
			return Command{}, usage()
		}
		return Command{Kind: kind, Text: f[0]}, nil
	case twoWords:
		f, ok := words(rest, 2)
		if !ok {
			return Command{}, usage()
		}
		return Command{Kind: kind, Arg: f[0], Text: f[1]}, nil
	case historyArgs:
		f, ok := words(rest, 3)
		if !ok {
			return Command{}, usage()
		}
		var before uint64
		if f[1] != "*" {
			if before, ok = parseMsgID(f[1]); !ok {
				return Command{}, usage()
			}
		}
		limit, ok := parseLimit(f[2])
		if !ok {
			return Command{}, usage()
		}
		return Command{Kind: kind, Arg: f[0], Before: before, Limit: limit}, nil
	default: // optToken
		return Command{Kind: kind, Text: rest}, nil
	}
}

// Names returns the extension names of a CAPS command.
func (c Command) Names() []string {
	if c.Text == "" {
		return nil
	}
	return strings.Split(c.Text, " ")
}

// String formats c as a client line without its terminator. For every
// Command returned by ParseCommandWith(line, w), ParseCommandWith(c.String(),
// w) returns c.
func (c Command) String() string {
	switch c.Kind {
	case Empty:
		return ""
	case Text:
		return c.Text
	}
	spec, _ := lookup(&commandTable, c.Kind)
	if r, ok := lookup(&roomsTable, c.Kind); ok && c.Arg != "" {
		spec = r // the room a command names with rooms enabled (13.4)
	}
	switch spec.shape {
	case noArgs:
		return spec.word
	case oneArg:
		return spec.word + " " + c.Arg
	case textArg:
		return spec.word + " " + c.Text
	case targetText, twoWords:
		return spec.word + " " + c.Arg + " " + c.Text
	case nameList:
		if c.Text == "" {
			return spec.word
		}
		return spec.word + " " + c.Text
	case oneWord:
		return spec.word + " " + c.Text
	case historyArgs:
		before := "*"
		if c.Before != 0 {
			before = strconv.FormatUint(c.Before, 10)
		}
		return spec.word + " " + c.Arg + " " + before + " " + strconv.Itoa(c.Limit)
	default: // optToken
		if c.Text == "" {
			return spec.word
		}
		return spec.word + " " + c.Text
	}
}
