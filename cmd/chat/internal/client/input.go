package client

import (
	"fmt"
	"strconv"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// Action is what one line typed by the user asks for. At most one of its
// fields is set; an empty Action (an empty line) does nothing.
type Action struct {
	Send  *spec.Command // a command for the server
	Show  string        // local text to show, such as the help
	Error string        // a local error: nothing is sent
	// Dialog asks for passwords, without echo, and then builds the
	// command to send (/login, /register, /password).
	Dialog *passwordDialog
	// History asks for this many earlier messages of the room (/history):
	// the client knows which.
	History int
	// Show a room: "#room", or the number of a room in the room bar
	// (/win), which the client knows.
	Win string
}

// slashCommand is one command a user can type after '/'.
type slashCommand struct {
	usage string
	help  string
	parse func(args string) (spec.Command, bool) // false: usage error
	// action, if set instead of parse, translates the command into an
	// Action that is not a command sent as it is.
	action func(args string) (Action, bool)
}

// slashCommands maps each command name to its translation. The names are
// what Tab completes after '/'.
var slashCommands = map[string]slashCommand{
	"join": {"/join #room", "join a room and show it", func(args string) (spec.Command, bool) {
		room, ok := roomArg(args)
		return spec.Command{Kind: spec.Join, Arg: room}, ok && room != ""
	}, nil},
	"part":  {"/part [#room]", "leave the room shown, or the one named (/leave too)", partRoom, nil},
	"leave": {"/leave [#room]", "leave the room shown, or the one named", partRoom, nil},
	"win": {"/win #room|n", "show another of your rooms (Alt-1 to Alt-9 too)", nil, func(args string) (Action, bool) {
		room, ok := roomArg(args)
		if n, err := strconv.Atoi(strings.TrimSpace(args)); err == nil && n >= 1 {
			return Action{Win: strconv.Itoa(n)}, true
		}
		return Action{Win: room}, ok && room != ""
	}},
	"msg": {"/msg user text", "send a private message", func(args string) (spec.Command, bool) {
		user, text, _ := strings.Cut(strings.TrimLeft(args, " "), " ")
		if user == "" || text == "" {
			return spec.Command{}, false
		}
		return spec.Command{Kind: spec.Privmsg, Arg: user, Text: text}, true
	}, nil},
	"users": {"/users", "list the users of the room shown", noArgs(spec.Users), nil},
	"rooms": {"/rooms", "list the rooms", noArgs(spec.Rooms), nil},
	"history": {"/history [n]", "show n earlier messages of the room shown (PgUp: 50)", nil, func(args string) (Action, bool) {
		args = strings.TrimSpace(args)
		if args == "" {
			return Action{History: historyPageSize}, true
		}
		n, err := strconv.Atoi(args)
		if err != nil || n < 1 || n > spec.HistoryPage {
			return Action{}, false
		}
		return Action{History: n}, true
	}},
	"login": {"/login name", "log in to a registered name instead of choosing one", nil, func(args string) (Action, bool) {
		name := strings.TrimSpace(args)
		if name == "" || strings.Contains(name, " ") {
			return Action{}, false
		}
		if !spec.ValidUsername(name) {
			return Action{Error: invalidUsername}, true
		}
		return Action{Dialog: newDialog(spec.Login, name)}, true
	}},
	"register": {"/register", "protect your name with a password (asked twice, not shown)", nil, dialog(spec.Register)},
	"password": {"/password", "change your password (not shown)", nil, dialog(spec.Password)},
	"quit":     {"/quit", "leave the chat (Ctrl-D does the same)", noArgs(spec.Quit), nil},
	"help":     {"/help", "show this help", nil, nil},
}

// commandAliases are the other names of commands in commandOrder, which
// Tab completes after them: /leave is /part.
var commandAliases = []string{"leave"}

// commandOrder is the order of the help text.
var commandOrder = []string{"join", "part", "win", "msg", "users", "rooms", "history", "login", "register", "password", "quit", "help"}

// invalidUsername is the local error for a name the server would refuse.
const invalidUsername = "invalid username: 1 to 32 letters, digits, '_' or '-'"

// roomArg returns the room a command names, with the '#' a person may
// leave out, or "" if it names none; false if it names more than one word.
func roomArg(args string) (string, bool) {
	room := strings.TrimSpace(args)
	if strings.Contains(room, " ") {
		return "", false
	}
	if room != "" && !strings.HasPrefix(room, "#") {
		room = "#" + room
	}
	return room, true
}

// partRoom translates /part and /leave: LEAVE, with the room if one is
// named; the client fills in the room shown when the server needs it.
func partRoom(args string) (spec.Command, bool) {
	room, ok := roomArg(args)
	return spec.Command{Kind: spec.Leave, Arg: room}, ok
}

func dialog(k spec.Kind) func(string) (Action, bool) {
	return func(args string) (Action, bool) {
		return Action{Dialog: newDialog(k, "")}, strings.TrimSpace(args) == ""
	}
}

func noArgs(k spec.Kind) func(string) (spec.Command, bool) {
	return func(args string) (spec.Command, bool) {
		return spec.Command{Kind: k}, strings.TrimSpace(args) == ""
	}
}

// HelpText is the text /help shows.
func HelpText() string {
	var b strings.Builder
	b.WriteString("commands:\n")
	for _, name := range commandOrder {
		c := slashCommands[name]
		fmt.Fprintf(&b, "  %-16s %s\n", c.usage, c.help)
	}
	fmt.Fprintf(&b, "  %-16s %s\n", "//text", "send a message that starts with '/'")
	b.WriteString("anything else is a message to the room shown; Tab completes commands and names;\n")
	b.WriteString("PgUp shows earlier messages; Alt-1 to Alt-9 show your rooms by number;\n")
	b.WriteString("Ctrl-C at a password prompt cancels it")
	return b.String()
}

// ParseInput translates a line typed by the user. A line starting with '/'
// is a command ('//' escapes a message starting with '/'); any other line is
// sent as MSG, explicitly, so that a message beginning with a command word
// stays a message. The resulting wire line is checked against the framing
// rules here, so the server never has to reject it.
func ParseInput(line string) Action {
	if line == "" {
		return Action{}
	}
	if strings.HasPrefix(line, "//") {
		return checked(spec.Command{Kind: spec.Msg, Text: line[1:]})
	}
	if !strings.HasPrefix(line, "/") {
		return checked(spec.Command{Kind: spec.Msg, Text: line})
	}
	name, args, _ := strings.Cut(line[1:], " ")
	c, ok := slashCommands[strings.ToLower(name)]
	if !ok {
		return Action{Error: fmt.Sprintf("unknown command %q (type /help)", "/"+name)}
	}
	if c.action != nil {
		a, ok := c.action(args)
		if !ok {
			return Action{Error: "usage: " + c.usage}
		}
		return a
	}
	if c.parse == nil {
		return Action{Show: HelpText()}
	}
	cmd, ok := c.parse(args)
	if !ok {
		return Action{Error: "usage: " + c.usage}
	}
	return checked(cmd)
}

// checked returns an Action sending cmd, or a local error if its line would
// break FRAME-4, FRAME-7 or FRAME-8.
func checked(cmd spec.Command) Action {
	wire := cmd.String()
	if msg := spec.CheckLine([]byte(wire)); msg != "" {
		if msg == spec.ErrInvalidCharacter {
			return Action{Error: "not sent: the line contains a control character"}
		}
		return Action{Error: "not sent: the line is not valid UTF-8"}
	}
	if over := len(wire) + 2 - spec.MaxLineLen; over > 0 {
		return Action{Error: fmt.Sprintf("not sent: %d bytes too long (a line is at most %d bytes)", over, spec.MaxLineLen)}
	}
	return Action{Send: &cmd}
}
