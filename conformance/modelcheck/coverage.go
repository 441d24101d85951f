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
	// Section 13, with a server that implements its extensions.
	sitCapsList      // CAPS-1
	sitCapsText      // CAPS-1
	sitCapsEnable    // CAPS-2
	sitCapsUnknown   // CAPS-2
	sitCapsMixed     // CAPS-3
	sitExtWordCore   // CAPS-3
	sitRegister      // ACCT-1
	sitRegisterBad   // ACCT-1
	sitLogin         // ACCT-2
	sitLoginFail     // ACCT-2
	sitLoginNobody   // ACCT-2
	sitLoginTaken    // ACCT-2
	sitAccountTaken  // ACCT-3
	sitPassword      // ACCT-4
	sitPasswordWrong // ACCT-4
	sitIDAgain       // HIST-1
	sitReplay        // HIST-2
	sitHistory13     // HIST-3
	sitHistoryBefore // HIST-3
	sitHistoryBad    // HIST-3
	sitStoredGone    // HIST-4
	sitStoredMore    // HIST-4
	sitKept          // HIST-5
	sitMultiCore     // MULTI-1
	sitMultiJoin     // MULTI-2
	sitMultiTooMany  // MULTI-2
	sitMultiLeave    // MULTI-3
	sitMultiNotIn    // MULTI-3
	sitMultiMsg      // MULTI-4
	sitMultiText     // MULTI-5
	sitMultiUsers    // MULTI-6
	sitMultiEnd      // MULTI-7
	numSituations
)

// needs says what a situation needs of the server under test beyond the
// core: an extension offered, or restarts.
type needs uint8

const (
	core         needs = 0         // nothing: a core server reaches it
	needCaps     needs = 1 << iota // any extension of section 13
	needAccounts                   // accounts
	needHistory                    // history
	needRestart                    // durable, and a way to restart it
	needRooms                      // rooms
)

// scopeOf says which situations a run can reach, for a server that offers
// ext and, if restarts, is restarted.
func scopeOf(ext spec.Ext, restarts bool) needs {
	var n needs
	if ext != 0 {
		n |= needCaps
	}
	if ext.Has(spec.ExtAccounts) {
		n |= needAccounts
	}
	if ext.Has(spec.ExtHistory) {
		n |= needHistory
	}
	if ext.Has(spec.ExtRooms) {
		n |= needRooms
	}
	if ext != 0 && restarts {
		n |= needRestart
	}
	return n
}

