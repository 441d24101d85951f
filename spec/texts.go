package spec

import (
	"strconv"
	"strings"
)

// ERROR texts, exactly as PROTOCOL.md section 10 lists them.
const (
	ErrLineTooLong      = "Line too long"        // FRAME-5
	ErrInvalidUTF8      = "Invalid UTF-8"        // FRAME-7
	ErrInvalidCharacter = "Invalid character"    // FRAME-8
	ErrUsernameRequired = "Username required"    // STATE-2
	ErrUsernameTaken    = "Username taken"       // USER-2
	ErrInvalidUsername  = "Invalid username"     // NAME-1
	ErrUsernameSet      = "Username already set" // NAME-5
	ErrInvalidRoom      = "Invalid room name"    // NAME-2
	ErrAlreadyInRoom    = "Already in room"      // JOIN-1
	ErrNotInRoom        = "Not in a room"        // LEAVE-1, MSG-1, USERS-1
	ErrUserNotFound     = "User not found"       // PRIV-2
	ErrServerFull       = "Server full"          // LIMIT-2
	ErrIdleTimeout      = "Idle timeout"         // LIMIT-7
	ErrShuttingDown     = "Server shutting down" // SHUT-1
	// Section 13.
	ErrUnknownExt        = "Unknown extension"  // CAPS-2
	ErrInvalidPassword   = "Invalid password"   // ACCT-1, ACCT-4
	ErrAlreadyRegistered = "Already registered" // ACCT-1
	ErrLoginFailed       = "Login failed"       // ACCT-2
	ErrNotRegistered     = "Not registered"     // ACCT-4
	ErrWrongPassword     = "Wrong password"     // ACCT-4
	ErrStorageFailed     = "Storage failed"     // HIST-5
	ErrTooManyRooms      = "Too many rooms"     // MULTI-2
	ErrNotInThatRoom     = "Not in that room"   // MULTI-3, MULTI-4, MULTI-6
	ErrRoomRequired      = "Room required"      // MULTI-5
	// Section 14.
	ErrClusterUnavailable = "Cluster unavailable" // CLUSTER-7
)

// OK texts that do not depend on arguments.
const (
	OKSent    = "Sent"     // PRIV-3
	OKGoodbye = "Goodbye!" // QUIT-1
	// OKPasswordChanged answers a successful PASSWORD (ACCT-4).
	OKPasswordChanged = "Password changed"
)

// OKEnabled is the text of the reply to CAPS with names (CAPS-2): the
// names as given.
func OKEnabled(names []string) string { return "Enabled " + strings.Join(names, " ") }

// OKRegistered is the text of the reply to a successful REGISTER (ACCT-1).
func OKRegistered(name string) string { return "Registered " + name }

// OKHistory is the text of the line that ends a HISTORY reply (HIST-3):
// room as the command gave it, n the number of HISTORY lines. The word is
// always "messages".
func OKHistory(room string, n int) string {
	return "History " + room + " (" + strconv.Itoa(n) + " messages)"
}

// OKWelcome is the text of the reply to a successful USERNAME (USER-1).
func OKWelcome(name string) string { return "Welcome, " + name + "!" }

// OKJoined is the text of the reply to a successful JOIN (JOIN-4); others is
// the number of other members. The word is always "users" (D-9).
func OKJoined(room string, others int) string {
	return "Joined " + room + " (" + strconv.Itoa(others) + " users)"
}

// OKLeft is the text of the reply to a successful LEAVE (LEAVE-2).
func OKLeft(room string) string { return "Left " + room }

// Usage returns the usage error text of a command on a core connection
// (GRAM-2).
func Usage(k Kind) string { return UsageWith(k, 0) }

// UsageWith returns the usage error text of a command on a connection
// that enabled ext: with rooms, LEAVE, MSG and USERS name a room (13.4).
func UsageWith(k Kind, ext Ext) string { return "Usage: " + specOf(k, ext).usage }
