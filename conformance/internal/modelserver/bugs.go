package modelserver

import (
	"fmt"
	"slices"
	"strings"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// A Bug is a named, deliberate departure from PROTOCOL.md: a Fault that
// breaks one rule in a way the conformance scripts see, so that a server
// running it shows what a failure of that rule looks like, and so that the
// suite can be shown to blame exactly that rule.
type Bug struct {
	Name  string   // how -bug names it: lower case words joined by -
	Rules []string // the rule IDs of PROTOCOL.md it breaks
	Doc   string   // one sentence: what the broken server does
	// Fault makes the model server broken. It keeps no state, so that one
	// Bug may serve many servers at once.
	Fault Fault
}

// Bugs is the catalogue of deliberate bugs, in the order a listing shows
// them. Each breaks one rule and is deterministic: every script it makes
// fail (of the tags the model server implements) names one of its Rules in
// its "# rules:" header, and at least one does, which the tests of package
// conformance check.
var Bugs = []Bug{
	{Name: "rooms-reversed", Rules: []string{"ROOMS-1"},
		Doc: "lists the rooms of ROOMLIST in reverse order",
		Fault: EditLines(func(l string) string {
			rooms, ok := strings.CutPrefix(l, "ROOMLIST ")
			if !ok {
				return l
			}
			f := strings.Fields(rooms)
			slices.Reverse(f)
			return "ROOMLIST " + strings.Join(f, " ")
		})},
	{Name: "already-in-room-text", Rules: []string{"JOIN-1"},
		Doc:   `answers a JOIN of the user's own room with "ERROR Already in the room" instead of "ERROR ` + spec.ErrAlreadyInRoom + `"`,
		Fault: replaceLine("ERROR "+spec.ErrAlreadyInRoom, "ERROR Already in the room")},
	{Name: "invalid-target-text", Rules: []string{"PRIV-2"},
		Doc: `answers a PRIVMSG to a name that is not a valid username with "ERROR ` + spec.ErrInvalidUsername +
			`" instead of "ERROR ` + spec.ErrUserNotFound + `"`,
		Fault: func(s *Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
			cmd, err := spec.ParseCommand(ev.Line)
			if ev.Kind != model.Line || err != nil || cmd.Kind != spec.Privmsg || spec.ValidUsername(cmd.Arg) {
				return outs
			}
			return replaceLine("ERROR "+spec.ErrUserNotFound, "ERROR "+spec.ErrInvalidUsername)(s, id, ev, outs)
		}},
	{Name: "short-history", Rules: []string{"JOIN-6"},
		Doc: fmt.Sprintf("replays the last %d room messages to a joiner instead of %d", spec.HistoryLen-1, spec.HistoryLen),
		Fault: func(_ *Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
			if !IsCommand(ev, "JOIN") {
				return outs
			}
			isHistory := func(o model.Output) bool { return o.To == id && strings.HasPrefix(o.Line, "ROOM ") }
			n := 0
			for _, o := range outs {
				if isHistory(o) {
					n++
				}
			}
			if n < spec.HistoryLen {
				return outs
			}
			i := slices.IndexFunc(outs, isHistory)
			return slices.Delete(outs, i, i+1)
		}},
	{Name: "pong-space", Rules: []string{"PING-1"},
		Doc:   `answers a PING without a token with "PONG " (a trailing space) instead of "PONG"`,
		Fault: replaceLine("PONG", "PONG ")},
	{Name: "shutdown-goodbye", Rules: []string{"SHUT-1"},
		Doc:   `says "OK Goodbye!" instead of "ERROR ` + spec.ErrShuttingDown + `" to every client when it shuts down`,
		Fault: replaceLine("ERROR "+spec.ErrShuttingDown, "OK Goodbye!")},
}

// FindBug returns the bug of Bugs called name.
func FindBug(name string) (Bug, bool) {
	i := slices.IndexFunc(Bugs, func(b Bug) bool { return b.Name == name })
	if i < 0 {
		return Bug{}, false
	}
	return Bugs[i], true
}

// DropLines returns a Fault that removes the outputs for which drop is
// true; id is the client whose event ev is.
func DropLines(drop func(ev model.Event, id model.ClientID, o model.Output) bool) Fault {
	return func(_ *Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
		return slices.DeleteFunc(outs, func(o model.Output) bool { return drop(ev, id, o) })
	}
}

// EditLines returns a Fault that rewrites every output line with edit.
func EditLines(edit func(line string) string) Fault {
	return func(_ *Server, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		for i := range outs {
			if !outs[i].Close {
				outs[i].Line = edit(outs[i].Line)
			}
		}
		return outs
	}
}

// replaceLine returns a Fault that sends to instead of every output line
// equal to from.
func replaceLine(from, to string) Fault {
	return EditLines(func(l string) string {
		if l == from {
			return to
		}
		return l
	})
}

// IsCommand reports whether ev is a line whose command word is word.
func IsCommand(ev model.Event, word string) bool {
	return ev.Kind == model.Line && (ev.Line == word || strings.HasPrefix(ev.Line, word+" "))
}
