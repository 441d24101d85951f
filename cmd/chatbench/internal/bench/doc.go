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
// The server's CPU time (utime+stime of /proc/PID/stat) and RSS are read
// just before the senders start and just after the drain barrier, when the
// PID is known: the server was started by -exec, or -pid was given.
//
// # The idle scenario
//
// -idle N opens N connections registered as idle<i>, reads the server's RSS
// before and after, holds them for -hold (while the load scenario runs, if
// there is one), then checks that each still answers PING.
package bench
