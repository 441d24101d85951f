package impl

import (
	"time"

	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// CAPS and history (PROTOCOL.md 13.1, 13.3).

// words returns the command words c's next line may begin with, beyond
// the core ones: CAPS in NEW on a server that offers extensions (CAPS-1),
// and those of the extensions c enabled (CAPS-3).
func (l *loop) words(c *client) spec.Words {
	return spec.Words{Caps: c.name == "" && l.cfg.Offer != 0, Ext: c.ext}
}

// caps lists the extensions the server offers (CAPS-1), or enables those
// named on c (CAPS-2): all of them, or none if one is not offered.
func (l *loop) caps(c *client, cmd spec.Command) {
	names := cmd.Names()
	if len(names) == 0 {
		l.reply(c, spec.CapsLine(l.cfg.Offer.Names()))
		return
	}
	var add spec.Ext
	for _, n := range names {
		e, ok := spec.ParseExt(n)
		if !ok || !l.cfg.Offer.Has(e) {
			l.reply(c, spec.ErrorLine(spec.ErrUnknownExt))
			return
		}
		add |= e
	}
	c.ext |= add
	l.reply(c, spec.OKLine(spec.OKEnabled(names)))
}

// msg sends MSG <text>, or a text line, to the user's room (MSG-2 to
// MSG-4): the only one it is in. A user of a connection that enabled rooms
// who is in several must name one (MULTI-5).
func (l *loop) msg(c *client, cmd spec.Command) {
	if len(c.rooms) > 1 {
		l.reply(c, spec.ErrorLine(spec.ErrRoomRequired))
		return
	}
	l.roomMessage(c, c.rooms[0], cmd)
}

// roomMessage sends cmd.Text from c to every member of r, c included
// (MSG-2), and keeps it in the room's history (MSG-3). A server that offers
// history gives it an ID and a time (HIST-1) and stores it (HIST-4): in
// memory at once, or with a database, where the message is processed only
// once it is committed (HIST-5, async.go).
func (l *loop) roomMessage(c *client, r *room, cmd spec.Command) {
	switch {
	case !l.cfg.Offer.Has(spec.ExtHistory):
		l.deliver(r, &roomMsg{room: r.name, user: c.name, text: cmd.Text})
	case l.writer != nil:
		l.start(c, &task{kind: taskMessage, step: stepStore, cmd: cmd, room: r})
	default:
		m := l.newMessage(r, c.name, cmd.Text)
		l.lastID, l.lastTime = m.id, m.at
		l.stored.append(r.fold, store.Message{ID: m.id, Time: m.at, Room: m.room, User: m.user, Text: m.text})
		l.deliver(r, m)
	}
}

// newMessage returns a message for room r with the next ID and the time
// of now (HIST-1): the wall clock to the millisecond, or the last
// message's time if the clock is behind it. The caller records them as
// given (lastID, lastTime) once the message is taken.
func (l *loop) newMessage(r *room, user, text string) *roomMsg {
	at := l.cfg.Now().UTC().Truncate(time.Millisecond)
	if at.Before(l.lastTime) {
		at = l.lastTime
	}
	return &roomMsg{id: l.lastID + 1, at: at, room: r.name, user: user, text: text}
}

// history answers HISTORY (HIST-3): from the messages kept in memory at
// once, or with a database once the Reader has fetched them (async.go).
func (l *loop) history(c *client, cmd spec.Command) {
	if !spec.ValidRoom(cmd.Arg) {
		l.reply(c, spec.ErrorLine(spec.ErrInvalidRoom))
		return
	}
	switch {
	case l.reader == nil:
		l.replyHistory(c, cmd.Arg, l.stored.fetch(spec.Fold(cmd.Arg), cmd.Before, cmd.Limit, l.cfg.Now()))
	case l.lastStored == 0:
		l.replyHistory(c, cmd.Arg, nil) // nothing was ever stored
	default:
		l.start(c, &task{kind: taskHistory, step: stepFetch, cmd: cmd})
	}
}

// replyHistory sends c the HISTORY lines of ms, oldest first, each with
// the room as it was spelled in the message, and then "OK History" with
// the room as the command gave it: one buffer.
func (l *loop) replyHistory(c *client, room string, ms []store.Message) {
	var b []byte
	for _, m := range ms {
		b = spec.StoredLine(m.ID, spec.FormatMsgTime(m.Time), m.Room, m.User, m.Text).AppendWire(b)
	}
	b = spec.OKLine(spec.OKHistory(room, len(ms))).AppendWire(b)
	l.send(c, b)
}
