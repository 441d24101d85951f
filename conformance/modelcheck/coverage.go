package modelcheck

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// A situation is what a rule of PROTOCOL.md is about, beyond its plain
// case: the state of affairs in which a server that got the rule wrong
// would show it. A random sequence reaches some only by luck, so the
// checker counts how often its steps reach each, and its generator is
// weighted, and has targeted steps, to reach them all.
type situation int

// The situations, in the order of PROTOCOL.md.
const (
	sitLF          situation = iota // FRAME-2
	sitSplit                        // FRAME-3
	sitExactLimit                   // FRAME-4
	sitOverlong                     // FRAME-5
	sitEmpty                        // FRAME-6
	sitBadUTF8                      // FRAME-7
	sitForbidden                    // FRAME-8
	sitMidLine                      // FRAME-10
	sitUsage                        // GRAM-2
	sitArgSpaces                    // GRAM-3
	sitPrivSpaces                   // GRAM-4
	sitTextLine                     // GRAM-5
	sitBadName                      // NAME-1
	sitBadRoom                      // NAME-2
	sitCaseVariant                  // NAME-3
	sitLookalike                    // NAME-3
	sitNameReused                   // NAME-4
	sitNameSet                      // NAME-5
	sitNoName                       // STATE-2
	sitWelcome                      // USER-1
	sitTaken                        // USER-2
	sitAlreadyIn                    // JOIN-1
	sitCreate                       // JOIN-2
	sitSwitch                       // JOIN-3
	sitRoster                       // JOIN-4
	sitJoinOthers                   // JOIN-5
	sitOverflow                     // JOIN-6
	sitLeaveLobby                   // LEAVE-1
	sitLeaveOthers                  // LEAVE-2
	sitRecreate                     // LEAVE-3
	sitMsgLobby                     // MSG-1
	sitMsgOthers                    // MSG-2
	sitHistory                      // MSG-3
	sitPrivLobby                    // PRIV-1
	sitPrivNobody                   // PRIV-2
	sitPrivOther                    // PRIV-3
	sitPrivSelf                     // PRIV-4
	sitRoomsMany                    // ROOMS-1
	sitRoomsFold                    // ROOMS-1
	sitUsers3                       // USERS-1
	sitQuit                         // QUIT-1
	sitQuitOthers                   // QUIT-2
	sitPingToken                    // PING-1
	sitDropOthers                   // DISC-1
	sitHalfClose                    // DISC-2
	numSituations
)

