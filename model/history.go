package model

import (
	"slices"

	"roomchat.dev/roomchat/spec"
)

// newMessage gives a room message its ID and time (HIST-1): the next ID,
// and the clock, unless the clock has stepped back behind the last
// message's time, which is then repeated. msg-times compare as strings:
// their fields are of fixed width, most significant first.
func (s *State) newMessage(roomName, user, text string) Message {
	s.lastID++
	s.lastTime = max(s.lastTime, s.now)
	return Message{ID: s.lastID, Time: s.lastTime, Room: roomName, User: user, Text: text}
}

// form is m as the line to, a member or a joiner, receives: MESSAGE with
// history enabled, ROOM otherwise (HIST-2, CAPS-3).
func (s State) form(to ClientID, m Message) spec.ServerLine {
	if s.Enabled(to).Has(spec.ExtHistory) {
		return spec.MessageLine(m.ID, m.Time, m.Room, m.User, m.Text)
	}
	return m.roomLine()
}

// history is HIST-3: the newest Limit stored messages of the room below
// Before, oldest first, then the count.
func (st *stepper) history(cmd spec.Command) {
	if !spec.ValidRoom(cmd.Arg) {
		st.fail(spec.ErrInvalidRoom)
		return
	}
	msgs := st.s.Stored(cmd.Arg) // HIST-4
	if cmd.Before != 0 {
		msgs = slices.DeleteFunc(msgs, func(m Message) bool { return m.ID >= cmd.Before })
	}
	if len(msgs) > cmd.Limit {
		msgs = msgs[len(msgs)-cmd.Limit:]
	}
	for _, m := range msgs {
		st.reply(spec.StoredLine(m.ID, m.Time, m.Room, m.User, m.Text))
	}
	st.reply(spec.OKLine(spec.OKHistory(cmd.Arg, len(msgs))))
}
