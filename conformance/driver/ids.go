package driver

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// A server's message IDs are not the model's. The model numbers room
// messages 1, 2, 3, … in the order it processes them; a server may skip
// numbers, and one long-running server shared by many runs keeps counting
// from where the last one left off. Nor are its times the model's: they are
// its clock's. So the ID and time of a MESSAGE or HISTORY line (HIST-1,
// HIST-2, HIST-3) are the one part of a line that is not compared byte for
// byte. Instead:
//
//   - a model ID is mapped to the server's ID the first time a client
//     receives the message, and every later line about that message must
//     carry the same server ID and the same time;
//   - the mapping must be strictly increasing both ways: the driver runs
//     the model and the server in lockstep, so the order in which the model
//     numbered the messages is the order in which the server processed
//     them, and HIST-1 says a server's IDs grow in that order; so no server
//     ID stands for two messages, and a message processed later never has a
//     smaller ID;
//   - a time must be a msg-time, and a message with a larger ID never has
//     an earlier time (HIST-1).
//
// The room, user and text of a line are compared with the model's as every
// other line is. A HISTORY command's <before> goes the other way: a client
// sends the server's ID, and the model is given the model ID it maps to
// (see Driver.Send).

// IDs is the mapping of one driver's model message IDs to the server's, and
// what each message was first shown as.
type IDs struct {
	byModel  map[uint64]int // model ID -> index in known
	byServer map[uint64]int // server ID -> index in known
	known    []idPair       // sorted by model ID, and so by server ID
	epoch    int            // restarts so far
}

// idPair is one model ID, the server ID it maps to, and what the line that
// first showed it said.
type idPair struct {
	model, server uint64
	time          string
	room, user    string
	text          string
	first         string // who received it first, and the line, for reports
	epoch         int    // the restarts before it was learned
}

// NewIDs returns an empty mapping.
func NewIDs() *IDs {
	return &IDs{byModel: map[uint64]int{}, byServer: map[uint64]int{}}
}

// Server returns the server's ID for the model's message ID, if a client
// has received the message.
func (m *IDs) Server(model uint64) (uint64, bool) {
	i, ok := m.byModel[model]
	if !ok {
		return 0, false
	}
	return m.known[i].server, true
}

// Model returns the model's ID for the server's message ID, if a client has
// received the message.
func (m *IDs) Model(server uint64) (uint64, bool) {
	i, ok := m.byServer[server]
	if !ok {
		return 0, false
	}
	return m.known[i].model, true
}

// Known returns the model IDs whose server IDs are known, in increasing
// order.
func (m *IDs) Known() []uint64 {
	ids := make([]uint64, len(m.known))
	for i, p := range m.known {
		ids[i] = p.model
	}
	return ids
}

// Restarted records a restart of the server: IDs learned after it that
// depart from those learned before break HIST-5 (IDs go on above every ID
// given before), not only HIST-1.
func (m *IDs) Restarted() { m.epoch++ }

// Learn checks got, a MESSAGE or HISTORY line whose room, user and text
// are those of the model's message modelID, against everything learned so
// far, and records it. who names the client that received it, for reports.
// It returns an *IDError if the line's ID or time cannot be that message's.
func (m *IDs) Learn(modelID uint64, got spec.ServerLine, who, line string) error {
	fail := func(rule, reason string, other *idPair) error {
		e := &IDError{Client: who, Line: line, Rule: rule, Reason: reason}
		if other != nil {
			e.Earlier = other.first
		}
		return e
	}
	if i, ok := m.byModel[modelID]; ok {
		p := &m.known[i]
		switch {
		case got.ID != p.server:
			return fail(m.rule(p), fmt.Sprintf("the same message was shown earlier with the ID %d, not %d: every line that shows a message shows its ID", p.server, got.ID), p)
		case got.Time != p.time:
			return fail(m.rule(p), fmt.Sprintf("the same message (ID %d) was shown earlier with the time %s, not %s", p.server, p.time, got.Time), p)
		}
		return nil
	}
	if i, ok := m.byServer[got.ID]; ok {
		p := &m.known[i]
		return fail(m.rule(p), fmt.Sprintf("the ID %d was given earlier to another message (%s %s %s): an ID is never given again", got.ID, p.room, p.user, spec.Show(p.text)), p)
	}
	at, _ := slices.BinarySearchFunc(m.known, modelID, func(p idPair, id uint64) int { return cmpUint(p.model, id) })
	if at > 0 {
		prev := &m.known[at-1]
		switch {
		case prev.server > got.ID:
			return fail(m.rule(prev), fmt.Sprintf("its ID %d is smaller than %d, the ID of a message processed before it: each ID is greater than that of every room message processed before it", got.ID, prev.server), prev)
		case prev.time > got.Time:
			return fail(m.rule(prev), fmt.Sprintf("its time %s is earlier than %s, the time of message %d, processed before it: a time is never earlier than that of a message with a smaller ID", got.Time, prev.time, prev.server), prev)
		}
	}
	if at < len(m.known) {
		next := &m.known[at]
		switch {
		case next.server < got.ID:
			return fail(m.rule(next), fmt.Sprintf("its ID %d is greater than %d, the ID of a message processed after it: each ID is greater than that of every room message processed before it", got.ID, next.server), next)
		case next.time < got.Time:
			return fail(m.rule(next), fmt.Sprintf("its time %s is later than %s, the time of message %d, processed after it: a time is never earlier than that of a message with a smaller ID", got.Time, next.time, next.server), next)
		}
	}
	m.known = slices.Insert(m.known, at, idPair{
		model: modelID, server: got.ID, time: got.Time, room: got.Room, user: got.User, text: got.Text,
		first: fmt.Sprintf("%s received %s", who, spec.Quote(line)), epoch: m.epoch,
	})
	for i := at; i < len(m.known); i++ {
		m.byModel[m.known[i].model] = i
		m.byServer[m.known[i].server] = i
	}
	return nil
}

