package client

import (
	"slices"
	"strconv"

	"roomchat.dev/roomchat/spec"
)

// maxWindowLines bounds the lines kept for each room, more than a screen
// shows.
const maxWindowLines = 500

// windows are the chat of each room the user is in, when the user may be in
// several (PROTOCOL.md 13.4) and the UI shows one room at a time: the
// lines of a room not shown are kept for it, its messages counted as
// unread in the room bar, and shown when the user switches to it. Lines
// that belong to no room (private messages, errors, notices) go with the
// room shown. It is owned by the loop goroutine.
type windows struct {
	// on: rooms is enabled and the UI is windowed. Off, every line is
	// shown as it comes.
	on bool
	// byRoom holds the windows, by folded room name; "" is the window of
	// no room, before the first JOIN and after the last LEAVE.
	byRoom map[string]*window
}

// window is the chat of one room.
type window struct {
	lines  []string // rendered, oldest first, at most maxWindowLines
	unread int      // room messages that came while the room was not shown
}

// get returns the window of room, making it if there is none.
func (w *windows) get(room string) *window {
	if w.byRoom == nil {
		w.byRoom = make(map[string]*window)
	}
	k := spec.Fold(room)
	win := w.byRoom[k]
	if win == nil {
		win = &window{}
		w.byRoom[k] = win
	}
	return win
}

// add appends text to the window.
func (win *window) add(text string) {
	if len(win.lines) == maxWindowLines {
		win.lines = slices.Delete(win.lines, 0, maxWindowLines/10)
	}
	win.lines = append(win.lines, text)
}

// print shows text, a line of room, or of no room if room is "": in the
// window of the room shown, and on the screen, unless the room is one of
// the user's not shown, whose window keeps it for later. A room message
// (message) kept for later counts as unread.
func (l *loop) print(room, text string, message bool) {
	if !l.win.on {
		l.ui.Print(text)
		return
	}
	if room != "" && l.s.inRoom(room) && spec.Fold(room) != spec.Fold(l.s.room) {
		win := l.win.get(room)
		win.add(text)
		if message {
			win.unread++
			l.ui.SetStatus(l.roomBar())
		}
		return
	}
	l.win.get(l.s.room).add(text)
	l.ui.Print(text)
}

// notice shows a local message, in the window of the room shown.
func (l *loop) notice(text string) {
	if l.win.on {
		l.win.get(l.s.room).add(text)
	}
	l.ui.Notice(text)
}

// shown follows a change of the session, whose current room was before:
// if the room shown changed, the chat of the new one replaces that of the
// old on the screen, and its messages are read. The chat shown before the
// first room, or after the last, stays: it goes with the room that
// follows. Windows of rooms the user left are dropped.
func (l *loop) shown(before string) {
	if before != l.s.room {
		l.ui.SetPrompt(l.s.prompt())
	}
	if !l.win.on {
		return
	}
	now := l.s.room
	if spec.Fold(before) != spec.Fold(now) {
		old := l.win.get(before)
		if before == "" || now == "" {
			// The only room joined, or the last left: the screen goes on.
			delete(l.win.byRoom, spec.Fold(before))
			old.unread = 0
			l.win.byRoom[spec.Fold(now)] = old
		} else {
			win := l.win.get(now)
			win.unread = 0
			l.ui.Redraw(win.lines)
		}
	}
	for k := range l.win.byRoom {
		if k != spec.Fold(now) && !l.s.inRoom(k) {
			delete(l.win.byRoom, k)
		}
	}
	l.ui.SetStatus(l.roomBar())
}

// roomBar returns the room bar: with two rooms or more, each room the user
// is in, numbered for /win and Alt, the room shown marked and the others
// with their unread messages. With one room the prompt says it all.
func (l *loop) roomBar() string {
	if !l.win.on || len(l.s.in) < 2 {
		return ""
	}
	tabs := make([]RoomTab, len(l.s.in))
	for i, r := range l.s.in {
		tabs[i] = RoomTab{Room: r.name, Current: spec.Fold(r.name) == spec.Fold(l.s.room)}
		if win := l.win.byRoom[spec.Fold(r.name)]; win != nil && !tabs[i].Current {
			tabs[i].Unread = win.unread
		}
	}
	return l.r.RoomBar(tabs)
}

// switchTo shows another of the user's rooms: which names a room, or is
// its number in the room bar (/win, Alt-1 to Alt-9).
func (l *loop) switchTo(which string) {
	room := which
	if n, err := strconv.Atoi(which); err == nil {
		if n < 1 || n > len(l.s.in) {
			l.notice(l.r.Error("no room " + which + ": " + l.roomCount()))
			return
		}
		room = l.s.in[n-1].name
	}
	before := l.s.room
	if !l.s.show(room) {
		if l.s.multi {
			l.notice(l.r.Error("you are not in " + room + ": /join it"))
		} else {
			l.notice(l.r.Error("you are not in " + room + ": this server allows one room at a time, /join moves you"))
		}
		return
	}
	l.shown(before)
	l.names.Store(new(l.s.names()))
}

// roomCount says how many rooms the user is in.
func (l *loop) roomCount() string {
	switch n := len(l.s.in); n {
	case 0:
		return "you are in no room"
	case 1:
		return "you are in 1 room"
	default:
		return "you are in " + strconv.Itoa(n) + " rooms"
	}
}
