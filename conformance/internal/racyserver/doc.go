// Package racyserver is a second, independent server for PROTOCOL.md,
// written the way most first chat servers are written, so that a
// concurrent checker has something to bite on: with Races{} it is correct,
// and each field of Races switches on one real concurrency bug that a
// lockstep test (one step at a time, each step's output read before the
// next) cannot see, but that concurrent clients can trigger.
//
// It implements core (USERNAME, JOIN with roster and history, LEAVE, MSG
// and text lines, PRIVMSG, ROOMS, USERS, QUIT, disconnects and their
// LEAVE notes, framing with CRLF or LF), ping and input, through package
// spec. It has no output queues, no limits of section 8 and no shutdown
// notice: it is a test server, and it should listen on loopback only.
//
// # Design
//
// One goroutine per connection (client.go) reads lines with
// spec.LineReader, checks them (spec.CheckLine, spec.ParseCommand, the
// state checks of a command table) and handles each before it reads the
// next; at the end of the stream it processes the disconnect and closes
// the connection. Shared state has one mutex per structure, taken in this
// order:
//
//	Server.namesMu   the names map (folded name -> client)
//	Server.roomsMu   the rooms map (folded name -> room)
//	room.mu          one room's members (in join order) and history
//	client.wmu       one client's write side; several in order of client id
//
// Replies are written straight to the sockets, under the recipients'
// write locks, by the goroutine of the client whose line caused them.
//
// What makes the correct server correct is strict two-phase locking: an
// operation takes the locks of every structure it reads or changes, then
// the write locks of every client it writes to (outbox.flush, in order of
// id, so two operations never deadlock), writes everything, and only then
// releases anything. So the operations are serializable in one order that
// agrees with real time (ORDER-1, ORDER-4), every client receives its
// lines in that order (ORDER-2), and the end of a user (QUIT or
// disconnect) is one step (DISC-4): its LEAVE notes are written, its name
// freed and its connection marked dead under namesMu, roomsMu and its
// room's lock at once. A reply that depends on the client's own state
// only (a usage error, PONG, "Not in a room") takes its own write lock
// only. A write has a deadline (5 s); a client that accepts nothing that
// long is closed, and its goroutine then processes the disconnect. Stop
// closes the listener and every connection, which ends every read and
// every blocked write, and waits for the goroutines.
//
// After QUIT the server half-closes the connection, so that the client
// sees the end of the stream right after OK Goodbye!, and reads and
// discards what the client sends after it for at most a second before it
// closes, so that unread bytes do not turn the close into a reset.
//
// # The races
//
// Each race lets go of a lock between a check and the act that relies on
// it, and waits Races.Window (DefaultWindow, 200µs, if 0) there with
// time.Sleep; a race that is off costs nothing and the window is never
// waited. In a lockstep run no other operation is in flight during the
// window, so nothing can change; concurrent clients can. What a client can
// observe, each time in a way that no single order of ORDER-1 explains:
//
// NameCheckThenSet (username, commands.go): USERNAME checks under namesMu
// that the name is free, releases the lock, waits the window, then takes
// namesMu again and sets names[name] without checking again. Two clients
// that send USERNAME for one name within the window both receive "OK
// Welcome, <name>!". The map keeps the later one: a PRIVMSG to the name
// reaches only it, and when the earlier one leaves, the name stays taken
// (the entry is not its own); when the later one leaves, the name is freed
// although the earlier one still uses it.
//
// FanOutDuringLeave (msgRacy, rooms.go): a room message copies the member
// list under the room's lock, releases it, waits the window, then takes
// the lock again to record the line in the history and deliver it to the
// copy. A JOIN, LEAVE or disconnect in the window is not seen. A member
// that leaves then receives "OK Left <room>" followed by the ROOM line
// (and the others see its LEAVE note before the message); a member that
// left and is in another room receives a ROOM line of a room it is not in;
// a client that joins in the window gets neither the line in its history
// (not yet recorded) nor live (not in the copy), while the older members
// see its JOIN note and then the message.
//
// UnorderedFanOut (msgRacy and deliver, rooms.go): a room message holds
// the room's lock only for reading ("it only reads the member list"), so
// two messages of one room fan out at once. Each stages the line in each
// member's write buffer in turn, the sender's own echo first, taking and
// releasing one write lock at a time, with the window between two
// members, and then writes every member's buffer out. When two members
// send at once, each receives its own message first: alice sees "ROOM #r
// alice a" then "ROOM #r bob b", bob the reverse (ORDER-2), and the
// history holds one of the two orders. Any write to a member sends its
// buffer first, and unless another operation is in flight a message is
// written nowhere before it is staged everywhere, so a client that reacts
// to a message it has seen (ORDER-4, as the scripts ping_barrier and
// order_real_time do) cannot overtake it: only two operations in flight
// at once show the race. (Writing each member's line straight to its
// socket, with the window between members, was visible to ping_barrier:
// bob's PING, sent once alice had her echo, was answered before alice's
// message reached bob.) The conformance script order_same_for_all, whose
// three clients flood one room at once, does show the race (see the
// tests).
//
// StalePrivmsgTarget (privmsg, commands.go): PRIVMSG looks up the target's
// connection under namesMu, releases the lock, waits the window, then takes
// the lock again and checks that the name still exists, but not that it is
// still the same user's: a check by name, the classic mistake. If the
// target ended in the window and nobody took its name, the answer is
// "ERROR User not found", as it should be. If a new client took the name
// in the window, the sender is told "OK Sent" and the PRIVMSG line goes to
// the old connection, which is dead: it is dropped, and the new owner
// never gets the message, although the sender's line was processed after
// the new owner's welcome. Only a client that takes the name while the
// PRIVMSG is in flight shows it, which a lockstep checker never does. (A
// first version wrote to the old connection whether or not the name still
// existed; the lockstep checker's own probe, asking after a user who left
// without QUIT, saw "OK Sent" after the LEAVE note and caught it.)
//
// The races can be combined, but FanOutDuringLeave delivers under the
// room's write lock, which hides UnorderedFanOut.
package racyserver
