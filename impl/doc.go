// Package impl is the reference server of the roomchat protocol
// (PROTOCOL.md), usable as a library:
//
//	srv := impl.New(impl.Config{Logger: logger})
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
//     connection's bounded output queue (queue.go), coalescing everything
//     pending into one vectored write, and exits when the queue is empty.
//     The loop only appends to queues and starts writers; it never touches a
//     socket for writing, so a client that reads slowly never delays anyone
//     else beyond the stall budget (LIMIT-3), and a client whose queue
//     would pass MaxQueueBytes is reset at once (LIMIT-8). Output to a client written to within the last
//     Config.CoalesceDelay that is not a reply to its own line waits for the
//     loop's flush timer, so that a busy client gets few, full writes
//     (flush.go).
//
// An idle connection thus costs one goroutine, its socket and a few hundred
// bytes of state; BENCHMARKS.md has the figures.
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
// framing checks, spec.ParseCommand, the flow-control gate, the command
// table (commands.go) → each affected client's line formatted once by spec
// and the same bytes appended to every recipient's queue → writers.
//
// Requirement identifiers such as LIMIT-4 refer to PROTOCOL.md.
package impl
