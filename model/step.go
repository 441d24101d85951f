package model

import (
	"errors"
	"slices"

	"roomchat.dev/roomchat/spec"
)

// Step applies one event from client id to s and returns the new state and
// every output the server must produce, in order. s itself is unchanged.
func (s State) Step(id ClientID, ev Event) (State, []Output) {
	st := &stepper{s: s.clone(), id: id}
	st.apply(ev)
	return st.s, st.out
}

// stepper carries one step's state and the outputs it has queued.
type stepper struct {
	s   State
	id  ClientID // the client the event came from
	out []Output
}

func (st *stepper) send(to ClientID, l spec.ServerLine) {
	st.out = append(st.out, Output{To: to, Line: l.String()})
}

func (st *stepper) reply(l spec.ServerLine) { st.send(st.id, l) }

// me is the connection the event came from.
func (st *stepper) me() *conn { return &st.s.conns[st.s.connIndex(st.id)] }

// multi reports whether that connection enabled rooms (MULTI-1).
func (st *stepper) multi() bool { return st.me().ext.Has(spec.ExtRooms) }

// roomCheck is the room check of STATE-3 for a command that acts on a
// room: on a connection that enabled rooms, the room a LEAVE, MSG or
// USERS names must be valid and one of the user's (MULTI-3, MULTI-4,
// MULTI-6); a text line, and any such command of a core connection, needs
// the user to be in exactly one room (LEAVE-1, MSG-1, MSG-4, USERS-1,
// MULTI-5: only a connection that enabled rooms can be in several). It
// returns the ERROR text, or "".
func (st *stepper) roomCheck(cmd spec.Command) string {
	switch rooms := st.me().rooms; {
	case st.multi() && cmd.Kind != spec.Text:
		if !spec.ValidRoom(cmd.Arg) {
			return spec.ErrInvalidRoom
		}
		if st.s.myRoom(st.id, cmd.Arg) < 0 {
			return spec.ErrNotInThatRoom
		}
	case len(rooms) == 0:
		return spec.ErrNotInRoom
	case len(rooms) > 1:
		return spec.ErrRoomRequired
	}
	return ""
}

// roomOf returns the index of the room a command acts on, once roomCheck
// has passed: the room it names, or the user's only room.
func (st *stepper) roomOf(cmd spec.Command) int {
	if st.multi() && cmd.Kind != spec.Text {
		return st.s.roomIndex(cmd.Arg)
	}
	return st.s.roomIndex(st.me().rooms[0])
}
func (st *stepper) fail(text string)  { st.reply(spec.ErrorLine(text)) }
func (st *stepper) close(to ClientID) { st.out = append(st.out, Output{To: to, Close: true}) }

func (st *stepper) apply(ev Event) {
	if st.s.down {
		return // after SHUT-1 there is nobody to talk to
	}
	switch ev.Kind {
	case Shutdown:
		st.shutdown()
		return
	case Restart:
		st.restart()
		return
	case Time:
		if spec.ValidMsgTime(ev.Time) {
			st.s.now = ev.Time
		}
		return
	case Connect:
		st.connect()
		return
	}
	if !st.s.Connected(st.id) {
		return // STATE-4: nothing from or to a closed connection
	}
	switch ev.Kind {
	case Line:
		st.line(ev.Line)
	case LineTooLong:
		st.fail(spec.ErrLineTooLong) // FRAME-5
	case Disconnect:
		st.drop() // DISC-1
	case Overflow:
		st.close(st.id) // LIMIT-4: no further line
		st.drop()
	case Idle:
		st.fail(spec.ErrIdleTimeout) // LIMIT-7
		st.close(st.id)
		st.drop()
	}
}

// connect is FRAME-1, LIMIT-1 and LIMIT-2.
func (st *stepper) connect() {
	if len(st.s.conns) >= st.s.maxClients {
		st.fail(spec.ErrServerFull)
		st.close(st.id)
		return
	}
	st.s.conns = append(st.s.conns, conn{id: st.id})
}

// shutdown is SHUT-1: a notice to everyone, every connection closed, no LEAVE.
func (st *stepper) shutdown() {
	for _, c := range st.s.conns {
		st.send(c.id, spec.ErrorLine(spec.ErrShuttingDown))
		st.close(c.id)
	}
	st.s.conns, st.s.rooms, st.s.down = nil, nil, true
}

// restart is a shutdown (SHUT-1) and a new start: no connections, no rooms,
// and the accounts, stored messages and sequence of IDs of before (HIST-5).
func (st *stepper) restart() {
	st.shutdown()
	st.s.down = false
}

// drop removes the client: it leaves its rooms in the order it joined
// them (the others see LEAVE, as for LEAVE, QUIT and disconnect alike: D-7,
// MULTI-7) and its name is freed (NAME-4).
func (st *stepper) drop() {
	st.leaveAll()
	st.s.conns = slices.DeleteFunc(st.s.conns, func(c conn) bool { return c.id == st.id })
}

// line handles one complete line in the order of FRAME-9 and STATE-3.
func (st *stepper) line(line string) {
	if text := spec.CheckLine([]byte(line)); text != "" {
		st.fail(text) // FRAME-7, FRAME-8
		return
	}
	c := st.s.conns[st.s.connIndex(st.id)]
	words := spec.Words{
		Caps: c.name == "" && st.s.offer != 0, // CAPS-1
		Ext:  c.ext,                           // CAPS-3
	}
	cmd, err := spec.ParseCommandWith(line, words)
	var usage *spec.UsageError
	if errors.As(err, &usage) {
		st.fail(usage.Text()) // GRAM-2
		return
	}
	if cmd.Kind == spec.Empty {
		return // FRAME-6
	}
	h := handlers[cmd.Kind]
	if !h.beforeName && c.name == "" {
		st.fail(spec.ErrUsernameRequired) // STATE-2
		return
	}
	if h.inRoom {
		if text := st.roomCheck(cmd); text != "" {
			st.fail(text)
			return
		}
	}
	h.run(st, cmd)
}

// handler describes a command: the state checks of STATE-2 and STATE-3 that
// precede it, and what it does once they pass.
type handler struct {
	beforeName bool // allowed in NEW
	inRoom     bool // acts on a room: roomCheck
	run        func(*stepper, spec.Command)
}

var handlers = map[spec.Kind]handler{
	spec.Username: {beforeName: true, run: (*stepper).username},
	spec.Quit:     {beforeName: true, run: (*stepper).quit},
	spec.Ping:     {beforeName: true, run: (*stepper).ping},
	spec.Join:     {run: (*stepper).join},
	spec.Leave:    {inRoom: true, run: (*stepper).leave},
	spec.Msg:      {inRoom: true, run: (*stepper).msg},
	spec.Text:     {inRoom: true, run: (*stepper).msg},
	spec.Privmsg:  {run: (*stepper).privmsg},
	spec.Rooms:    {run: (*stepper).rooms},
	spec.Users:    {inRoom: true, run: (*stepper).users},
	// Section 13: the parser yields these only where CAPS-1 and CAPS-3
	// make them command words.
	spec.Caps:     {beforeName: true, run: (*stepper).caps},
	spec.Register: {run: (*stepper).register},
	spec.Login:    {beforeName: true, run: (*stepper).login},
	spec.Password: {run: (*stepper).password},
	spec.History:  {run: (*stepper).history},
}