// rule is the rule broken by a line at odds with p, learned earlier: HIST-5
// if a restart came between them, else HIST-1.
func (m *IDs) rule(p *idPair) string {
	if p.epoch != m.epoch {
		return "HIST-5"
	}
	return "HIST-1"
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// IDError is a MESSAGE or HISTORY line that is the model's message in room,
// user and text, but whose ID or time cannot be that message's (HIST-1, or
// HIST-5 across a restart): an ID given to two messages, IDs out of the
// order the messages were processed in, a time that goes back, or a time
// or ID that is not well formed.
type IDError struct {
	Client  string // the label of the client that received the line
	Line    string // the line
	Want    string // the line the model expected, with the model's ID and time
	Rule    string // HIST-1, or HIST-5 if a restart came between the lines at odds
	Reason  string
	Earlier string // the line it is at odds with, and who received it; "" if none
}

// Summary describes the error in one line that is the same each time the
// same failure recurs: it names no ID or time, which differ from one run
// of the server to the next.
func (e *IDError) Summary() string {
	want := e.Want
	if want == "" {
		want = e.Line
	}
	return fmt.Sprintf("%s received %s with an ID or a time that cannot be that message's (%s)", e.Client, spec.Quote(Normalize(want)), e.Rule)
}

func (e *IDError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s\n", e.Client, spec.Quote(e.Line), e.Reason)
	if e.Earlier != "" {
		fmt.Fprintf(&b, "  earlier: %s\n", e.Earlier)
	}
	b.WriteString("  (the room, user and text are the model's; a message's ID and time are compared through the mapping of the model's IDs to the server's: HIST-1)\n")
	return b.String()
}

// Normalize returns line with the ID and time of a MESSAGE or HISTORY line
// written as <id> and <time>, and any other line as it is: the form of a
// line in a message that must be the same whatever IDs and times the
// server gives.
func Normalize(line string) string {
	word, rest, ok := strings.Cut(line, " ")
	if !ok || word != spec.Message.String() && word != spec.Stored.String() {
		return line
	}
	f := strings.SplitN(rest, " ", 3)
	if len(f) < 3 {
		return line
	}
	return word + " <id> <time> " + f[2]
}

// messageLine parses line as a MESSAGE or HISTORY line. A line that starts
// with one of their words but is not well formed is returned with ok false
// and the reason.
func messageLine(line string) (l spec.ServerLine, isMsg bool, problem string) {
	word, _, _ := strings.Cut(line, " ")
	if word != spec.Message.String() && word != spec.Stored.String() {
		return spec.ServerLine{}, false, ""
	}
	l, err := spec.ParseServerLine(line)
	if err == nil {
		return l, true, ""
	}
	return spec.ServerLine{}, true, err.Error()
}

// same reports whether c received want, the model's line, as got: byte for
// byte, except that the ID and time of a MESSAGE or HISTORY line are the
// server's own, which d.ids checks (and learns). It returns an *IDError if
// got is the model's message in everything but an ID or time that cannot be
// its own.
func (d *Driver) same(c *Client, want, got string) (bool, error) {
	w, wantMsg, _ := messageLine(want)
	if !wantMsg {
		return want == got, nil
	}
	g, gotMsg, problem := messageLine(got)
	if !gotMsg {
		return false, nil
	}
	if problem != "" {
		// The same message, with an ID or a time that is not well formed?
		fw := strings.SplitN(want, " ", 4) // word, id, time, the rest
		if len(fw) == 4 && strings.HasPrefix(got, fw[0]+" ") && strings.HasSuffix(got, " "+fw[3]) {
			id, _, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(got, fw[0]+" "), " "+fw[3]), " ")
			reason := "its time is not a msg-time (UTC, with milliseconds: 2026-01-01T00:00:00.000Z)"
			if _, err := strconv.ParseUint(id, 10, 63); err != nil || strings.HasPrefix(id, "0") {
				reason = "its ID is not a msg-id (1 to 2^63-1, no leading zeros)"
			}
			return false, &IDError{Client: c.label, Line: got, Want: want, Rule: "HIST-1", Reason: reason}
		}
		return false, nil
	}
	if w.Kind != g.Kind || w.Room != g.Room || w.User != g.User || w.Text != g.Text {
		return false, nil
	}
	if err := d.ids.Learn(w.ID, g, c.label, got); err != nil {
		if ide, ok := err.(*IDError); ok {
			ide.Want = want
		}
		return false, err
	}
	return true, nil
}

// modelLine returns the line the model is given for line, sent by c: the
// line itself, but for a HISTORY command whose <before> is a server ID
// the driver knows, which the model is given as its own ID (HIST-3).
// An unknown ID is passed on as it is: the model's answer is then
// meaningless, and callers send only IDs their clients have received.
func (d *Driver) modelLine(c *Client, line string) string {
	if !strings.HasPrefix(line, "HISTORY ") {
		return line
	}
	words := spec.Words{Caps: d.st.Name(c.id) == "" && d.st.Offered() != 0, Ext: d.st.Enabled(c.id)}
	cmd, err := spec.ParseCommandWith(line, words)
	if err != nil || cmd.Kind != spec.History || cmd.Before == 0 {
		return line
	}
	id, ok := d.ids.Model(cmd.Before)
	if !ok {
		return line
	}
	return "HISTORY " + cmd.Arg + " " + strconv.FormatUint(id, 10) + " " + strconv.Itoa(cmd.Limit)
}