// situations says, for each situation, the rule it is about, what it is,
// and what it needs of the server (none: a core server reaches it).
var situations = [numSituations]struct {
	rule, what string
	needs      needs
}{
	sitLF:          {"FRAME-2", "a line ended by a bare LF", core},
	sitSplit:       {"FRAME-3", "lines split over writes, or several in one write", core},
	sitExactLimit:  {"FRAME-4", "a line of exactly 512 bytes, CRLF included", core},
	sitOverlong:    {"FRAME-5", "a line over 512 bytes", core},
	sitEmpty:       {"FRAME-6", "an empty line", core},
	sitBadUTF8:     {"FRAME-7", "a line that is not UTF-8", core},
	sitForbidden:   {"FRAME-8", "a line with a forbidden character", core},
	sitMidLine:     {"FRAME-10", "a connection closed in the middle of a line", core},
	sitUsage:       {"GRAM-2", "a command that does not match its rule", core},
	sitArgSpaces:   {"GRAM-3", "USERNAME or JOIN with spaces in or around the argument", core},
	sitPrivSpaces:  {"GRAM-4", "PRIVMSG with more than one space between or in its arguments", core},
	sitTextLine:    {"GRAM-5", "a text line (no command word) in a room", core},
	sitBadName:     {"NAME-1", "an invalid username", core},
	sitBadRoom:     {"NAME-2", "an invalid room name", core},
	sitCaseVariant: {"NAME-3", "a user's or room's name in other case", core},
	sitLookalike:   {"NAME-3", "a look-alike name that Unicode folds to a user's (K, ſ)", core},
	sitNameReused:  {"NAME-4", "a name taken again after its owner left", core},
	sitNameSet:     {"NAME-5", "USERNAME once named", core},
	sitNoName:      {"STATE-2", "a command that needs a name, before USERNAME", core},
	sitWelcome:     {"USER-1", "a name taken", core},
	sitTaken:       {"USER-2", "a name in use asked for", core},
	sitAlreadyIn:   {"JOIN-1", "JOIN of one's own room", core},
	sitCreate:      {"JOIN-2", "JOIN that creates a room", core},
	sitSwitch:      {"JOIN-3", "JOIN elsewhere, leaving others behind", core},
	sitRoster:      {"JOIN-4", "JOIN into a room of 2 or more (roster order)", core},
	sitJoinOthers:  {"JOIN-5", "JOIN into a room with members", core},
	sitOverflow:    {"JOIN-6", "JOIN into a room that had over 10 messages", core},
	sitLeaveLobby:  {"LEAVE-1", "LEAVE in no room", core},
	sitLeaveOthers: {"LEAVE-2", "LEAVE with others remaining", core},
	sitRecreate:    {"LEAVE-3", "JOIN of a room that emptied and was destroyed", core},
	sitMsgLobby:    {"MSG-1", "MSG in no room", core},
	sitMsgOthers:   {"MSG-2", "a message to a room of 2 or more", core},
	sitHistory:     {"MSG-3", "JOIN into a room with history", core},
	sitPrivLobby:   {"PRIV-1", "PRIVMSG from a user in no room", core},
	sitPrivNobody:  {"PRIV-2", "PRIVMSG to no one", core},
	sitPrivOther:   {"PRIV-3", "PRIVMSG to another user", core},
	sitPrivSelf:    {"PRIV-4", "PRIVMSG to oneself", core},
	sitRoomsMany:   {"ROOMS-1", "ROOMS listing 2 rooms or more", core},
	sitRoomsFold:   {"ROOMS-1", "ROOMS listing rooms that sort otherwise folded to upper case (_)", core},
	sitUsers3:      {"USERS-1", "USERS in a room of 3 or more", core},
	sitQuit:        {"QUIT-1", "QUIT", core},
	sitQuitOthers:  {"QUIT-2", "QUIT leaving others in a room", core},
	sitPingToken:   {"PING-1", "PING with a token", core},
	sitDropOthers:  {"DISC-1", "a drop leaving others in a room", core},
	sitHalfClose:   {"DISC-2", "a half-close", core},

	sitCapsList:      {"CAPS-1", "CAPS alone, in NEW", needCaps},
	sitCapsText:      {"CAPS-1", "a line beginning with CAPS, once named (a text line)", needCaps},
	sitCapsEnable:    {"CAPS-2", "CAPS naming offered extensions", needCaps},
	sitCapsUnknown:   {"CAPS-2", "CAPS naming an unknown extension, or with an empty name", needCaps},
	sitCapsMixed:     {"CAPS-3", "a room message to members of which some enabled history and some did not", needHistory},
	sitExtWordCore:   {"CAPS-3", "a line beginning with an extension's command word on a connection that did not enable it", needCaps},
	sitRegister:      {"ACCT-1", "REGISTER of a name", needAccounts},
	sitRegisterBad:   {"ACCT-1", "REGISTER with a password of the wrong length, or of a name registered already", needAccounts},
	sitLogin:         {"ACCT-2", "LOGIN with the right password", needAccounts},
	sitLoginFail:     {"ACCT-2", "LOGIN with a wrong password", needAccounts},
	sitLoginNobody:   {"ACCT-2", "LOGIN with a name that is no account's", needAccounts},
	sitLoginTaken:    {"ACCT-2", "LOGIN to an account whose name a connected user has, or in other case", needAccounts},
	sitAccountTaken:  {"ACCT-3", "USERNAME with the name of an account no one connected has", needAccounts},
	sitPassword:      {"ACCT-4", "PASSWORD that changes the password", needAccounts},
	sitPasswordWrong: {"ACCT-4", "PASSWORD with a wrong old password, or not registered", needAccounts},
	sitIDAgain:       {"HIST-1", "a message shown again with its ID (to a second client, or by HISTORY)", needHistory},
	sitReplay:        {"HIST-2", "JOIN of a client that enabled history into a room with history (the replay as MESSAGE lines)", needHistory},
	sitHistory13:     {"HIST-3", "HISTORY that returns messages", needHistory},
	sitHistoryBefore: {"HIST-3", "HISTORY before the ID of a message", needHistory},
	sitHistoryBad:    {"HIST-3", "HISTORY with an invalid room, before or limit", needHistory},
	sitStoredGone:    {"HIST-4", "HISTORY of a room that no longer exists", needHistory},
	sitStoredMore:    {"HIST-4", "HISTORY of a room with more stored messages than its replay holds", needHistory},
	sitKept:          {"HIST-5", "after a restart, LOGIN to an account or HISTORY of messages from before it", needRestart},
	sitMultiCore:     {"MULTI-1", "a room message to a core member from a room of which a member is in several rooms", needRooms},
	sitMultiJoin:     {"MULTI-2", "JOIN of a further room, staying in the others", needRooms},
	sitMultiTooMany:  {"MULTI-2", "JOIN beyond MaxRoomsPerUser rooms", needRooms},
	sitMultiLeave:    {"MULTI-3", "LEAVE of one of several rooms", needRooms},
	sitMultiNotIn:    {"MULTI-3", "LEAVE, MSG or USERS naming a room the user is not in", needRooms},
	sitMultiMsg:      {"MULTI-4", "MSG to one of several rooms, with others in it", needRooms},
	sitMultiText:     {"MULTI-5", "a text line from a user in several rooms", needRooms},
	sitMultiUsers:    {"MULTI-6", "USERS of one of several rooms", needRooms},
	sitMultiEnd:      {"MULTI-7", "the end of a connection in several rooms, with others in them", needRooms},
}

