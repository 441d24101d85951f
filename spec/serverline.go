package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// LineKind identifies a server line (PROTOCOL.md 3.2).
type LineKind uint8

// The kinds of server line.
const (
	OK       LineKind = iota + 1 // OK [text]
	Error                        // ERROR text
	Room                         // ROOM room user text
	Private                      // PRIVMSG from text
	Joined                       // JOIN room user
	Left                         // LEAVE room user
	UserList                     // USERLIST *(SP user)
	RoomList                     // ROOMLIST *(SP room)
	Pong                         // PONG [token]
	// The lines of PROTOCOL.md section 13, sent only to connections that
	// asked for them.
	CapsList // CAPS *(SP ext): the answer to CAPS alone (CAPS-1)
	Message  // MESSAGE id time room user text: a ROOM line with history enabled (HIST-2)
	Stored   // HISTORY id time room user text: one message a HISTORY fetched (HIST-3)
)

var lineWords = map[LineKind]string{
	OK: "OK", Error: "ERROR", Room: "ROOM", Private: "PRIVMSG", Joined: "JOIN",
	Left: "LEAVE", UserList: "USERLIST", RoomList: "ROOMLIST", Pong: "PONG",
	CapsList: "CAPS", Message: "MESSAGE", Stored: "HISTORY",
}

var lineKindByWord = func() map[string]LineKind {
	m := make(map[string]LineKind, len(lineWords))
	for k, w := range lineWords {
		m[w] = k
	}
	return m
}()

// String returns the word that starts a server line of kind k.
func (k LineKind) String() string {
	if w, ok := lineWords[k]; ok {
		return w
	}
	return "LineKind(?)"
}

// ServerLine is one line sent by a server.
type ServerLine struct {
	Kind LineKind
	Room string   // ROOM, JOIN, LEAVE
	User string   // ROOM, JOIN, LEAVE; the sender of PRIVMSG
	Text string   // OK, ERROR, ROOM, PRIVMSG; the token of PONG
	List []string // USERLIST, ROOMLIST, CAPS
	ID   uint64   // MESSAGE, HISTORY (HIST-1)
	Time string   // MESSAGE, HISTORY: a msg-time (FormatMsgTime)
}

// Constructors for each server line.

func OKLine(text string) ServerLine          { return ServerLine{Kind: OK, Text: text} }
func ErrorLine(text string) ServerLine       { return ServerLine{Kind: Error, Text: text} }
func PongLine(token string) ServerLine       { return ServerLine{Kind: Pong, Text: token} }
func JoinLine(room, user string) ServerLine  { return ServerLine{Kind: Joined, Room: room, User: user} }
func LeaveLine(room, user string) ServerLine { return ServerLine{Kind: Left, Room: room, User: user} }
func UserListLine(users []string) ServerLine { return ServerLine{Kind: UserList, List: users} }
func RoomListLine(rooms []string) ServerLine { return ServerLine{Kind: RoomList, List: rooms} }
func PrivateLine(from, text string) ServerLine {
	return ServerLine{Kind: Private, User: from, Text: text}
}
func RoomLine(room, user, text string) ServerLine {
	return ServerLine{Kind: Room, Room: room, User: user, Text: text}
}
func CapsLine(exts []string) ServerLine { return ServerLine{Kind: CapsList, List: exts} }
func MessageLine(id uint64, time, room, user, text string) ServerLine {
	return ServerLine{Kind: Message, ID: id, Time: time, Room: room, User: user, Text: text}
}
func StoredLine(id uint64, time, room, user, text string) ServerLine {
	return ServerLine{Kind: Stored, ID: id, Time: time, Room: room, User: user, Text: text}
}

// String formats l without its terminator.
func (l ServerLine) String() string { return string(l.Append(nil)) }

// AppendWire appends l and its CRLF terminator to b, as it goes on the wire.
func (l ServerLine) AppendWire(b []byte) []byte { return append(l.Append(b), '\r', '\n') }

