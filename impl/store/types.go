package store

import "time"

// Message is one room message as stored. The loop assigns IDs: they are
// unique and grow with time, so that a client can page back through history
// by ID ([Query.Before]).
type Message struct {
	// ID identifies the message; 0 is not a valid ID, and IDs above
	// math.MaxInt64 cannot be stored (SQLite integers are signed).
	ID uint64
	// Time is when the server accepted the message. It is stored in UTC
	// with millisecond precision, and read back that way.
	Time time.Time
	// Room is the room as spelled in the message; it is matched by its
	// folded form (spec.Fold).
	Room string
	// User is the sender's name as spelled.
	User string
	// Text is the message text.
	Text string
}

// Account is a registered name and its password hash.
type Account struct {
	// Name is the name as spelled at registration; the account is keyed by
	// its folded form (spec.Fold), so "Alice" and "alice" are one account.
	Name string
	// Hash is the password hash as a PHC string. The store does not look
	// inside it.
	Hash string
}

// Snapshot is what the server loads at start: everything the loop keeps in
// memory from the database.
type Snapshot struct {
	// Accounts are all registered accounts, ordered by folded name.
	Accounts []Account
	// LastID is the highest message ID ever stored, even if that message
	// has since been trimmed, so that the loop never hands out an ID twice.
	// It is 0 for a new database.
	LastID uint64
	// LastTime is the latest message time ever stored, kept like LastID,
	// so that a server whose clock stepped back while it was stopped still
	// never gives a message an earlier time than one before it (HIST-1).
	// It is the zero time for a new database.
	LastTime time.Time
}

// Retention says which messages are kept. A message is kept when it passes
// both rules; [DB.Fetch] applies them exactly and [DB.Trim] deletes what
// they exclude.
type Retention struct {
	// Keep is how many messages are kept per room (rooms compared folded):
	// only the Keep messages with the highest IDs. 0 means no limit.
	Keep int
	// MaxAge is how long a message is kept: one whose Time is more than
	// MaxAge before the current time is gone. 0 means no limit.
	MaxAge time.Duration
}

// Query selects a page of one room's history. The bounds combine: a message
// is returned only if it passes every bound that is set, and the retention
// rules.
type Query struct {
	// Room is the room; it is compared folded (spec.Fold).
	Room string
	// Before, if not 0, selects only IDs < Before: the page before a
	// message the client already has.
	Before uint64
	// Upto, if not 0, selects only IDs <= Upto: for example the last ID
	// the loop knew to be committed when it asked, so that the page does
	// not depend on commits that land while the fetch waits its turn.
	Upto uint64
	// Limit is how many of the newest matching messages to return; 0 (or
	// less) means no limit.
	Limit int
	// Now is the current time, the reference for Retention.MaxAge.
	Now time.Time
}

// Batch is a set of changes that [DB.Apply] commits in one transaction:
// all of them or none.
type Batch struct {
	// Messages are inserted; an ID that is already stored is an error.
	Messages []Message
	// Put inserts or replaces accounts, keyed by folded name: a Put for
	// "ALICE" replaces the account "alice", name spelling included.
	Put []Account
	// Delete removes the accounts with these names (in any case); a name
	// with no account is not an error. Their messages are kept. Deletes
	// are applied after Put.
	Delete []string
}
