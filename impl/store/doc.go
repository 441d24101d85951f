// Package store keeps the server's durable state in one SQLite file: the
// registered accounts and the room messages, with the retention rules that
// bound how many messages are kept and for how long.
//
// The server's event loop owns all chat state and must never wait on disk,
// so it does not call [DB] directly while serving. It talks to a [Writer]
// and a [Reader] instead: each owns one goroutine and a bounded queue, the
// loop submits work with non-blocking Try methods that return false when the
// queue is full, and each result comes back on a channel the loop selects on
// ([Committed], [Fetched]), tagged with an opaque token the loop chose.
//
// The synchronous methods of [DB] ([DB.Load] at start, [DB.Apply],
// [DB.Fetch], [DB.Trim], and the operator helpers [DB.SetPassword] and
// [DB.DeleteAccount]) are for start-up, for the operator subcommand, and for
// the two goroutines above.
//
// # One process at a time
//
// [Open] holds SQLite's exclusive lock (locking_mode=EXCLUSIVE) for as long
// as the [DB] is open, so a second process — another chatd, or the operator
// subcommand while the server runs — fails with [ErrInUse] instead of
// sharing the file. The price is that the file has exactly one SQLite
// connection inside this process too: the [Writer] and the [Reader] take
// turns on it (a fetch waits for a write batch that is being committed, and
// the other way round), which costs the loop nothing because neither
// goroutine is the loop. See [DB] for the details.
//
// Names and rooms are compared by their [spec.Fold]: an account is keyed by
// its folded name and a message's room is matched by its folded room, while
// both are stored as spelled.
package store
