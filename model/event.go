package model

import "fmt"

// ClientID names one connection. The caller chooses IDs; an ID is not reused
// while its connection is open.
type ClientID int

// EventKind is what happened to a client, or to the server.
type EventKind uint8

// The events a server reacts to.
const (
	// Connect: a client opened a connection (FRAME-1, LIMIT-1).
	Connect EventKind = iota + 1
	// Line: a complete line arrived; Event.Line holds it without terminator.
	Line
	// LineTooLong: a line exceeded spec.MaxLineLen (FRAME-5).
	LineTooLong
	// Disconnect: the connection ended without QUIT (DISC-1).
	Disconnect
	// Overflow: the client became a slow consumer (LIMIT-4).
	Overflow
	// Idle: the client's idle timeout expired (LIMIT-7).
	Idle
	// Shutdown: the server is shutting down (SHUT-1); the ClientID is ignored.
	Shutdown
	// Restart: the server shuts down as for Shutdown and starts again,
	// keeping what HIST-5 says survives (PROTOCOL.md 1.2, "server:
	// restart"); the ClientID is ignored.
	Restart
	// Time: the server's clock reads Event.Time from now on (PROTOCOL.md
	// 1.2, "server: time T"); the ClientID is ignored. The clock may step
	// back (HIST-1).
	Time
)

var eventNames = map[EventKind]string{
	Connect: "connect", Line: "line", LineTooLong: "line-too-long",
	Disconnect: "disconnect", Overflow: "overflow", Idle: "idle", Shutdown: "shutdown",
	Restart: "restart", Time: "time",
}

func (k EventKind) String() string {
	if n, ok := eventNames[k]; ok {
		return n
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is one input to the model.
type Event struct {
	Kind EventKind
	Line string // for Line only
	// Time is for Time only: the clock's new reading, a msg-time of
	// PROTOCOL.md 13.3 such as "2026-12-01T09:00:00.000Z" (see
	// spec.FormatMsgTime). A Time event whose Time is not a msg-time
	// changes nothing.
	Time string
}

func (e Event) String() string {
	switch e.Kind {
	case Line:
		return fmt.Sprintf("line %q", e.Line)
	case Time:
		return fmt.Sprintf("time %q", e.Time)
	}
	return e.Kind.String()
}

// Output is one effect of an event: a line sent to a client, or the server
// closing a client's connection. Outputs are in the order the server queues
// them; only the order of each client's own outputs is significant (ORDER-2).
type Output struct {
	To    ClientID
	Line  string // a server line without its terminator; "" when Close
	Close bool   // the server closes To's connection after the lines before it
}

func (o Output) String() string {
	if o.Close {
		return fmt.Sprintf("%d: (closed)", o.To)
	}
	return fmt.Sprintf("%d< %s", o.To, o.Line)
}
