// Package cluster links chatd nodes into a replicated state machine through
// one totally ordered log: a NATS JetStream stream. Every node appends the
// events of its own clients to the log with [Link.TryPublish], and every
// node reads the whole log from its first entry on [Link.Entries] and
// applies each entry, in the log's order, to its own replica of the chat
// state. The order of the protocol is the stream's sequence. The package
// knows nothing of chat: entries are bytes.
//
// The server's loop never waits on the network: TryPublish only queues (a
// bounded queue; false when full), and everything else comes on channels
// that the loop selects on. Behind a [Link] are a publisher goroutine, a
// consumer goroutine and a monitor goroutine, which own all the waiting,
// retrying and reconnecting.
//
// # Guarantees
//
// While a Link runs (from [Dial] to [Link.Close]):
//
//   - One log for all. Entries carries every entry of the stream in stream
//     order, from sequence 1, without gaps or repeats, this node's own
//     entries included; so every node sees the same entries in the same
//     order. It goes on across reconnections and restarts of the NATS
//     server, resuming after the last entry delivered.
//   - One node's order. A node's entries are in the log in the order of its
//     TryPublish calls: the publisher stores one entry at a time.
//   - Exactly once. An entry that TryPublish accepted is stored once, unless
//     the Link is closed first; the publisher retries it, as long as NATS
//     is away, with the same message ID, and checks before each retry
//     whether it is stored already (see publish.go).
//   - No silent loss. If the stream is deleted, replaced by another of the
//     same name, or lacks entries (delivered ones, or ones still to
//     deliver), the Link says so with [ErrStreamLost] on [Link.Errors] and
//     delivers nothing more rather than deliver a different log.
//   - Failure detection. Nodes send heartbeats on core NATS (not stored).
//     [Link.Dead] reports, once, each node that was heard and then silent
//     for Config.DeadAfter; never this node, and nobody while this node is
//     itself disconnected (it could not hear them).
//   - Connection state. [Link.Up] reports when the connection to NATS is
//     lost and when it is back, so that the loop can answer its clients
//     with an error in between.
//
// Failure detection is not agreement: two nodes may report a death at
// different moments of the log, and a node that is reported dead may still
// run (a partition, a long pause). A loop that acts on Dead should publish
// the death as an entry, so that every replica applies it at the same
// position; and a node that finds itself declared dead in the log should
// stop and start again with a new node ID.
//
// Not guaranteed: that entries queued when Close is called are stored (the
// one being published may or may not be); that a stored entry survives a
// crash of the machine that runs NATS (JetStream syncs its files to disk
// every two minutes by default; a restart of the server loses nothing);
// any bound on latency.
//
// # The stream
//
// Dial creates the stream (Config.Stream, default "ROOMCHAT") if it does
// not exist: file storage, one replica, no limits (the log is replayed
// whole by every node that starts, so it only grows), deletes and purges
// denied, and a duplicate window (Config.Duplicates) for message IDs. It
// binds an existing stream if it stores the same subjects. A node publishes
// on "<Subject>.log.<node>"; the stream stores "<Subject>.log.*"; the
// heartbeats go to "<Subject>.hb.<node>". Every node reads the stream
// through ephemeral pull consumers of its own, so nodes never share or
// acknowledge anything.
//
// [Embedded] runs a NATS server with JetStream inside the process, for a
// single-machine cluster (chatd -cluster-embedded) and for tests.
package cluster
