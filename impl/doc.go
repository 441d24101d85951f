// Package impl is the reference server of the roomchat protocol
// (PROTOCOL.md), usable as a library:
//
//	srv, err := impl.Open(impl.Config{Logger: logger, Offer: spec.AllExt, DB: "chat.db"})
//	...
//	go srv.Serve(listener)
//	...
//	srv.Shutdown(ctx)
//
// # Goroutines
//
// One goroutine, the loop (loop.go), owns every user, every room and every
// connection's chat state; it runs a select over the events of the other
// goroutines and applies them one at a time, which is exactly the single
// order of ORDER-1. No mutex guards chat state.
//
// Each connection has one or two more goroutines:
//
//   - its reader (reader.go) frames lines with spec.LineReader and hands them
//     to the loop one at a time, waiting for the loop to take each before it
//     reads the next. That makes reading fair among clients and lets the loop
//     slow a sender simply by not taking its line yet (flow.go), within the
//     stall budget of LIMIT-9; under Config.LineRate it also waits for a
//     token of the client's bucket (ratelimit.go). Between lines it holds
//     no buffer: it waits for the socket to become readable and only then
//     takes a line reader from a pool.
//   - its writer (writer.go), only while there is output: it drains the
//     connection's bounded output queue (queue.go), copying everything
//     pending into one buffer and writing it with one system call, and
//     exits when the queue is empty. Writers start when the loop's turn is
//     done, so a turn costs a client one write at most; the clients a turn
//     writes to share writer goroutines, 64 each, that write without
//     waiting, and a client whose socket is full, or whose output keeps
//     coming, gets a writer goroutine of its own.
//     The loop only appends to queues and starts writers; it never touches a
//     socket for writing, so a client that reads slowly never delays anyone
//     else beyond the stall budget (LIMIT-3), and a client whose queue
//     would pass MaxQueueBytes is reset at once (LIMIT-8). Output to a client written to within the last
//     Config.CoalesceDelay that is not a reply to its own line waits for the
//     loop's flush timer, so that a busy client gets few, full writes
//     (flush.go).
//
// An idle connection thus costs one goroutine, its socket and a few hundred
// bytes of state, however busy it once was: once a burst is over, the loop
// has the memory it took returned to the operating system (memory.go);
// BENCHMARKS.md has the figures.
//
// # The life of a connection
//
// The loop keeps each client's phase (lifecycle.go): open; doomed, a slow
// consumer to be reset once the current item is done; mute, its socket
// failed for writing while lines it sent are still to be processed; and
// closed, forgotten. Every close has a cause, a CloseReason and a detail
// for the log, and the reason alone decides how the connection ends
// (closeRules): what is queued is written before a graceful close for
// Quit, Disconnected, IdleTimeout and Shutdown, and dropped with a reset
// for SlowConsumer; output already dropped is not written.
//
// The path of one line: socket → reader (spec.LineReader, bounded) → loop:
// framing checks, spec.ParseCommandWith, the flow-control gate, the command
// table (commands.go) → each affected client's line formatted once by spec
// and the same bytes appended to every recipient's queue → writers.
//
// # Extensions
//
// Config.Offer names the extensions of PROTOCOL.md section 13 the server
// offers; a connection enables some of them with CAPS in NEW (ext.go), and
// the words its lines may begin with follow from that (loop.words,
// spec.ParseCommandWith): a connection that enables nothing is served the
// core protocol exactly, on any server (CAPS-3). Each recipient gets each
// room message in its own form, each form formatted once per message and
// shared: the ROOM line for core connections, the MESSAGE line for those
// that enabled history (roomMsg, history.go); the replay of JOIN-6 keeps
// the message, ID and time included, so a newcomer gets its own form too.
//
// A connection that enabled rooms (PROTOCOL.md 13.4, multi.go) is in up
// to Config.MaxRooms rooms at once; every client keeps its rooms in the
// order it joined them (client.rooms), and a core connection is simply
// one that is in one at most, with JOIN leaving it first (JOIN-3). On a
// connection that enabled rooms, JOIN, LEAVE, MSG and USERS go through
// entries of their own in the dispatch table (roomsCommands), and the last
// three name the room they act on: the server keeps no current room. The end of a connection leaves its rooms
// in join order, in the one item of DISC-4 (leaveAll), so each member
// hears the LEAVE notes of the rooms it shared in that order. Everything
// else is per client, whatever its rooms: one output queue, to which the
// lines of all its rooms are appended in the one order of ORDER-1, and
// one stall budget; a hot client (flow.go) counts as hot in every room it
// is in, so that a line into any of them waits for it.
//
// The loop gives room messages their IDs in the order it processes them,
// from a counter that starts above the last ID of the database, and their
// times from Config.Now (the wall clock, which the timeouts never read),
// truncated to the millisecond and never before the previous message's
// (HIST-1).
//
// Without a database (Config.DB empty), accounts and stored history live
// in the loop (accounts.go, msgstore.go): a HISTORY is answered inside its
// turn, since nothing waits on a disk. With one, Open opens the SQLite file
// and loads the accounts and the last ID before anything runs, and any
// error stops it (never a silent fresh start); then room messages,
// accounts and new passwords go to the store's Writer, and fetches to its
// Reader (impl/store), both asynchronous. Shutdown closes the pool, the
// Writer (which commits what is queued), the Reader and the database after
// the loop has stopped. The operator's tools (ResetPassword, DeleteAccount,
// admin.go) open the file themselves, so they fail while a server holds it.
//
// # Lines that take a while
//
// A password is hashed or verified on a pool of two goroutines
// (passwd.Pool), outside the loop: argon2id with passwd.Default takes 19 MiB
// a hash, so at most 38 MiB more than the bound of PROTOCOL.md 8.5. With a
// database, a room message is processed (ORDER-1) only when the Writer
// reports its commit: fan-out and echo happen then, in the order of the
// IDs, and a message that cannot be stored is answered "ERROR Storage failed"
// and delivered to no one (HIST-5); REGISTER and PASSWORD wait for their
// commit before their OK too. A HISTORY asks the Reader for the messages
// processed so far (store.Query.Upto) and is answered when the result
// comes; what other lines queue to its sender meanwhile is held and
// follows the reply, so that its sender receives it in the order of
// ORDER-1 (loop.hold).
//
// Such a line is the client's task (async.go): the loop hands the work over
// with a Try method that never blocks and keeps the line; the result comes
// back on a channel the loop selects on, and only when the line is complete
// is the client's reader resumed, as for a line that flow control
// postpones. So the client's later lines, and the end of its stream
// (DISC-3), are processed after it, and nobody else waits. A full queue
// keeps the line on a backlog, in order, and the loop submits it again
// when a result of that queue comes back: its sender is paced on its own
// account (LIMIT-9). Since a connection has at most one line in flight,
// the queues and backlogs together hold at most one line per connection,
// within the MaxLineLen per connection of the bound of PROTOCOL.md 8.5. A client closed as a slow consumer meanwhile is closed
// at once; when its message's commit comes, nothing is delivered, though
// the message is stored. On shutdown, tasks are abandoned.
//
// Failed logins slow their connection and their source address, never
// anyone else (ACCT-5, logins.go): after the n-th failure a connection's
// reader stays paused for LoginDelay·2^(n−1), at most LoginDelayMax; and a
// LOGIN from an address whose token bucket is empty waits, paused, for a
// token. One timer serves both, and the buckets of addresses that are full
// again are forgotten. A LOGIN of an unknown name is verified against
// passwd.DummyHash, so that its reply takes as long as any other. Logs
// name the user and the remote address, never a password: the debug
// record of a line that carries one is redacted.
//
// Requirement identifiers such as LIMIT-4 refer to PROTOCOL.md.
package impl
