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
// What a connection that enabled rooms did in several rooms is blamed on
// the rule of 13.4 that changes the core rule (multiRule).
func (k *tracker) blame(err error) string {
	rule := k.blameLine(err)
	var mm *driver.Mismatch
	if !errors.As(err, &mm) || mm.Cause < 0 || len(k.step) != len(mm.Step) {
		return rule
	}
	return multiRule(rule, k.step[mm.Cause])
}

// multiRule is the rule of 13.4 that replaces rule in the situations sits
// of a connection that enabled rooms, or rule itself.
func multiRule(rule string, sits []situation) string {
	has := func(s situation) bool { return slices.Contains(sits, s) }
	switch {
	case has(sitMultiEnd) && (rule == "QUIT-2" || rule == "DISC-1" || rule == "ORDER-2"):
		return "MULTI-7" // the LEAVE notes of every room, in join order
	case has(sitMultiText) && (rule == "MSG-2" || rule == "MSG-4" || rule == "MSG-1"):
		return "MULTI-5"
	case (has(sitMultiJoin) || has(sitMultiTooMany)) && (rule == "JOIN-1" || rule == "JOIN-3"):
		return "MULTI-2" // a JOIN adds a room, up to MaxRoomsPerUser
	case has(sitMultiLeave) && (rule == "LEAVE-1" || rule == "LEAVE-2"):
		return "MULTI-3"
	case has(sitMultiMsg) && (rule == "MSG-1" || rule == "MSG-2"):
		return "MULTI-4"
	case has(sitMultiUsers) && rule == "USERS-1":
		return "MULTI-6"
	}
	return rule
}

// blameLine is blame but for the rules of 13.4.
func (k *tracker) blameLine(err error) string {
	var ng *driver.NotGone
	if errors.As(err, &ng) {
		return "DISC-1" // the name of a user who left is not freed
	}
	var ide *driver.IDError
	if errors.As(err, &ide) {
		return ide.Rule // an ID or a time that cannot be the message's
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
		if extWord(cause.Event.Line) {
			return "CAPS-3" // an extension's word, on a connection that did not enable it
		}
		return "MSG-4" // the text line was not taken as a message
	case rule == "MSG-2" && got.Kind == spec.Message, rule == "JOIN-6" && got.Kind == spec.Message:
		return "CAPS-3" // a core client was sent the form of another's extension
	case (rule == "HIST-2" || rule == "MSG-2") && got.Kind == spec.Room:
		return "HIST-2" // the core form, to a client that enabled history
	case rule == "HIST-3" && (has(sitStoredGone) || has(sitStoredMore)):
		return "HIST-4"
	case has(sitKept) && (strings.HasPrefix(rule, "ACCT-") || rule == "HIST-3" || rule == "USER-2"):
		return "HIST-5" // what a durable server keeps across a restart
	case rule == "USER-2" && has(sitAccountTaken):
		return "ACCT-3"
	case (rule == "STATE-2" || rule == "GRAM-2") && cause != nil && extWord(cause.Event.Line) && !has(sitUsage):
		return "CAPS-3"
	}
	return rule
}

// extWord reports whether line begins with a command word of section 13.
func extWord(line string) bool {
	switch first, _, _ := strings.Cut(line, " "); first {
	case "CAPS", "LOGIN", "REGISTER", "PASSWORD", "HISTORY":
		return true
	}
	return false
}

