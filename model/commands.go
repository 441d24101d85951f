package model

import (
	"slices"

	"roomchat.dev/roomchat/spec"
)

// username is USER-1..3 and NAME-1, NAME-4, NAME-5; an account's name is
// taken too, whoever is connected (ACCT-3).
func (st *stepper) username(cmd spec.Command) {
	i := st.s.connIndex(st.id)
	_, connected := st.s.userByName(cmd.Arg)
	switch taken := connected || st.s.IsAccount(cmd.Arg); {
	case st.s.conns[i].name != "":
		st.fail(spec.ErrUsernameSet)
	case !spec.ValidUsername(cmd.Arg):
		st.fail(spec.ErrInvalidUsername)
	case taken:
		st.fail(spec.ErrUsernameTaken)
	default:
		st.s.conns[i].name = cmd.Arg
		st.reply(spec.OKLine(spec.OKWelcome(cmd.Arg)))
	}
}

// join is JOIN-1..6.
func (st *stepper) join(cmd spec.Command) {
	if !spec.ValidRoom(cmd.Arg) {
		st.fail(spec.ErrInvalidRoom)
		return
	}
	if cur := st.s.RoomOf(st.id); cur != "" && spec.Fold(cur) == spec.Fold(cmd.Arg) {
		st.fail(spec.ErrAlreadyInRoom)
		return
	}
	st.leaveRoom() // JOIN-3
	r := st.s.roomIndex(cmd.Arg)
	if r < 0 { // JOIN-2
		st.s.rooms = append(st.s.rooms, room{name: cmd.Arg})
		r = len(st.s.rooms) - 1
	}
	rm := &st.s.rooms[r]
	me := st.s.Name(st.id)
	st.reply(spec.OKLine(spec.OKJoined(rm.name, len(rm.members)))) // JOIN-4
	for _, m := range rm.members {
		st.reply(spec.JoinLine(rm.name, st.s.Name(m)))
	}
	for _, m := range rm.history {
		st.reply(st.s.form(st.id, m)) // HIST-2
	}
	for _, m := range rm.members { // JOIN-5
		st.send(m, spec.JoinLine(rm.name, me))
	}
	rm.members = append(rm.members, st.id)
}

// leave is LEAVE-2.
func (st *stepper) leave(spec.Command) {
	st.reply(spec.OKLine(spec.OKLeft(st.s.RoomOf(st.id))))
	st.leaveRoom()
}

// leaveRoom takes the client out of its room, if any: the remaining members
// receive LEAVE, and an empty room is destroyed with its history (LEAVE-3).
func (st *stepper) leaveRoom() {
	r := st.s.roomIndexOf(st.id)
	if r < 0 {
		return
	}
	rm := &st.s.rooms[r]
	rm.members = slices.DeleteFunc(rm.members, func(m ClientID) bool { return m == st.id })
	for _, m := range rm.members {
		st.send(m, spec.LeaveLine(rm.name, st.s.Name(st.id)))
	}
	if len(rm.members) == 0 {
		st.s.rooms = slices.Delete(st.s.rooms, r, r+1)
	}
}

// msg is MSG-2, MSG-3 and MSG-4: the message gets its ID and time
// (HIST-1), every member, the sender included, gets it in the form its
// extensions call for (CAPS-3, HIST-2), and it joins the room's history and
// the stored messages (HIST-4).
func (st *stepper) msg(cmd spec.Command) {
	rm := &st.s.rooms[st.s.roomIndexOf(st.id)]
	m := st.s.newMessage(rm.name, st.s.Name(st.id), cmd.Text)
	for _, to := range rm.members {
		st.send(to, st.s.form(to, m))
	}
	rm.history = append(rm.history, m)
	if len(rm.history) > spec.HistoryLen {
		rm.history = slices.Delete(rm.history, 0, len(rm.history)-spec.HistoryLen)
	}
	if st.s.offer.Has(spec.ExtHistory) {
		st.s.stored = append(st.s.stored, m)
	}
}

// privmsg is PRIV-1..5.
func (st *stepper) privmsg(cmd spec.Command) {
	to, ok := st.s.userByName(cmd.Arg)
	if !ok {
		st.fail(spec.ErrUserNotFound)
		return
	}
	st.reply(spec.OKLine(spec.OKSent))
	st.send(to, spec.PrivateLine(st.s.Name(st.id), cmd.Text))
}

// rooms is ROOMS-1.
func (st *stepper) rooms(spec.Command) { st.reply(spec.RoomListLine(st.s.Rooms())) }

// users is USERS-1.
func (st *stepper) users(spec.Command) {
	st.reply(spec.UserListLine(st.s.Members(st.s.RoomOf(st.id))))
}

// quit is QUIT-1..3.
func (st *stepper) quit(spec.Command) {
	st.reply(spec.OKLine(spec.OKGoodbye))
	st.close(st.id)
	st.drop()
}

// ping is PING-1.
func (st *stepper) ping(cmd spec.Command) { st.reply(spec.PongLine(cmd.Text)) }
