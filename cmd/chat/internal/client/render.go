package client

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"roomchat.dev/roomchat/spec"
)

// SGR sequences used when colours are on.
const (
	sgrReset   = "\x1b[0m"
	sgrBold    = "\x1b[1m"
	sgrDim     = "\x1b[2m"
	sgrRed     = "\x1b[31m"
	sgrGreen   = "\x1b[32m"
	sgrYellow  = "\x1b[33m"
	sgrMagenta = "\x1b[35m"
	sgrCyan    = "\x1b[36m"
)

// Renderer turns server lines and local messages into text for people. It
// holds no chat state: what it needs to know about the session comes in a
// View.
type Renderer struct {
	// Color enables ANSI colours and bold.
	Color bool
	// Now is the clock for the timestamps; nil means time.Now.
	Now func() time.Time
}

// View is what the client knows about its session when it renders a line.
type View struct {
	Self string // our username, "" before it is accepted
	Room string // the room we are in, "" in the lobby
	// Private is the PRIVMSG that an OK Sent or ERROR User not found
	// answers, if the client knows it.
	Private *spec.Command
	// Roster marks a JOIN line that tells who was in the room when we
	// joined it (JOIN-4), not someone arriving.
	Roster bool
	// Answer is the command an OK or ERROR line of section 13 answers,
	// if the client knows it. A REGISTER or PASSWORD here has no
	// passwords.
	Answer *spec.Command
	// Page is the page of earlier messages that an OK History ends.
	Page *HistoryPage
	// Held marks a HISTORY line kept to be shown with its page: it is
	// not shown on its own.
	Held bool
}

func (r *Renderer) paint(sgr, s string) string {
	if !r.Color {
		return s
	}
	return sgr + s + sgrReset
}

func (r *Renderer) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Renderer) stamp(s string) string {
	return r.paint(sgrDim, r.now().Format("15:04")) + " " + s
}

// staleAfter is how much older than the clock a message must be to be
// stamped with its own time rather than with the time it is shown.
const staleAfter = time.Minute

// msgStamp stamps a message that has its own time (HIST-1): a message
// that arrives as it is sent is stamped as every other line, with the time
// it is shown, so that the server's clock does not matter; an older one (a
// room's last messages replayed on JOIN, or a page of history) with the
// time it was sent, and its date if that was not today.
func (r *Renderer) msgStamp(msgTime string, s string) string {
	t, ok := spec.ParseMsgTime(msgTime)
	now := r.now()
	if !ok || now.Sub(t) < staleAfter {
		return r.stamp(s)
	}
	t = t.In(now.Location())
	layout := "15:04"
	switch {
	case t.Year() != now.Year():
		layout = "2006-01-02 15:04"
	case t.YearDay() != now.YearDay():
		layout = "Jan 02 15:04"
	}
	return r.paint(sgrDim, t.Format(layout)) + " " + s
}

// message renders a room message: of a ROOM, MESSAGE or HISTORY line.
func (r *Renderer) message(l spec.ServerLine, v View) string {
	tag := r.paint(sgrCyan, "["+l.Room+"]")
	var s string
	if v.Self != "" && spec.Fold(l.User) == spec.Fold(v.Self) {
		s = tag + " " + r.paint(sgrBold+sgrGreen, "<you>") + " " + l.Text
	} else {
		s = tag + " " + r.paint(sgrBold, l.User) + ": " + l.Text
	}
	if l.Kind == spec.Room {
		return r.stamp(s)
	}
	return r.msgStamp(l.Time, s)
}

// historyPage renders a page of earlier messages as a block: the screen
// keeps what it has shown, so the page goes below it, marked.
func (r *Renderer) historyPage(p *HistoryPage, v View) string {
	var b strings.Builder
	if len(p.Lines) > 0 {
		b.WriteString(r.Info("— earlier messages of " + p.Room + " —"))
		for _, l := range p.Lines {
			b.WriteString("\n" + r.message(l, v))
		}
		b.WriteString("\n")
	}
	if p.Beginning {
		b.WriteString(r.Info(beginningOfHistory(p.Room)))
	} else {
		b.WriteString(r.Info("— end of the earlier messages; PgUp or /history for more —"))
	}
	return b.String()
}

