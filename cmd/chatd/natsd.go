package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"roomchat.dev/roomchat/impl/cluster"
)

// runNATS is "chatd nats": the NATS server with JetStream that the nodes
// of a cluster share, run as a process of its own instead of inside node 1
// (-cluster-embedded). It is the same server -cluster-embedded runs; a
// separate process is what the conformance suite stops and starts to make
// the cluster's log unreachable (chatconform -cluster-log). It serves until
// ctx ends (SIGTERM or SIGINT), then shuts down. It returns the exit
// status: 2 for bad usage, 1 if the server could not start.
//
//	chatd nats -addr host:port [-store dir]
func runNATS(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatd nats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:4222", "`host:port` to listen on")
	store := fs.String("store", "", "`dir` of the JetStream store, kept across restarts; default: a temporary directory, removed at exit")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: chatd nats [-addr host:port] [-store dir]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := cluster.StartEmbedded(cluster.EmbeddedConfig{Addr: *addr, StoreDir: *store, Logger: logger})
	if err != nil {
		fmt.Fprintf(stderr, "chatd nats: %v\n", err)
		return 1
	}
	logger.Info("nats: serving", "url", srv.URL(), "store", srv.StoreDir())
	<-ctx.Done()
	logger.Info("nats: shutting down", "cause", context.Cause(ctx))
	srv.Shutdown()
	return 0
}
