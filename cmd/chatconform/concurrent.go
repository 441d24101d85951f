package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/concurrent"
)

// concurrentName is the name of the concurrent checker's result among the
// scripts'.
const concurrentName = "concurrent"

// concurrentRules are the rules a concurrent history checks beyond those of
// each command: one order for everything, the same for everyone, in real
// time.
var concurrentRules = []string{"ORDER-1", "ORDER-2", "ORDER-4", "USER-2", "DISC-1"}

// A concurrentRun is what -concurrent runs against the target of the
// scripts, or against the nodes of -nodes.
type concurrentRun struct {
	cfg       conformance.Config
	nodes     []string // -nodes: the clients are spread over them; nil: cfg's target
	clients   int
	histories int
	saveDir   string    // where to write a failure's timeline; "" for none
	log       io.Writer // progress
}

// runConcurrent runs the concurrent checker and reports it as one more
// result: on a failure, the shrunk program, each connection's transcript,
// why no serialization goes further, and where its timeline was saved.
func runConcurrent(c concurrentRun) conformance.Result {
	sc := &conformance.Script{Name: concurrentName, Tags: []string{"core", "ping"}, Rules: concurrentRules}
	start := time.Now()
	target := concurrent.Target{Dialer: c.cfg.Dialer}
	over := ""
	switch {
	case len(c.nodes) > 0:
		target.Addrs = c.nodes
		over = fmt.Sprintf(" over %d nodes", len(c.nodes))
	case c.cfg.Start != nil && c.cfg.ClusterNodes > 0:
		target.StartNodes = func() ([]string, func(), error) {
			srv, err := c.cfg.Start(nil)
			if err != nil {
				return nil, nil, err
			}
			return srv.(conformance.Cluster).NodeAddrs(), func() { srv.Stop() }, nil
		}
		over = fmt.Sprintf(" over %d nodes", c.cfg.ClusterNodes)
	case c.cfg.Start != nil:
		target.Start = func() (string, func(), error) {
			srv, err := c.cfg.Start(nil)
			if err != nil {
				return "", nil, err
			}
			return srv.Addr(), func() { srv.Stop() }, nil
		}
	default:
		target.Addr = c.cfg.Addr
	}
	st, err := concurrent.Search(target, concurrent.Options{
		Clients: c.clients, Histories: c.histories, Seed: c.cfg.Seed, Timeout: c.cfg.Timeout, Log: c.log,
	})
	r := conformance.Result{Script: sc, Status: conformance.Pass, Duration: time.Since(start),
		Reason: fmt.Sprintf("%d concurrent histories of %d clients%s, %d operations, %d lines received; checked in %v",
			st.Histories, c.clients, over, st.Ops, st.Received, st.CheckTime.Round(time.Millisecond))}
	if st.Unknown > 0 {
		r.Reason += fmt.Sprintf(" (%d undecided in time)", st.Unknown)
	}
	if err == nil {
		return r
	}
	r.Status, r.Reason, r.Log = conformance.Fail, "", err.Error()
	var f *concurrent.Failure
	if errors.As(err, &f) {
		r.Reason = "no serialization explains what the clients received"
		r.Log = f.Report()
		if c.saveDir != "" {
			if file, err := saveTimeline(c.saveDir, f); err != nil {
				r.Log += fmt.Sprintf("\ncould not save the timeline: %v\n", err)
			} else {
				r.Log += fmt.Sprintf("\ntimeline: %s\nreplay: chatconform -dir %s -run '^%s$' (a race shows again only sometimes)\n",
					file, shellQuote(c.saveDir), strings.TrimSuffix(filepath.Base(file), ".html"))
			}
		}
	}
	return r
}

// saveTimeline writes the failure's timeline into dir, and beside it the
// script that replays its history (chatconform -dir DIR -run NAME).
func saveTimeline(dir string, f *concurrent.Failure) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := fmt.Sprintf("concurrent-%d", f.Seed)
	if err := os.WriteFile(filepath.Join(dir, name+".txtar"), []byte(f.Script(name)), 0o644); err != nil {
		return "", err
	}
	file := filepath.Join(dir, name+".html")
	out, err := os.Create(file)
	if err != nil {
		return "", err
	}
	defer out.Close()
	title := fmt.Sprintf("A concurrent history with no serialization (seed %d)", f.Seed)
	if err := concurrent.WriteTimeline(out, f.History, f.Result, title); err != nil {
		return "", err
	}
	return file, out.Close()
}

// parseNodes parses -nodes: comma-separated host:port addresses, each
// with a numeric port.
func parseNodes(s string) ([]string, error) {
	var nodes []string
	for _, addr := range strings.Split(s, ",") {
		addr = strings.TrimSpace(addr)
		_, port, err := net.SplitHostPort(addr)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil {
			return nil, fmt.Errorf("-nodes: address %q is not host:port", addr)
		}
		nodes = append(nodes, addr)
	}
	return nodes, nil
}

// preflightNodes checks, as the pre-flight checks the target of the
// scripts, that each node of -nodes other than it can be tested: the
// concurrent checker's clients connect to them all. Its error names the
// node.
func preflightNodes(cfg conformance.Config, nodes []string) error {
	for i, addr := range nodes {
		if addr == cfg.Addr {
			continue
		}
		nc := cfg
		nc.Addr, nc.Start, nc.Scripts = addr, nil, nil
		r, err := conformance.NewRunner(nc)
		if err == nil {
			err = r.Preflight()
			r.Close()
		}
		if err != nil {
			return fmt.Errorf("node n%d (-nodes %s): %w", i+1, addr, err)
		}
	}
	return nil
}