// Line renders one parsed server line. It returns false for a line that is
// not shown (PONG).
func (r *Renderer) Line(l spec.ServerLine, v View) (string, bool) {
	if v.Held {
		return "", false
	}
	switch l.Kind {
	case spec.Room, spec.Message, spec.Stored:
		return r.message(l, v), true
	case spec.Private:
		return r.stamp(r.paint(sgrMagenta, "(private) "+l.User+":") + " " + l.Text), true
	case spec.Joined:
		if v.Roster {
			return r.stamp(r.paint(sgrYellow, "* "+l.User+" is in "+l.Room)), true
		}
		return r.stamp(r.paint(sgrYellow, "* "+l.User+" joined "+l.Room)), true
	case spec.Left:
		return r.stamp(r.paint(sgrYellow, "* "+l.User+" left "+l.Room)), true
	case spec.UserList:
		head := "users"
		if v.Room != "" {
			head = "users in " + v.Room
		}
		if len(l.List) == 0 {
			return r.stamp(head + ": none"), true
		}
		return r.stamp(head + ": " + strings.Join(l.List, ", ")), true
	case spec.RoomList:
		if len(l.List) == 0 {
			return r.stamp("no rooms"), true
		}
		return r.stamp("rooms: " + strings.Join(l.List, ", ")), true
	case spec.OK:
		if v.Page != nil && v.Page.Again {
			return "", false
		}
		if v.Page != nil {
			return r.historyPage(v.Page, v), true
		}
		return r.stamp(r.paint(sgrGreen, r.okText(l.Text, v))), true
	case spec.Error:
		text := l.Text
		if words := accountError(text, v.Answer); words != "" {
			text = words
		} else if text == spec.ErrUserNotFound && v.Private != nil {
			text += ": " + v.Private.Arg
		}
		return r.stamp(r.paint(sgrBold+sgrRed, "! "+text)), true
	case spec.CapsList:
		if len(l.List) == 0 {
			return r.stamp("the server offers no extensions"), true
		}
		return r.stamp("the server offers: " + strings.Join(l.List, ", ")), true
	case spec.Pong:
		return "", false
	}
	return r.Malformed(l.String()), true
}

// okText turns the text of an OK line into a confirmation.
func (r *Renderer) okText(text string, v View) string {
	if room, others, ok := parseJoined(text); ok {
		switch others {
		case 0:
			return "joined " + room + " (nobody else here)"
		case 1:
			return "joined " + room + " (1 other user)"
		}
		return fmt.Sprintf("joined %s (%d other users)", room, others)
	}
	if room, ok := strings.CutPrefix(text, "Left "); ok && spec.ValidRoom(room) {
		return "left " + room
	}
	if text == spec.OKSent && v.Private != nil {
		return "(private) to " + v.Private.Arg + ": " + v.Private.Text
	}
	if words := accountOK(text); words != "" {
		return words
	}
	if text == "" {
		return "ok"
	}
	return text
}

// Pending renders a message the user sent that the server has not yet
// confirmed, sent from room: as the confirmation will show it, with dashes
// for its time, and dimmed.
func (r *Renderer) Pending(c spec.Command, room string) string {
	var text string
	switch c.Kind {
	case spec.Privmsg:
		text = "(private) to " + c.Arg + ": " + c.Text
	default:
		text = "<you> " + c.Text
		if room != "" {
			text = "[" + room + "] " + text
		}
	}
	return r.paint(sgrDim, "--:-- "+text)
}

// parseJoined parses the text of OK Joined (JOIN-4): "Joined <room> (<n> users)".
func parseJoined(text string) (room string, others int, ok bool) {
	rest, ok := strings.CutPrefix(text, "Joined ")
	if !ok {
		return "", 0, false
	}
	room, count, ok := strings.Cut(rest, " (")
	if !ok || !spec.ValidRoom(room) {
		return "", 0, false
	}
	count, ok = strings.CutSuffix(count, " users)")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || strconv.Itoa(n) != count {
		return "", 0, false
	}
	return room, n, true
}

// Malformed renders a server line that does not fit the grammar. The line is
// quoted, so no control byte of it reaches the terminal.
func (r *Renderer) Malformed(raw string) string {
	return r.stamp(r.paint(sgrYellow, "? malformed line from server: "+strconv.Quote(raw)))
}

// Error renders a local error: something the client refused, or a problem
// with the connection.
func (r *Renderer) Error(text string) string {
	return r.paint(sgrBold+sgrRed, "! "+text)
}

// Info renders a local message that is not an error.
func (r *Renderer) Info(text string) string {
	return r.paint(sgrDim, text)
}

// RoomTab is one room of the room bar.
type RoomTab struct {
	Room    string
	Current bool // the room shown
	Unread  int  // messages that came while it was not shown
}

// RoomBar renders the room bar: the rooms numbered from 1, as /win and
// Alt-1 to Alt-9 take them, the room shown in brackets, and the unread
// messages of the others in parentheses.
//
//	[1:#tea] 2:#coffee(3) 3:#juice
func (r *Renderer) RoomBar(tabs []RoomTab) string {
	var b strings.Builder
	for i, t := range tabs {
		if i > 0 {
			b.WriteByte(' ')
		}
		label := strconv.Itoa(i+1) + ":" + t.Room
		switch {
		case t.Current:
			b.WriteString(r.paint(sgrBold, "["+label+"]"))
		case t.Unread > 0:
			b.WriteString(r.paint(sgrBold+sgrYellow, label+"("+strconv.Itoa(t.Unread)+")"))
		default:
			b.WriteString(r.paint(sgrDim, label))
		}
	}
	return b.String()
}
