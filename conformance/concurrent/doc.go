// Package concurrent checks a server under clients that act at once.
//
// The lockstep checker (package modelcheck) sends one step, reads every
// line the model predicts and proves silence with a PING barrier before
// the next step: its verdicts are exact, but it never lets two clients'
// lines meet inside the server, so it cannot see a race. Here N clients
// (2 to 16) each run a random lane of lines (Generate), writing them with
// short pauses or none, without waiting for any answer (Run). Every line
// is recorded with the moment its write began, every line received with
// the moment it arrived, all on one clock. A closing barrier of two PING
// rounds makes the record complete.
//
// Check then searches for one serialization of all the items the server
// processed (each connection's opening and lines) that
//   - keeps each connection's own order (ORDER-1);
//   - agrees with real time where PROTOCOL.md promises it (ORDER-4): an
//     item comes after every item whose lines any client had received
//     before it was sent. This is what catches a server that answers a
//     PRIVMSG with OK Sent after the recipient's name passed to a new user:
//     the sender saw the new user's welcome, or the LEAVE of the old one,
//     before it sent. The check is exact, from the arrival times: a weaker
//     ordering (per client only) would accept that history;
//   - the model accepts, producing exactly the lines each connection
//     received, in order (ORDER-2), and nothing it did not receive.
//
// The search is porcupine's linearizability checker
// (github.com/anishathalye/porcupine) over a model whose state is the
// protocol model's state and, per connection, how many of its items are
// applied and how many of its arrivals they explain. An item's call is the
// start of its write; its return is a sound bound on when it was
// processed: the arrival of the PONG of the connection's next PING (lanes
// ping often, and the closing barrier pings every connection). The
// history is not partitioned, because ORDER-1 is one order over
// everything and names, PRIVMSG and ROOMS cross rooms; the real-time
// bounds keep the search small instead: thousands of operations check in
// milliseconds.
//
// A verdict is Ok, Illegal (no serialization: the server broke the
// protocol) or Unknown (the search ran out of time). Search runs many
// histories and shrinks the first Illegal one by running smaller programs
// again (a race shows only sometimes, so each is tried several times);
// WriteTimeline draws a history, one lane per client, with the point where
// no serialization goes further highlighted, and Failure.Script writes it
// as a conformance script that sends the same lines in the same order and
// ends with the serializable command, which runs this checker over what
// the script's clients sent and received (NewHistory): the race may show
// again, and a correct server always passes.
//
// A service may answer at several addresses, as the nodes of a cluster
// whose nodes apply every client's items in one total order (a replicated
// log) do: Target.Addrs or Target.StartNodes (chatconform -nodes) name
// them, and lane i's connections, the new one after a QUIT too, all go to
// node i mod their number (Program.Nodes; shrinking keeps each lane's
// node). The History records each connection's node (Conn.Node,
// History.Nodes), and the report, the transcripts, the timeline and the
// script's comment name it; a script's clients all connect to the one
// server under test. Nothing else changes: one serialization of
// everything every node processed must explain what every client
// received, which is what one log applied everywhere gives, if each node
// does what one server does, with the log's order for the server's: it
// answers an item (its reply, the PONG of a PING, the close after a QUIT)
// only once the item has its place in the order, and sends each
// connection the lines that items cause in that order. A PING is an item
// like any other: a node that answers it, or a read such as ROOMS or
// USERS, from its own replica without ordering it in the log may fail a
// history. A PONG sent before the items ahead of it in the log have been
// applied makes the closing barrier prove nothing; a read from a replica
// behind the log breaks ORDER-4 for real.
//
// Connections end with QUIT only; a connection that simply drops is not
// generated, since the moment the server notices it is not observable
// (DISC-3 gives it a window). Histories may share a server: each uses
// names and rooms of its own and ends with every connection's QUIT, and
// nobody else may use the server meanwhile (ROOMS lists every room).
package concurrent