// Coverage counts, for each situation a rule of PROTOCOL.md is about, the
// steps of the checked sequences that reached it. Sequences that failed
// are not counted.
type Coverage struct {
	mu         sync.Mutex
	counts     [numSituations]int
	sequences  int
	steps      int
	loginFails int   // failed logins made (ACCT-5)
	scope      needs // what the server under test implements: which situations count
}

// CoverageRow is one situation and how many steps reached it.
type CoverageRow struct {
	Rule      string // the rule's ID in PROTOCOL.md
	Situation string
	Steps     int
}

// add adds the counts of one sequence of steps, which made loginFails
// failed logins.
func (c *Coverage) add(counts *[numSituations]int, steps, loginFails int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range counts {
		c.counts[i] += n
	}
	c.sequences++
	c.steps += steps
	c.loginFails += loginFails
}

// inScope reports whether the server under test can reach situation i.
func (c *Coverage) inScope(i int) bool { return situations[i].needs&^c.scope == 0 }

// LoginFails returns how many failed logins the counted sequences made
// (ACCT-5 slows each).
func (c *Coverage) LoginFails() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loginFails
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

// Rows returns every situation the server under test can reach, with its
// count, in the order of PROTOCOL.md: those of the extensions of section
// 13 only if it implements them (Options.Ext), and those of restarts only
// if the checker can restart it (Options.Durable, Target.Restart).
func (c *Coverage) Rows() []CoverageRow {
	c.mu.Lock()
	defer c.mu.Unlock()
	var rows []CoverageRow
	for i, s := range situations {
		if c.inScope(i) {
			rows = append(rows, CoverageRow{Rule: s.rule, Situation: s.what, Steps: c.counts[i]})
		}
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
// PROTOCOL.md, each once: every rule the checker can reach, whatever the
// server under test implements.
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
	missed, all := c.Missed(), len(c.Rows())
	s := fmt.Sprintf("%d of %d rule situations reached", all-len(missed), all)
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
	if c.scope&needAccounts != 0 {
		fmt.Fprintf(&b, "  (%d failed logins, each of which the server slows: ACCT-5)\n", c.LoginFails())
	}
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
	// Section 13.
	shown        map[uint64]bool // the model IDs of messages some client was shown with their ID
	keptID       uint64          // the last message ID before the last restart; 0 if none
	keptAccounts map[string]bool // folded names of the accounts before the last restart
}

func newTracker() *tracker {
	return &tracker{freed: map[string]bool{}, gone: map[string]bool{}, posted: map[string]int{},
		shown: map[uint64]bool{}, keptAccounts: map[string]bool{}}
}

// begin starts a step.
func (k *tracker) begin() { k.step = k.step[:0] }

// saw counts a situation of the transport, which the model does not see.
func (k *tracker) saw(s situation) { k.counts[s]++ }

// observe counts the situations of an event applied to the model, then
// updates what the tracker keeps.
func (k *tracker) observe(a driver.Applied) {
	sits := k.situations(a)
	if k.showsAgain(a.Outs) {
		sits = append(sits, sitIDAgain)
	}
	for _, s := range sits {
		k.counts[s]++
	}
	k.step = append(k.step, sits)

	b := a.Before
	if a.Event.Kind == model.Restart {
		// Rooms and names are gone; what HIST-5 keeps is what a later step
		// may find.
		k.keptID = b.LastID()
		for _, acct := range b.Accounts() {
			k.keptAccounts[spec.Fold(acct)] = true
		}
		clear(k.posted)
		return
	}
	if name := b.Name(a.From); name != "" && !a.After.Connected(a.From) {
		k.freed[spec.Fold(name)] = true
	}
	if room := postedTo(a); room != "" {
		k.posted[spec.Fold(room)]++
	}
	for _, r := range b.Rooms() {
		if a.After.Members(r) == nil {
			k.gone[spec.Fold(r)] = true
			delete(k.posted, spec.Fold(r))
		}
	}
}

// postedTo returns the room a room message of the event went to, or ""
// if it is no room message: the room of the sender's echo (MSG-2), which
// on a connection that enabled rooms need not be its first (13.4).
func postedTo(a driver.Applied) string {
	if a.Event.Kind != model.Line {
		return ""
	}
	cmd, err := spec.ParseCommandWith(a.Event.Line, wordsOf(a.Before, a.From))
	if err != nil || cmd.Kind != spec.Msg && cmd.Kind != spec.Text {
		return ""
	}
	for _, o := range a.Outs {
		if l, err := spec.ParseServerLine(o.Line); o.To == a.From && err == nil && (l.Kind == spec.Room || l.Kind == spec.Message) {
			return l.Room
		}
	}
	return ""
}

// showsAgain reports whether outs show a message with its ID that a client
// was shown before (or that two of them show), and records those they show.
func (k *tracker) showsAgain(outs []model.Output) bool {
	again := false
	for _, o := range outs {
		if !strings.HasPrefix(o.Line, "MESSAGE ") && !strings.HasPrefix(o.Line, "HISTORY ") {
			continue
		}
		if l, err := spec.ParseServerLine(o.Line); err == nil {
			again = again || k.shown[l.ID]
			k.shown[l.ID] = true
		}
	}
	return again
}

// situations returns the situations an event reaches.
func (k *tracker) situations(a driver.Applied) []situation {
	b := a.Before
	switch a.Event.Kind {
	case model.LineTooLong:
		return []situation{sitOverlong}
	case model.Disconnect:
		var sits []situation
		if r := b.RoomOf(a.From); r != "" && len(b.Members(r)) > 1 {
			sits = append(sits, sitDropOthers)
		}
		if endsShared(b, a.From) {
			sits = append(sits, sitMultiEnd)
		}
		return sits
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
	me, room := b.Name(a.From), b.RoomOf(a.From)
	words := wordsOf(b, a.From)
	cmd, err := spec.ParseCommandWith(line, words)
	if err != nil {
		out = append(out, sitUsage)
		switch first, _, _ := strings.Cut(line, " "); first {
		case "CAPS":
			out = append(out, sitCapsUnknown)
		case "HISTORY":
			out = append(out, sitHistoryBad)
		}
		return out
	}
	members := len(b.Members(room))
	if me == "" && !beforeName[cmd.Kind] {
		return append(out, sitNoName)
	}
	if b.Enabled(a.From).Has(spec.ExtRooms) && multiKinds[cmd.Kind] {
		return append(out, multiSituations(b, a.From, cmd)...)
	}
	if (cmd.Kind == spec.Msg || cmd.Kind == spec.Text) && room != "" && coreBesideMulti(b, room) {
		add(sitMultiCore)
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
		case b.IsAccount(cmd.Arg):
			add(sitAccountTaken)
			if k.keptAccounts[spec.Fold(cmd.Arg)] {
				add(sitKept)
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
				if b.Enabled(a.From).Has(spec.ExtHistory) {
					add(sitReplay)
				}
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
		if room != "" && mixedRoom(b, room) {
			add(sitCapsMixed)
		}
		if cmd.Kind == spec.Text {
			switch first, _, _ := strings.Cut(line, " "); {
			case first == "CAPS" && me != "":
				add(sitCapsText)
			case first == "LOGIN" || first == "REGISTER" || first == "PASSWORD" || first == "HISTORY":
				add(sitExtWordCore)
			}
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
	default:
		return append(out, k.extSituations(b, a.From, cmd)...)
	}
	return out
}

// multiKinds are the commands whose meaning 13.4 changes on a connection
// that enabled rooms.
var multiKinds = map[spec.Kind]bool{spec.Join: true, spec.Leave: true, spec.Msg: true, spec.Text: true, spec.Users: true, spec.Quit: true}

// multiSituations returns the situations of a command of multiKinds from
// id, which enabled rooms, in state b (13.4).
func multiSituations(b model.State, id model.ClientID, cmd spec.Command) []situation {
	rooms := b.RoomsOf(id)
	mine := slices.ContainsFunc(rooms, func(r string) bool { return spec.Fold(r) == spec.Fold(cmd.Arg) })
	var sits []situation
	switch cmd.Kind {
	case spec.Join:
		switch {
		case !spec.ValidRoom(cmd.Arg):
			sits = append(sits, sitBadRoom)
		case mine:
			sits = append(sits, sitAlreadyIn)
		case len(rooms) >= b.MaxRooms():
			sits = append(sits, sitMultiTooMany)
		case len(rooms) > 0:
			sits = append(sits, sitMultiJoin)
		}
	case spec.Leave, spec.Msg, spec.Users:
		switch {
		case !spec.ValidRoom(cmd.Arg):
			sits = append(sits, sitBadRoom)
		case !mine:
			sits = append(sits, sitMultiNotIn)
		case len(rooms) < 2:
		case cmd.Kind == spec.Leave:
			sits = append(sits, sitMultiLeave)
		case cmd.Kind == spec.Users:
			sits = append(sits, sitMultiUsers)
		case len(b.Members(cmd.Arg)) > 1:
			sits = append(sits, sitMultiMsg)
		}
		if cmd.Kind == spec.Msg && mine && coreBesideMulti(b, cmd.Arg) {
			sits = append(sits, sitMultiCore)
		}
	case spec.Text:
		if len(rooms) > 1 {
			sits = append(sits, sitMultiText)
		}
	case spec.Quit:
		sits = append(sits, sitQuit)
		if endsShared(b, id) {
			sits = append(sits, sitMultiEnd)
		}
	}
	return sits
}

// endsShared reports whether id is in several rooms and shares one with
// another user, so that its end sends LEAVE notes for several rooms
// (MULTI-7).
func endsShared(b model.State, id model.ClientID) bool {
	rooms := b.RoomsOf(id)
	return len(rooms) > 1 && slices.ContainsFunc(rooms, func(r string) bool { return len(b.Members(r)) > 1 })
}

// coreBesideMulti reports whether room has a member on a core connection
// and a member in several rooms (MULTI-1).
func coreBesideMulti(b model.State, room string) bool {
	var core, multi bool
	for _, id := range b.Clients() {
		if !slices.ContainsFunc(b.RoomsOf(id), func(r string) bool { return spec.Fold(r) == spec.Fold(room) }) {
			continue
		}
		core = core || !b.Enabled(id).Has(spec.ExtRooms)
		multi = multi || len(b.RoomsOf(id)) > 1
	}
	return core && multi
}

// beforeName are the commands allowed in NEW (STATE-2).
var beforeName = map[spec.Kind]bool{spec.Username: true, spec.Quit: true, spec.Ping: true, spec.Caps: true, spec.Login: true}

// wordsOf returns the command words of id's connection in s (CAPS-1,
// CAPS-3), as the model parses its lines.
func wordsOf(s model.State, id model.ClientID) spec.Words {
	return spec.Words{Caps: s.Name(id) == "" && s.Offered() != 0, Ext: s.Enabled(id)}
}

// extSituations returns the situations of a command of section 13 from id,
// in state b.
func (k *tracker) extSituations(b model.State, id model.ClientID, cmd spec.Command) []situation {
	me := b.Name(id)
	switch cmd.Kind {
	case spec.Caps:
		names := cmd.Names()
		if len(names) == 0 {
			return []situation{sitCapsList}
		}
		for _, n := range names {
			if x, ok := spec.ParseExt(n); !ok || !b.Offered().Has(x) {
				return []situation{sitCapsUnknown}
			}
		}
		return []situation{sitCapsEnable}
	case spec.Register:
		if spec.ValidPassword(cmd.Text) && !b.IsAccount(me) {
			return []situation{sitRegister}
		}
		return []situation{sitRegisterBad}
	case spec.Login:
		if me != "" {
			return nil
		}
		switch pw, ok := b.Password(cmd.Arg); {
		case !ok:
			return []situation{sitLoginNobody}
		case pw != cmd.Text:
			return []situation{sitLoginFail}
		}
		sits := []situation{sitLogin}
		if userNamed(b, cmd.Arg) != "" || !slices.Contains(b.Accounts(), cmd.Arg) {
			sits = append(sits, sitLoginTaken)
		}
		if k.keptAccounts[spec.Fold(cmd.Arg)] {
			sits = append(sits, sitKept)
		}
		return sits
	case spec.Password:
		pw, ok := b.Password(me)
		switch {
		case !ok || spec.ValidPassword(cmd.Text) && pw != cmd.Arg:
			return []situation{sitPasswordWrong}
		case spec.ValidPassword(cmd.Text):
			return []situation{sitPassword}
		}
	case spec.History:
		if !spec.ValidRoom(cmd.Arg) {
			return []situation{sitHistoryBad}
		}
		var sits []situation
		stored := b.Stored(cmd.Arg)
		sel := slices.DeleteFunc(slices.Clone(stored), func(m model.Message) bool { return cmd.Before != 0 && m.ID >= cmd.Before })
		sel = sel[max(0, len(sel)-cmd.Limit):]
		if len(sel) > 0 {
			sits = append(sits, sitHistory13)
			if sel[0].ID <= k.keptID {
				sits = append(sits, sitKept)
			}
		}
		if cmd.Before != 0 {
			sits = append(sits, sitHistoryBefore)
		}
		if len(stored) > 0 && b.Members(cmd.Arg) == nil {
			sits = append(sits, sitStoredGone)
		}
		if len(stored) > spec.HistoryLen {
			sits = append(sits, sitStoredMore)
		}
		return sits
	}
	return nil
}

// mixedRoom reports whether some members of room enabled history and some
// did not (CAPS-3: each receives a message in its own form).
func mixedRoom(s model.State, room string) bool {
	var with, without bool
	for _, id := range s.Clients() {
		if s.Name(id) == "" || spec.Fold(s.RoomOf(id)) != spec.Fold(room) {
			continue
		}
		if s.Enabled(id).Has(spec.ExtHistory) {
			with = true
		} else {
			without = true
		}
	}
	return with && without
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
