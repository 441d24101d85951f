package spec

import "strings"

// Kind identifies a client line: one of the commands of PROTOCOL.md 3.1, a
// text line (GRAM-5), or an empty line (FRAME-6).
type Kind uint8

// The kinds of client line.
const (
	Empty    Kind = iota // FRAME-6: ignored
	Text                 // GRAM-5: a room message without MSG
	Username             // USERNAME <name>
	Join                 // JOIN <room>
	Leave                // LEAVE
	Msg                  // MSG <text>
	Privmsg              // PRIVMSG <user> <text>
	Rooms                // ROOMS
	Users                // USERS
	Quit                 // QUIT
	Ping                 // PING [<token>]
)

// shape is how a command's arguments are laid out after its word.
type shape uint8

const (
	noArgs     shape = iota // the word alone
	oneArg                  // word SP argument (non-empty, rest of line)
	textArg                 // word SP text (non-empty, rest of line)
	targetText              // word SP target SP text
	optToken                // word [SP token]
)

type commandSpec struct {
	word  string
	shape shape
	usage string // what follows "Usage: " in the usage error
}

// commandTable describes every command word (GRAM-1, GRAM-2).
var commandTable = map[Kind]commandSpec{
	Username: {"USERNAME", oneArg, "USERNAME <name>"},
	Join:     {"JOIN", oneArg, "JOIN <room>"},
	Leave:    {"LEAVE", noArgs, "LEAVE"},
	Msg:      {"MSG", textArg, "MSG <text>"},
	Privmsg:  {"PRIVMSG", targetText, "PRIVMSG <user> <text>"},
	Rooms:    {"ROOMS", noArgs, "ROOMS"},
	Users:    {"USERS", noArgs, "USERS"},
	Quit:     {"QUIT", noArgs, "QUIT"},
	Ping:     {"PING", optToken, "PING [<token>]"},
}

// kindByWord maps a command word to its kind.
var kindByWord = func() map[string]Kind {
	m := make(map[string]Kind, len(commandTable))
	for k, c := range commandTable {
		m[c.word] = k
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
	if c, ok := commandTable[k]; ok {
		return c.word
	}
	return "Kind(?)"
}

// IsCommandWord reports whether word is one of the command words of GRAM-1.
// Matching is case-sensitive (D-4).
func IsCommandWord(word string) bool {
	_, ok := kindByWord[word]
	return ok
}

// Command is one parsed client line.
type Command struct {
	Kind Kind
	// Arg is the name of USERNAME, the room of JOIN, or the target of
	// PRIVMSG. It is not checked against the name rules: that is a later
	// step (STATE-3).
	Arg string
	// Text is the text of MSG, PRIVMSG or a text line, or the token of PING.
	Text string
}

// UsageError is a line whose first word is a command word but whose
// arguments do not fit the command (GRAM-2).
type UsageError struct {
	Kind Kind
	Line string
}

func (e *UsageError) Error() string { return "spec: usage: " + e.Line }

// Text returns the ERROR text to answer.
func (e *UsageError) Text() string { return Usage(e.Kind) }

// ParseCommand parses one client line whose terminator has been removed. It
// applies the grammar only: the framing checks (CheckLine) come before it,
// and name rules and state after it. The only error is a *UsageError.
func ParseCommand(line string) (Command, error) {
	if line == "" {
		return Command{Kind: Empty}, nil
	}
	word, rest, hasRest := strings.Cut(line, " ")
	kind, ok := kindByWord[word]
	if !ok {
		return Command{Kind: Text, Text: line}, nil
	}
	usage := func() error { return &UsageError{Kind: kind, Line: line} }
	switch commandTable[kind].shape {
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
	default: // optToken
		return Command{Kind: kind, Text: rest}, nil
	}
}

// String formats c as a client line without its terminator. For every
// Command returned by ParseCommand, ParseCommand(c.String()) returns c.
func (c Command) String() string {
	switch c.Kind {
	case Empty:
		return ""
	case Text:
		return c.Text
	}
	spec := commandTable[c.Kind]
	switch spec.shape {
	case noArgs:
		return spec.word
	case oneArg:
		return spec.word + " " + c.Arg
	case textArg:
		return spec.word + " " + c.Text
	case targetText:
		return spec.word + " " + c.Arg + " " + c.Text
	default: // optToken
		if c.Text == "" {
			return spec.word
		}
		return spec.word + " " + c.Text
	}
}