// situations says, for each situation, the rule it is about and what it is.
var situations = [numSituations]struct{ rule, what string }{
	sitLF:          {"FRAME-2", "a line ended by a bare LF"},
	sitSplit:       {"FRAME-3", "lines split over writes, or several in one write"},
	sitExactLimit:  {"FRAME-4", "a line of exactly 512 bytes, CRLF included"},
	sitOverlong:    {"FRAME-5", "a line over 512 bytes"},
	sitEmpty:       {"FRAME-6", "an empty line"},
	sitBadUTF8:     {"FRAME-7", "a line that is not UTF-8"},
	sitForbidden:   {"FRAME-8", "a line with a forbidden character"},
	sitMidLine:     {"FRAME-10", "a connection closed in the middle of a line"},
	sitUsage:       {"GRAM-2", "a command that does not match its rule"},
	sitArgSpaces:   {"GRAM-3", "USERNAME or JOIN with spaces in or around the argument"},
	sitPrivSpaces:  {"GRAM-4", "PRIVMSG with more than one space between or in its arguments"},
	sitTextLine:    {"GRAM-5", "a text line (no command word) in a room"},
	sitBadName:     {"NAME-1", "an invalid username"},
	sitBadRoom:     {"NAME-2", "an invalid room name"},
	sitCaseVariant: {"NAME-3", "a user's or room's name in other case"},
	sitLookalike:   {"NAME-3", "a look-alike name that Unicode folds to a user's (K, ſ)"},
	sitNameReused:  {"NAME-4", "a name taken again after its owner left"},
	sitNameSet:     {"NAME-5", "USERNAME once named"},
	sitNoName:      {"STATE-2", "a command that needs a name, before USERNAME"},
	sitWelcome:     {"USER-1", "a name taken"},
	sitTaken:       {"USER-2", "a name in use asked for"},
	sitAlreadyIn:   {"JOIN-1", "JOIN of one's own room"},
	sitCreate:      {"JOIN-2", "JOIN that creates a room"},
	sitSwitch:      {"JOIN-3", "JOIN elsewhere, leaving others behind"},
	sitRoster:      {"JOIN-4", "JOIN into a room of 2 or more (roster order)"},
	sitJoinOthers:  {"JOIN-5", "JOIN into a room with members"},
	sitOverflow:    {"JOIN-6", "JOIN into a room that had over 10 messages"},
	sitLeaveLobby:  {"LEAVE-1", "LEAVE in no room"},
	sitLeaveOthers: {"LEAVE-2", "LEAVE with others remaining"},
	sitRecreate:    {"LEAVE-3", "JOIN of a room that emptied and was destroyed"},
	sitMsgLobby:    {"MSG-1", "MSG in no room"},
	sitMsgOthers:   {"MSG-2", "a message to a room of 2 or more"},
	sitHistory:     {"MSG-3", "JOIN into a room with history"},
	sitPrivLobby:   {"PRIV-1", "PRIVMSG from a user in no room"},
	sitPrivNobody:  {"PRIV-2", "PRIVMSG to no one"},
	sitPrivOther:   {"PRIV-3", "PRIVMSG to another user"},
	sitPrivSelf:    {"PRIV-4", "PRIVMSG to oneself"},
	sitRoomsMany:   {"ROOMS-1", "ROOMS listing 2 rooms or more"},
	sitRoomsFold:   {"ROOMS-1", "ROOMS listing rooms that sort otherwise folded to upper case (_)"},
	sitUsers3:      {"USERS-1", "USERS in a room of 3 or more"},
	sitQuit:        {"QUIT-1", "QUIT"},
	sitQuitOthers:  {"QUIT-2", "QUIT leaving others in a room"},
	sitPingToken:   {"PING-1", "PING with a token"},
	sitDropOthers:  {"DISC-1", "a drop leaving others in a room"},
	sitHalfClose:   {"DISC-2", "a half-close"},
}

// Coverage counts, for each situation a rule of PROTOCOL.md is about, the
// steps of the checked sequences that reached it. Sequences that failed
// are not counted.
type Coverage struct {
	mu        sync.Mutex
	counts    [numSituations]int
	sequences int
	steps     int
}

// CoverageRow is one situation and how many steps reached it.
type CoverageRow struct {
	Rule      string // the rule's ID in PROTOCOL.md
	Situation string
	Steps     int
}

// add adds the counts of one sequence of steps.
func (c *Coverage) add(counts *[numSituations]int, steps int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range counts {
		c.counts[i] += n
	}
	c.sequences++
	c.steps += steps
}

// Sequences returns how many sequences were counted.
func (c *Coverage) Sequences() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sequences
}

// Steps returns how many steps the counted sequences had.
func (c *Coverage) Steps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.steps
}

// Rows returns every situation with its count, in the order of PROTOCOL.md.
func (c *Coverage) Rows() []CoverageRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	rows := make([]CoverageRow, numSituations)
	for i, s := range situations {
		rows[i] = CoverageRow{Rule: s.rule, Situation: s.what, Steps: c.counts[i]}
	}
	return rows
}

// Rule returns how many steps reached the situations of rule.
func (c *Coverage) Rule(rule string) int {
	n := 0
	for _, r := range c.Rows() {
		if r.Rule == rule {
			n += r.Steps
		}
	}
	return n
}

// Rules returns the rules that have situations, in the order of
// PROTOCOL.md, each once.
func (c *Coverage) Rules() []string {
	var rules []string
	for _, s := range situations {
		if !slices.Contains(rules, s.rule) {
			rules = append(rules, s.rule)
		}
	}
	return rules
}

// Missed returns the situations no step reached.
func (c *Coverage) Missed() []CoverageRow {
	return slices.DeleteFunc(c.Rows(), func(r CoverageRow) bool { return r.Steps > 0 })
}

