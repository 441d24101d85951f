package client

import (
	"fmt"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// Action is what one line typed by the user asks for. At most one of Send,
// Show and Error is set; an empty Action (an empty line) does nothing.
type Action struct {
	Send  *spec.Command // a command for the server
	Show  string        // local text to show, such as the help
	Error string        // a local error: nothing is sent
}

// slashCommand is one command a user can type after '/'.
type slashCommand struct {
	usage string
	help  string
	parse func(args string) (spec.Command, bool) // false: usage error
}

// slashCommands maps each command name to its translation. The names are
// what Tab completes after '/'.
var slashCommands = map[string]slashCommand{
	"join": {"/join #room", "join a room, leaving the one you are in", func(args string) (spec.Command, bool) {
		room := strings.TrimSpace(args)
		if room == "" || strings.Contains(room, " ") {
			return spec.Command{}, false
		}
		if !strings.HasPrefix(room, "#") {
			room = "#" + room
		}
		return spec.Command{Kind: spec.Join, Arg: room}, true
	}},
	"leave": {"/leave", "leave your room", noArgs(spec.Leave)},
	"msg": {"/msg user text", "send a private message", func(args string) (spec.Command, bool) {
		user, text, _ := strings.Cut(strings.TrimLeft(args, " "), " ")
		if user == "" || text == "" {
			return spec.Command{}, false
		}
		return spec.Command{Kind: spec.Privmsg, Arg: user, Text: text}, true
	}},
	"users": {"/users", "list the users in your room", noArgs(spec.Users)},
	"rooms": {"/rooms", "list the rooms", noArgs(spec.Rooms)},
	"quit":  {"/quit", "leave the chat (Ctrl-D does the same)", noArgs(spec.Quit)},
	"help":  {"/help", "show this help", nil},
}

// commandOrder is the order of the help text.
var commandOrder = []string{"join", "leave", "msg", "users", "rooms", "quit", "help"}

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
	b.WriteString("anything else is a message to your room; Tab completes commands and names")
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