// reorderRule is the rule of lines received in another order: the roster
// of a room (JOIN-4), its history (JOIN-6) and the reply to HISTORY
// (HIST-3) have an order of their own; any other is ORDER-2.
func reorderRule(mm *driver.Mismatch, cause *driver.Applied) string {
	if cause != nil && commandOf(*cause) == spec.History && cause.From == mm.ID {
		return "HIST-3" // a HISTORY reply comes oldest first
	}
	if cause == nil || commandOf(*cause) != spec.Join || cause.From != mm.ID {
		return "ORDER-2"
	}
	kinds := map[spec.LineKind]bool{}
	for i, w := range mm.Want {
		if driver.Normalize(w.Line) != driver.Normalize(mm.Got[i]) {
			l, _ := spec.ParseServerLine(w.Line)
			kinds[l.Kind] = true
		}
	}
	switch {
	case len(kinds) == 1 && kinds[spec.Joined]:
		return "JOIN-4"
	case len(kinds) == 1 && (kinds[spec.Room] || kinds[spec.Message]):
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
		case strings.HasPrefix(l.Text, "Welcome") && cmd == spec.Login:
			return "ACCT-2"
		case strings.HasPrefix(l.Text, "Welcome"):
			return "USER-1"
		case strings.HasPrefix(l.Text, "Enabled "):
			return "CAPS-2"
		case strings.HasPrefix(l.Text, "Registered "):
			return "ACCT-1"
		case l.Text == spec.OKPasswordChanged:
			return "ACCT-4"
		case strings.HasPrefix(l.Text, "History "):
			return "HIST-3"
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
			if r, ok := extUsageRules[l.Text]; ok {
				return r
			}
			return "GRAM-2"
		}
		if r, ok := extErrorRules[cmd][l.Text]; ok {
			return r
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
	case spec.Message:
		return "HIST-2"
	case spec.Stored:
		return "HIST-3"
	case spec.CapsList:
		return "CAPS-1"
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
	spec.ErrTooManyRooms:     "MULTI-2",
	spec.ErrRoomRequired:     "MULTI-5",
}

// extUsageRules are the rules of the usage errors of section 13.
var extUsageRules = map[string]string{
	spec.Usage(spec.Caps):     "CAPS-2",
	spec.Usage(spec.Register): "ACCT-1",
	spec.Usage(spec.Login):    "ACCT-2",
	spec.Usage(spec.Password): "ACCT-4",
	spec.Usage(spec.History):  "HIST-3",
	// 13.4: on a connection that enabled rooms.
	spec.UsageWith(spec.Leave, spec.ExtRooms): "MULTI-3",
	spec.UsageWith(spec.Msg, spec.ExtRooms):   "MULTI-4",
	spec.UsageWith(spec.Users, spec.ExtRooms): "MULTI-6",
}

// extErrorRules are the rules of ERROR texts that answer a command of
// section 13, by command.
var extErrorRules = map[spec.Kind]map[string]string{
	spec.Caps:     {spec.ErrUnknownExt: "CAPS-2"},
	spec.Register: {spec.ErrInvalidPassword: "ACCT-1", spec.ErrAlreadyRegistered: "ACCT-1"},
	spec.Login:    {spec.ErrLoginFailed: "ACCT-2", spec.ErrUsernameTaken: "ACCT-2", spec.ErrUsernameSet: "ACCT-2"},
	spec.Password: {spec.ErrNotRegistered: "ACCT-4", spec.ErrInvalidPassword: "ACCT-4", spec.ErrWrongPassword: "ACCT-4"},
	spec.History:  {spec.ErrInvalidRoom: "HIST-3"},
	spec.Msg:      {spec.ErrStorageFailed: "HIST-5", spec.ErrNotInThatRoom: "MULTI-4"},
	spec.Text:     {spec.ErrStorageFailed: "HIST-5"},
	spec.Leave:    {spec.ErrNotInThatRoom: "MULTI-3"},
	spec.Users:    {spec.ErrNotInThatRoom: "MULTI-6"},
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
		case spec.Message:
			return "HIST-2"
		case spec.Stored:
			return "HIST-3"
		case spec.CapsList:
			return "CAPS-1"
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
	if _, err := spec.ParseCommandWith(a.Event.Line, wordsOf(a.Before, a.From)); err != nil {
		if r, ok := extUsageRules[spec.Usage(usageKind(a.Event.Line))]; ok {
			return r
		}
		return "GRAM-2"
	}
	return commandRules[commandOf(a)]
}

// usageKind returns the kind of command a line that does not match its
// rule begins with.
func usageKind(line string) spec.Kind {
	first, _, _ := strings.Cut(line, " ")
	for _, k := range []spec.Kind{spec.Caps, spec.Register, spec.Login, spec.Password, spec.History} {
		if k.String() == first {
			return k
		}
	}
	return spec.Empty
}

// commandRules are the rules of each kind of client line.
var commandRules = map[spec.Kind]string{
	spec.Empty: "FRAME-6", spec.Text: "MSG-4", spec.Username: "USER-1", spec.Join: "JOIN-4",
	spec.Leave: "LEAVE-2", spec.Msg: "MSG-2", spec.Privmsg: "PRIV-3", spec.Rooms: "ROOMS-1",
	spec.Users: "USERS-1", spec.Quit: "QUIT-1", spec.Ping: "PING-1",
	spec.Caps: "CAPS-2", spec.Register: "ACCT-1", spec.Login: "ACCT-2", spec.Password: "ACCT-4",
	spec.History: "HIST-3",
}

// commandOf returns the kind of a line event's command; spec.Empty for
// any other event or a line that is not a command.
func commandOf(a driver.Applied) spec.Kind {
	if a.Event.Kind != model.Line || spec.CheckLine([]byte(a.Event.Line)) != "" {
		return spec.Empty
	}
	cmd, err := spec.ParseCommandWith(a.Event.Line, wordsOf(a.Before, a.From))
	if err != nil {
		return spec.Empty
	}
	return cmd.Kind
}
