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

// join is JOIN-1..6 and, on a connection that enabled rooms, MULTI-2:
// the room is added to the user's rooms instead of replacing its room.
func (st *stepper) join(cmd spec.Command) {
	switch {
	case !spec.ValidRoom(cmd.Arg):
		st.fail(spec.ErrInvalidRoom)
		return
	case st.s.myRoom(st.id, cmd.Arg) >= 0:
		st.fail(spec.ErrAlreadyInRoom)
		return
	case st.multi() && len(st.me().rooms) >= st.s.maxRooms:
		st.fail(spec.ErrTooManyRooms)
		return
	}
	if !st.multi() {
		st.leaveAll() // JOIN-3
	}
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
	st.me().rooms = append(st.me().rooms, rm.name)
}

// leave is LEAVE-2 and MULTI-3.
func (st *stepper) leave(cmd spec.Command) {
	name := st.s.rooms[st.roomOf(cmd)].name
	st.reply(spec.OKLine(spec.OKLeft(name)))
	st.leaveRoom(name)
}

// leaveAll takes the client out of every room it is in, in the order it
// joined them (JOIN-3, QUIT-2, DISC-1, MULTI-7).
func (st *stepper) leaveAll() {
	for _, name := range slices.Clone(st.me().rooms) {
		st.leaveRoom(name)
	}
}

// leaveRoom takes the client out of the room called name, one of its
// rooms: the remaining members receive LEAVE, and an empty room is
// destroyed with its history (LEAVE-3).
func (st *stepper) leaveRoom(name string) {
	r := st.s.roomIndex(name)
	rm := &st.s.rooms[r]
	rm.members = slices.DeleteFunc(rm.members, func(m ClientID) bool { return m == st.id })
	for _, m := range rm.members {
		st.send(m, spec.LeaveLine(rm.name, st.s.Name(st.id)))
	}
	me := st.me()
	me.rooms = slices.DeleteFunc(me.rooms, func(n string) bool { return n == rm.name })
	if len(rm.members) == 0 {
		st.s.rooms = slices.Delete(st.s.rooms, r, r+1)
	}
}

// msg is MSG-2, MSG-3, MSG-4 and MULTI-4: the message gets its ID and
// time (HIST-1), every member, the sender included, gets it in the form
// its extensions call for (CAPS-3, HIST-2), and it joins the room's
// history and the stored messages (HIST-4).
func (st *stepper) msg(cmd spec.Command) {
	rm := &st.s.rooms[st.roomOf(cmd)]
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

// users is USERS-1 and MULTI-6.
func (st *stepper) users(cmd spec.Command) {
	st.reply(spec.UserListLine(st.s.Members(st.s.rooms[st.roomOf(cmd)].name)))
}

// quit is QUIT-1..3.
func (st *stepper) quit(spec.Command) {
	st.reply(spec.OKLine(spec.OKGoodbye))
	st.close(st.id)
	st.drop()
}

// ping is PING-1.
func (st *stepper) ping(cmd spec.Command) { st.reply(spec.PongLine(cmd.Text)) }
