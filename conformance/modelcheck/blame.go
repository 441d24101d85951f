package modelcheck

import (
	"errors"
	"slices"
	"strings"

	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// blame returns the rule of PROTOCOL.md that a failure shows broken: the
// rule the first line that differs belongs to, by its kind and the event
// that caused it (a ROOM line a message caused is MSG-2, one a JOIN caused
// is history, JOIN-6), made precise by the situation the event was in (a
// welcome refused for a name whose owner has left is NAME-4). An ORDER
// rule is blamed only when the client received the right lines in another
// order. It returns "" for a failure that is not a difference in lines.
func (k *tracker) blame(err error) string {
	var ng *driver.NotGone
	if errors.As(err, &ng) {
		return "DISC-1" // the name of a user who left is not freed
	}
	var mm *driver.Mismatch
	if !errors.As(err, &mm) {
		return ""
	}
	var cause *driver.Applied
	var sits []situation
	if mm.Cause >= 0 {
		cause = &mm.Step[mm.Cause]
		if len(k.step) == len(mm.Step) {
			sits = k.step[mm.Cause]
		}
	}
	if mm.Reordered() {
		return reorderRule(mm, cause)
	}
	if len(mm.Want) == 0 {
		return unexpectedRule(mm)
	}
	rule := outputRule(mm.Want[0], cause, mm.ID)
	has := func(s situation) bool { return slices.Contains(sits, s) }
	var got spec.ServerLine
	if len(mm.Got) > 0 {
		got, _ = spec.ParseServerLine(mm.Got[0])
	}
	switch {
	case rule == "USER-1" && has(sitNameReused):
		return "NAME-4"
	case (rule == "USER-2" || rule == "PRIV-3" || rule == "PRIV-4") && has(sitCaseVariant):
		return "NAME-3"
	case rule == "PRIV-2" && has(sitLookalike):
		return "NAME-3"
	case (rule == "NAME-1" || rule == "NAME-2") && has(sitArgSpaces):
		return "GRAM-3"
	case rule == "GRAM-2" && has(sitPrivSpaces):
		return "GRAM-4"
	case rule == "MSG-2" && cause != nil && commandOf(*cause) == spec.Text && got.Kind == spec.Error:
		return "MSG-4" // the text line was not taken as a message
	}
	return rule
}

// reorderRule is the rule of lines received in another order: the roster
// of a room (JOIN-4) and its history (JOIN-6) have an order of their own;
// any other is ORDER-2.
func reorderRule(mm *driver.Mismatch, cause *driver.Applied) string {
	if cause == nil || commandOf(*cause) != spec.Join || cause.From != mm.ID {
		return "ORDER-2"
	}
	kinds := map[spec.LineKind]bool{}
	for i, w := range mm.Want {
		if w.Line != mm.Got[i] {
			l, _ := spec.ParseServerLine(w.Line)
			kinds[l.Kind] = true
		}
	}
	switch {
	case len(kinds) == 1 && kinds[spec.Joined]:
		return "JOIN-4"
	case len(kinds) == 1 && kinds[spec.Room]:
		return "JOIN-6"
	}
	return "ORDER-2"
}

// outputRule is the rule of a line (or close) the model expected: by its
// kind and, where the kind is shared, by the event that caused it.
func outputRule(w model.Output, cause *driver.Applied, to model.ClientID) string {
	if cause == nil {
		return "ORDER-1"
	}
	cmd := commandOf(*cause)
	if w.Close {
		if cause.Event.Kind == model.Connect {
			return "LIMIT-2"
		}
		return "QUIT-1"
	}
	l, err := spec.ParseServerLine(w.Line)
	if err != nil {
		return "GRAM-6"
	}
	switch l.Kind {
	case spec.OK:
		switch {
		case strings.HasPrefix(l.Text, "Welcome"):
			return "USER-1"
		case strings.HasPrefix(l.Text, "Joined"):
			return "JOIN-4"
		case strings.HasPrefix(l.Text, "Left"):
			return "LEAVE-2"
		case l.Text == spec.OKSent:
			return "PRIV-3"
		case l.Text == spec.OKGoodbye:
			return "QUIT-1"
		}
	case spec.Error:
		if strings.HasPrefix(l.Text, "Usage: ") {
			return "GRAM-2"
		}
		if l.Text == spec.ErrNotInRoom {
			switch cmd {
			case spec.Leave:
				return "LEAVE-1"
			case spec.Text:
				return "MSG-4"
			case spec.Users:
				return "USERS-1"
			}
			return "MSG-1"
		}
		if r, ok := errorRules[l.Text]; ok {
			return r
		}
	case spec.Room:
		if cmd == spec.Join {
			return "JOIN-6"
		}
		return "MSG-2"
	case spec.Private:
		if to == cause.From {
			return "PRIV-4"
		}
		return "PRIV-3"
	case spec.Joined:
		if to == cause.From {
			return "JOIN-4"
		}
		return "JOIN-5"
	case spec.Left:
		switch {
		case cause.Event.Kind == model.Disconnect:
			return "DISC-1"
		case cmd == spec.Join:
			return "JOIN-3"
		case cmd == spec.Quit:
			return "QUIT-2"
		}
		return "LEAVE-2"
	case spec.UserList:
		return "USERS-1"
	case spec.RoomList:
		return "ROOMS-1"
	case spec.Pong:
		return "PING-1"
	}
	return eventRule(*cause)
}

// errorRules are the rules of the ERROR texts that have one.
var errorRules = map[string]string{
	spec.ErrLineTooLong:      "FRAME-5",
	spec.ErrInvalidUTF8:      "FRAME-7",
	spec.ErrInvalidCharacter: "FRAME-8",
	spec.ErrUsernameRequired: "STATE-2",
	spec.ErrUsernameTaken:    "USER-2",
	spec.ErrInvalidUsername:  "NAME-1",
	spec.ErrUsernameSet:      "NAME-5",
	spec.ErrInvalidRoom:      "NAME-2",
	spec.ErrAlreadyInRoom:    "JOIN-1",
	spec.ErrUserNotFound:     "PRIV-2",
	spec.ErrServerFull:       "LIMIT-2",
}

// unexpectedRule is the rule of a line the model did not expect at all,
// by its kind, or by what the client itself did in the step.
func unexpectedRule(mm *driver.Mismatch) string {
	var own []driver.Applied // the client's own events in the step
	for _, a := range mm.Step {
		if a.From == mm.ID {
			own = append(own, a)
		}
	}
	if len(mm.Got) > 0 {
		l, err := spec.ParseServerLine(mm.Got[0])
		if err != nil {
			return "GRAM-6"
		}
		switch l.Kind {
		case spec.Room:
			return "MSG-2"
		case spec.Joined:
			return "JOIN-5"
		case spec.Left:
			return "LEAVE-2"
		case spec.Private:
			return "PRIV-5"
		}
		for _, a := range own {
			if a.Event.Kind == model.Line && a.Event.Line == "" {
				return "FRAME-6" // an empty line has no reply
			}
		}
	}
	if len(own) > 0 {
		return eventRule(own[len(own)-1])
	}
	return "ORDER-3"
}

// eventRule is the rule of what a client did, for a difference that has
// nothing more precise.
func eventRule(a driver.Applied) string {
	switch a.Event.Kind {
	case model.Connect:
		return "FRAME-1"
	case model.LineTooLong:
		return "FRAME-5"
	case model.Disconnect:
		return "DISC-1"
	case model.Line:
	default:
		return "ORDER-1"
	}
	switch spec.CheckLine([]byte(a.Event.Line)) {
	case spec.ErrInvalidUTF8:
		return "FRAME-7"
	case spec.ErrInvalidCharacter:
		return "FRAME-8"
	}
	if _, err := spec.ParseCommand(a.Event.Line); err != nil {
		return "GRAM-2"
	}
	return commandRules[commandOf(a)]
}

// commandRules are the rules of each kind of client line.
var commandRules = map[spec.Kind]string{
	spec.Empty: "FRAME-6", spec.Text: "MSG-4", spec.Username: "USER-1", spec.Join: "JOIN-4",
	spec.Leave: "LEAVE-2", spec.Msg: "MSG-2", spec.Privmsg: "PRIV-3", spec.Rooms: "ROOMS-1",
	spec.Users: "USERS-1", spec.Quit: "QUIT-1", spec.Ping: "PING-1",
}

// commandOf returns the kind of a line event's command; spec.Empty for
// any other event or a line that is not a command.
func commandOf(a driver.Applied) spec.Kind {
	if a.Event.Kind != model.Line || spec.CheckLine([]byte(a.Event.Line)) != "" {
		return spec.Empty
	}
	cmd, err := spec.ParseCommand(a.Event.Line)
	if err != nil {
		return spec.Empty
	}
	return cmd.Kind
}