// Append appends l, without terminator, to b.
func (l ServerLine) Append(b []byte) []byte {
	b = append(b, lineWords[l.Kind]...)
	switch l.Kind {
	case OK, Pong:
		if l.Text != "" {
			b = append(append(b, ' '), l.Text...)
		}
	case Error:
		b = append(append(b, ' '), l.Text...)
	case Room:
		b = append(append(b, ' '), l.Room...)
		b = append(append(b, ' '), l.User...)
		b = append(append(b, ' '), l.Text...)
	case Private:
		b = append(append(b, ' '), l.User...)
		b = append(append(b, ' '), l.Text...)
	case Joined, Left:
		b = append(append(b, ' '), l.Room...)
		b = append(append(b, ' '), l.User...)
	case UserList, RoomList, CapsList:
		for _, n := range l.List {
			b = append(append(b, ' '), n...)
		}
	case Message, Stored:
		b = strconv.AppendUint(append(b, ' '), l.ID, 10)
		b = append(append(b, ' '), l.Time...)
		b = append(append(b, ' '), l.Room...)
		b = append(append(b, ' '), l.User...)
		b = append(append(b, ' '), l.Text...)
	}
	return b
}

// SyntaxError is a server line that does not fit the grammar of PROTOCOL.md
// 3.2. Its text quotes the line.
type SyntaxError struct {
	Line   string
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("spec: malformed server line %q: %s", e.Line, e.Reason)
}

// ParseServerLine parses one server line without its terminator, checking
// every field against the grammar and the name rules. A conformance tool uses
// it to tell a malformed line from a merely unexpected one.
func ParseServerLine(line string) (ServerLine, error) {
	bad := func(reason string) (ServerLine, error) {
		return ServerLine{}, &SyntaxError{Line: line, Reason: reason}
	}
	if msg := CheckLine([]byte(line)); msg != "" {
		return bad(strings.ToLower(msg))
	}
	word, rest, hasRest := strings.Cut(line, " ")
	kind, ok := lineKindByWord[word]
	if !ok {
		return bad("unknown line word")
	}
	l := ServerLine{Kind: kind}
	switch kind {
	case OK, Pong:
		if hasRest && rest == "" {
			return bad("trailing space")
		}
		l.Text = rest
	case Error:
		if rest == "" {
			return bad("ERROR needs a text")
		}
		l.Text = rest
	case Room:
		fields := strings.SplitN(rest, " ", 3)
		if len(fields) != 3 || fields[2] == "" {
			return bad("ROOM needs a room, a user and a text")
		}
		l.Room, l.User, l.Text = fields[0], fields[1], fields[2]
	case Private:
		user, text, _ := strings.Cut(rest, " ")
		if text == "" {
			return bad("PRIVMSG needs a user and a text")
		}
		l.User, l.Text = user, text
	case Joined, Left:
		fields := strings.Split(rest, " ")
		if len(fields) != 2 {
			return bad(word + " needs a room and a user")
		}
		l.Room, l.User = fields[0], fields[1]
	case UserList, RoomList, CapsList:
		if hasRest {
			l.List = strings.Split(rest, " ")
		}
	case Message, Stored:
		fields := strings.SplitN(rest, " ", 5)
		if len(fields) != 5 || fields[4] == "" {
			return bad(word + " needs an ID, a time, a room, a user and a text")
		}
		id, ok := parseMsgID(fields[0])
		if !ok {
			return bad("invalid message ID")
		}
		if !ValidMsgTime(fields[1]) {
			return bad("invalid message time")
		}
		l.ID, l.Time, l.Room, l.User, l.Text = id, fields[1], fields[2], fields[3], fields[4]
	}
	if l.Room != "" || kind == Room || kind == Joined || kind == Left || kind == Message || kind == Stored {
		if !ValidRoom(l.Room) {
			return bad("invalid room name")
		}
	}
	if kind == Room || kind == Private || kind == Joined || kind == Left || kind == Message || kind == Stored {
		if !ValidUsername(l.User) {
			return bad("invalid username")
		}
	}
	for _, n := range l.List {
		if kind == UserList && !ValidUsername(n) || kind == RoomList && !ValidRoom(n) || kind == CapsList && n == "" {
			return bad("invalid name in list")
		}
	}
	return l, nil
}