// Summary says in one line how many situations were reached, and which
// were not.
func (c *Coverage) Summary() string {
	missed := c.Missed()
	s := fmt.Sprintf("%d of %d rule situations reached", int(numSituations)-len(missed), numSituations)
	if len(missed) > 0 {
		var ids []string
		for _, r := range missed {
			ids = append(ids, r.Rule+" ("+r.Situation+")")
		}
		s += "; never " + strings.Join(ids, ", ")
	}
	return s
}

// String is the table of every situation: its rule, how many steps
// reached it, and what it is.
func (c *Coverage) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rule coverage of %d sequences, %d steps (steps that reached each situation):\n", c.Sequences(), c.Steps())
	for _, r := range c.Rows() {
		mark := ""
		if r.Steps == 0 {
			mark = "   NEVER"
		}
		fmt.Fprintf(&b, "  %-8s %6d  %s%s\n", r.Rule, r.Steps, r.Situation, mark)
	}
	return b.String()
}

// tracker follows one sequence: it counts the situations its steps reach,
// and keeps what the model's state alone does not say (names and rooms
// that are gone, how many messages a room has had). It also keeps the
// situations of the step in progress, which tell blame which rule a
// difference belongs to.
type tracker struct {
	counts [numSituations]int
	freed  map[string]bool // folded names once held by a client now gone
	gone   map[string]bool // folded names of rooms destroyed
	posted map[string]int  // room messages each existing room has had, by folded name
	step   [][]situation   // the situations of each event of the step in progress
}

func newTracker() *tracker {
	return &tracker{freed: map[string]bool{}, gone: map[string]bool{}, posted: map[string]int{}}
}

// begin starts a step.
func (k *tracker) begin() { k.step = k.step[:0] }

// saw counts a situation of the transport, which the model does not see.
func (k *tracker) saw(s situation) { k.counts[s]++ }

// observe counts the situations of an event applied to the model, then
// updates what the tracker keeps.
func (k *tracker) observe(a driver.Applied) {
	sits := k.situations(a)
	for _, s := range sits {
		k.counts[s]++
	}
	k.step = append(k.step, sits)

	b := a.Before
	if name := b.Name(a.From); name != "" && !a.After.Connected(a.From) {
		k.freed[spec.Fold(name)] = true
	}
	if room := b.RoomOf(a.From); room != "" && slices.ContainsFunc(a.Outs, func(o model.Output) bool {
		return o.To == a.From && strings.HasPrefix(o.Line, "ROOM ")
	}) {
		k.posted[spec.Fold(room)]++
	}
	for _, r := range b.Rooms() {
		if a.After.Members(r) == nil {
			k.gone[spec.Fold(r)] = true
			delete(k.posted, spec.Fold(r))
		}
	}
}

// situations returns the situations an event reaches.
func (k *tracker) situations(a driver.Applied) []situation {
	b := a.Before
	switch a.Event.Kind {
	case model.LineTooLong:
		return []situation{sitOverlong}
	case model.Disconnect:
		if r := b.RoomOf(a.From); r != "" && len(b.Members(r)) > 1 {
			return []situation{sitDropOthers}
		}
	case model.Line:
		return k.lineSituations(a)
	}
	return nil
}

