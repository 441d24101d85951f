// Command chatbench is a load generator for roomchat servers (PROTOCOL.md).
// It connects many clients to a running server (-addr) or to one it starts
// (-exec), sends numbered, timestamped room messages, and checks that every
// receiver got each line exactly once, intact and in per-sender order. It
// reports throughput, latency percentiles and, given the server's PID, the
// server's CPU time per delivery and its memory per idle connection.
//
//	chatbench -exec 'chatd -addr 127.0.0.1:{port}' -clients 50 -senders 50 -lines 200
//	chatbench -addr 127.0.0.1:9999 -pid 1234 -idle 1000 -hold 5s
//	chatbench -exec 'chatd -addr 127.0.0.1:{port}' -clients 3 -senders 1 -rate 2500 -lines 25000 -size 480 -stalled 1
//
// With -stalled K, K members that stop reading join the room too, and the
// report says when the server dropped each and how the healthy members'
// latency fared (-timeline FILE: over time). With -flooders F, F members
// send as fast as the server takes their lines meanwhile, and the report
// says how many lines a second it took from each:
//
//	chatbench -exec 'chatd -addr 127.0.0.1:{port} -line-rate 1000' -clients 10 -senders 5 -rate 500 -lines 5000 -size 480 -flooders 1
//
// With -rooms-per-user K, every client enables rooms (PROTOCOL.md 13.4)
// and joins K of the -rooms rooms, and each sender sends to its rooms in
// turn with MSG <room> <text>:
//
//	chatbench -exec 'chatd -addr 127.0.0.1:{port}' -clients 200 -rooms 50 -rooms-per-user 5 -lines 100
//
// With -nodes N, it starts N chatd nodes of one cluster (docs/cluster.md)
// from the -exec command, node 1 running the cluster's NATS server, and
// connects client i to node i mod N; the report gives each node's CPU time
// and their sum, and the latency of lines from a sender on the receiver's
// node apart from those from another node. -addrs (with -pids) names the
// running nodes of a cluster instead:
//
//	chatbench -exec 'chatd -addr 127.0.0.1:{port}' -nodes 3 -clients 50 -senders 50 -lines 200 -rate 50
//	chatbench -addrs 127.0.0.1:9001,127.0.0.1:9002 -pids 4242,4243 -clients 200 -rooms 50 -rooms-per-user 5 -lines 100
//
// -dialect plain drives a relay with no names and no rooms, which sends
// every line to every other connection, such as the C floor of
// bench/floor; -floor runs the same load against such a relay and against
// the -exec server, alternating for -reps rounds, and reports medians and
// ratios; -scenario sets the defaults of a row of BENCHMARKS.md's "Close to the floor" (flat, many,
// paced, sparse, idle, joinstorm); -profile DIR fetches pprof profiles of
// a server started with {pprof} (chatd -pprof {pprof}):
//
//	chatbench -exec 'chatd -addr 127.0.0.1:{port} -max-queue-bytes 16777216' -floor 'bench/floor/floor.sh {port}' -scenario flat
//	chatbench -exec 'chatd -addr 127.0.0.1:{port}' -floor 'bench/floor/floor.sh {port}' -scenario idle
//	chatbench -exec 'chatd -addr 127.0.0.1:{port} -pprof {pprof}' -scenario sparse -profile /tmp/prof
//
// Run it with -h for every flag. It exits 1 if any line was lost,
// duplicated, reordered or garbled, or a check failed, and 2 on a usage or
// setup error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"roomchat.dev/roomchat/cmd/chatbench/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := bench.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
