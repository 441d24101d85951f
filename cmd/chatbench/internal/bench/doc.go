// Package bench is chatbench, a load generator for roomchat servers
// (PROTOCOL.md). It speaks the protocol over TCP only, so it can measure
// any server; it imports nothing of this module but spec.
//
// # The load scenario
//
// Client i registers as bench<i> and joins room #bench<i mod R>. The
// senders are clients 0..S-1, hence spread round-robin over the rooms as
// evenly as the clients. The phases are separated by PING/PONG barriers
// (PING-2), never by sleeps:
//
//  1. setup: each client sends USERNAME, JOIN and PING 1 and waits for its
//     PONG, which shows both were accepted;
//  2. settle: PING 2 to every client; each PONG shows that the client has
//     received every JOIN note (and exactly members-1 of them);
//  3. send: the senders start together; sender k sends MSG lines whose
//     payload holds its id, a sequence number and the send time (payload.go),
//     flat out (batched writes) or paced (one write per line), then PING 3;
//     its PONG shows the server has processed all its lines;
//  4. drain: PING 4 to every client; each PONG shows the client has received
//     every line meant for it.
//
// Each client's reader checks every ROOM line as it arrives (receiver.go):
// it must be a line some sender of its room sent, byte for byte, arriving
// once and in that sender's order. After the drain barrier, what never
// arrived is lost. Latency is receive time minus the payload's send time,
// on the same machine's clock.
//
// The server's CPU time (utime+stime of /proc/PID/stat, with stime, the
// kernel's part, also on its own) and RSS are read just before the
// senders start and just after the drain barrier, when the PID is known:
// the server was started by -exec, or -pid was given. A comparison also
// reports what a system call and a page fault cost on the machine
// (machine.go), since the kernel's part moves with them.
//
// # The stall scenario
//
// -stalled K (with -rooms 1) adds K members stalled0..K-1 to the load's
// room once the healthy members have joined. Each asks for a small receive
// buffer before it connects, reads up to the PONG after its JOIN and never
// reads again; the first -stalled-senders of them send their lines like the
// healthy senders, paced in between them. They are not checked for
// deliveries, and the healthy members' checks and latency are as above
// (their lines reach the healthy members and are checked, but neither
// counted as lost nor in the latency). For each stalled member the report
// gives when the server dropped it (its LEAVE note at the first healthy
// member, its socket seen failing), the bytes the server had addressed to
// it by then, what the kernels held of them (/proc/net/tcp, sampled every
// 20 ms), and an estimate of the time from its pending output passing
// -max-queue-bytes to the drop (stall.go says how).
//
// -timeline FILE writes the healthy members' latency over the run, by send
// time in 10 ms buckets, and the stalled members' disconnects, as CSV
// (timeline.go gives the format; benchplot -timeline draws it).
//
// # The flood scenario
//
// -flooders F (with -rooms 1) adds F members flooder0..F-1 to the load's
// room after the healthy and stalled members. From the start of sending
// until the last healthy sender's PONG, each sends lines as fast as the
// server takes them (batched writes, each blocking until the kernel takes
// it), then stops. They read what they are sent, counting only their own
// lines coming back: the echoes that had arrived when sending ended, over
// its duration, are the rate at which the server took a flooder's lines,
// which a server's per-client rate limit (chatd -line-rate) should hold
// down. Their lines reach the healthy members, which check them like the
// stalled senders' (once, intact, in order; not lost, not in the latency).
//
// # The multi-room scenario
//
// -rooms-per-user K (PROTOCOL.md 13.4) makes the load's clients enable
// rooms: client i sends CAPS rooms before its USERNAME and joins K of the
// R rooms, #bench<(7i+j) mod R> for j = 0..K-1 (with another prime than 7
// if 7 divides R), so that each room gets about N·K/R members, the
// members of two rooms overlap without being the same, and those who
// share a room are not neighbours in the pacing of -rate (multi.go). Sender i sends its line seq to the j-th of its
// rooms for j = seq mod K, as MSG <room> <payload>. A client receives,
// of every sender it shares a room with, the lines sent to the rooms they
// share, and checks them as above (once, intact, in the sender's order,
// and in the room the line was sent to); the phases, barriers and figures
// are the load scenario's. The settle barrier checks one JOIN line per
// other member of each of a client's rooms. It is a scenario of its own:
// not with -stalled or -flooders.
//
// # A cluster
//
// -nodes N (with -exec) starts N chatd nodes of one cluster
// (docs/cluster.md): node 1 with -cluster-embedded on a free loopback port,
// so that it runs the cluster's NATS server, then each other node with
// -cluster pointing at it, each once the one before answers PING; they are
// stopped in the reverse order. -addrs names the running nodes of a
// cluster instead (and -pids their processes). Either way the load
// scenarios run as above, but load client i connects to node i mod N, so
// that the nodes share the clients, the senders and the members of each
// room evenly (with -rooms R and no -rooms-per-user, a room's members are
// the clients i ≡ r mod R, all on one node if N divides R). Every barrier
// holds across nodes: a node answers a PING once it has applied every
// entry of the stream before it, so the PONGs of the settle and drain
// phases come after every JOIN and every line of the senders, whose own
// PONGs came first. The CPU time and memory of every node are read as of
// one server; the report gives each node's, over all deliveries (so that
// they add up) and over its own clients' deliveries, and their sum, node
// 1's including the NATS server in it. The latency is also given apart for
// the deliveries whose sender was on the receiver's node and for the
// others (cross-node). The stalled members, flooders and idle connections
// need one server.
//
// # The idle scenario
//
// -idle N opens N connections registered as idle<i>, reads the server's RSS
// before and after, holds them for -hold (while the load scenario runs, if
// there is one), then checks that each still answers PING. With
// -idle-rooms R, each also joins #idle<i mod R> and, from a reader
// goroutine of its own, reads everything it is sent, as a client would;
// once all have joined, a PING to each shows, at its PONG, that it has a
// JOIN line for every other member of its room (roster and notes), and the
// report gives the lines delivered and the server's CPU time from the
// first connection to then. -idle-serial sets the connections up one after
// another: the join storm, whose cost is quadratic by the
// protocol (JOIN-4, JOIN-5).
//
// # The plain dialect
//
// -dialect plain drives a relay with no names and no rooms, which sends
// every line to every other connection, such as bench/floor (plain.go
// gives the details): the lines are the bare payloads, so sender and
// number travel in the payload, and the checks are the load scenario's
// (once, intact, in the sender's order; a client's own lines must not come
// back). A relay has no PING: the phases are marked by BARRIER lines of
// client 0, sent until every other client has one, and by each sender's
// END line after its last. The idle connections only connect, and a
// connection of chatbench's own sends BARRIER lines until each has one.
//
// # Comparisons and scenarios
//
// -floor CMD runs the same work against the plain relay CMD starts and
// against the server of -exec, alternating, for -reps rounds (3), and
// reports each figure's median and its ratio to the floor's in the same
// round (compare.go). With -idle-rooms and no load, the connections in
// rooms are also compared with as many in the lobby. -scenario sets the
// defaults of a row of the table of BENCHMARKS.md, "Close to the floor" (scenario.go): flat, many, paced,
// sparse, idle, joinstorm.
//
// # Profiles
//
// -profile DIR, with an -exec command that has {pprof} (chatd -pprof
// {pprof}), fetches from the server's net/http/pprof a CPU profile and the
// allocations over -profile-seconds from the start of sending, and the
// heap at the end of the run; for idle connections, the CPU profile from
// the start of their setup and the heap after the hold (profile.go).
package bench