func (k *tracker) lineSituations(a driver.Applied) []situation {
	var out []situation
	add := func(s ...situation) { out = append(out, s...) }
	b, line := a.Before, a.Event.Line
	switch spec.CheckLine([]byte(line)) {
	case spec.ErrInvalidUTF8:
		return []situation{sitBadUTF8}
	case spec.ErrInvalidCharacter:
		return []situation{sitForbidden}
	}
	if line == "" {
		return []situation{sitEmpty}
	}
	if strings.HasPrefix(line, "PRIVMSG ") && strings.Contains(line, "  ") {
		add(sitPrivSpaces)
	}
	cmd, err := spec.ParseCommand(line)
	if err != nil {
		return append(out, sitUsage)
	}
	me, room := b.Name(a.From), b.RoomOf(a.From)
	members := len(b.Members(room))
	if me == "" && cmd.Kind != spec.Username && cmd.Kind != spec.Quit && cmd.Kind != spec.Ping {
		return append(out, sitNoName)
	}
	switch cmd.Kind {
	case spec.Username:
		if strings.Contains(cmd.Arg, " ") {
			add(sitArgSpaces)
		}
		switch holder := userNamed(b, cmd.Arg); {
		case me != "":
			add(sitNameSet)
		case !spec.ValidUsername(cmd.Arg):
			add(sitBadName)
			if lookalike(cmd.Arg, b.Users()) {
				add(sitLookalike)
			}
		case holder != "":
			add(sitTaken)
			if holder != cmd.Arg {
				add(sitCaseVariant)
			}
		default:
			add(sitWelcome)
			if k.freed[spec.Fold(cmd.Arg)] {
				add(sitNameReused)
			}
		}
	case spec.Join:
		if strings.Contains(cmd.Arg, " ") {
			add(sitArgSpaces)
		}
		others := b.Members(cmd.Arg)
		switch {
		case !spec.ValidRoom(cmd.Arg):
			add(sitBadRoom)
			if lookalike(cmd.Arg, b.Rooms()) {
				add(sitLookalike)
			}
		case room != "" && spec.Fold(room) == spec.Fold(cmd.Arg):
			add(sitAlreadyIn)
		case others == nil:
			add(sitCreate)
			if k.gone[spec.Fold(cmd.Arg)] {
				add(sitRecreate)
			}
		default:
			add(sitJoinOthers)
			if len(others) >= 2 {
				add(sitRoster)
			}
			if !slices.Contains(b.Rooms(), cmd.Arg) {
				add(sitCaseVariant)
			}
			if len(b.History(cmd.Arg)) > 0 {
				add(sitHistory)
			}
			if k.posted[spec.Fold(cmd.Arg)] > spec.HistoryLen {
				add(sitOverflow)
			}
		}
		if room != "" && spec.Fold(room) != spec.Fold(cmd.Arg) && spec.ValidRoom(cmd.Arg) && members > 1 {
			add(sitSwitch)
		}
	case spec.Leave:
		switch {
		case room == "":
			add(sitLeaveLobby)
		case members > 1:
			add(sitLeaveOthers)
		}
	case spec.Msg, spec.Text:
		switch {
		case room == "":
			add(sitMsgLobby)
		case members > 1:
			add(sitMsgOthers)
		}
		if cmd.Kind == spec.Text && room != "" {
			add(sitTextLine)
		}
	case spec.Privmsg:
		if room == "" {
			add(sitPrivLobby)
		}
		switch holder := userNamed(b, cmd.Arg); {
		case holder == "":
			add(sitPrivNobody)
			if lookalike(cmd.Arg, b.Users()) {
				add(sitLookalike)
			}
		case spec.Fold(holder) == spec.Fold(me):
			add(sitPrivSelf)
		default:
			add(sitPrivOther)
		}
		if holder := userNamed(b, cmd.Arg); holder != "" && holder != cmd.Arg {
			add(sitCaseVariant)
		}
	case spec.Rooms:
		rooms := b.Rooms()
		if len(rooms) >= 2 {
			add(sitRoomsMany)
		}
		if foldSensitive(rooms) {
			add(sitRoomsFold)
		}
	case spec.Users:
		if members >= 3 {
			add(sitUsers3)
		}
	case spec.Quit:
		add(sitQuit)
		if members > 1 {
			add(sitQuitOthers)
		}
	case spec.Ping:
		if cmd.Text != "" {
			add(sitPingToken)
		}
	}
	return out
}

// userNamed returns the name, as its user spelled it, of the user whose
// name folds to that of name (NAME-3), or "".
func userNamed(s model.State, name string) string {
	for _, u := range s.Users() {
		if spec.Fold(u) == spec.Fold(name) {
			return u
		}
	}
	return ""
}

// lookalike reports whether Unicode case folding, but not the protocol's
// ASCII folding, makes name one of names.
func lookalike(name string, names []string) bool {
	return slices.ContainsFunc(names, func(n string) bool {
		return strings.EqualFold(n, name) && spec.Fold(n) != spec.Fold(name)
	})
}

// foldSensitive reports whether rooms, sorted as ROOMS-1 says (folded to
// lower case), would sort otherwise folded to upper case.
func foldSensitive(rooms []string) bool {
	upper := slices.Clone(rooms)
	slices.SortStableFunc(upper, func(a, b string) int { return strings.Compare(strings.ToUpper(a), strings.ToUpper(b)) })
	return !slices.Equal(upper, rooms)
}
