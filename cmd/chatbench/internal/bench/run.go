package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Report is everything a run found.
type Report struct {
	Server   ServerInfo  `json:"server"`
	Load     *LoadResult `json:"load,omitempty"`
	Idle     *IdleResult `json:"idle,omitempty"`
	Problems []string    `json:"problems"` // each makes the run fail
	OK       bool        `json:"ok"`
}

// ServerInfo says which server was measured.
type ServerInfo struct {
	Addr    string `json:"addr"`
	PID     int    `json:"pid,omitempty"`
	Exec    string `json:"exec,omitempty"`
	Exit    string `json:"exit,omitempty"` // how the server started by -exec ended after SIGTERM
	NoFile  uint64 `json:"rlimit_nofile"`  // chatbench's open-file limit (inherited by -exec)
	Started string `json:"started"`        // start of the run, RFC 3339
	// Nodes are the nodes of a cluster (-nodes, -addrs), of which Addr and
	// PID above give the first.
	Nodes []NodeInfo `json:"nodes,omitempty"`
	// LoadAverage is the machine's 1-, 5- and 15-minute load averages
	// (/proc/loadavg) at the start and at the end of the run: how busy the
	// machine was besides. Empty where unknown.
	LoadAverage struct {
		Start []float64 `json:"start"`
		End   []float64 `json:"end"`
	} `json:"load_average"`
}

// Main runs chatbench with the given arguments and returns its exit code:
// 0 if every check passed, 1 if one failed, 2 if the run could not be made.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr, isTerminal(stderr))
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 2
	}
	if cfg.Version {
		printVersion(stdout)
		return 0
	}
	if cfg.compare() {
		return mainCompare(ctx, cfg, stdout, stderr)
	}
	rep, err := Run(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 2
	}
	if cfg.JSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 2
	}
	if !rep.OK {
		return 1
	}
	return 0
}

// mainCompare is Main for a comparison (compare.go).
func mainCompare(ctx context.Context, cfg Config, stdout, stderr io.Writer) int {
	cmp, err := Compare(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 2
	}
	if cfg.JSON {
		err = cmp.WriteJSON(stdout)
	} else {
		err = cmp.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: %v\n", err)
		return 2
	}
	if !cmp.OK {
		return 1
	}
	return 0
}

// Run performs the benchmark that cfg describes. Progress and, with
// cfg.Verbose, the output of a server it starts go to stderr. It returns an
// error if the run could not be completed; what it found wrong with the
// server is in Report.Problems.
func Run(ctx context.Context, cfg Config, stderr io.Writer) (*Report, error) {
	rep := &Report{Server: ServerInfo{Addr: cfg.Addr, PID: cfg.PID, Exec: cfg.Exec, Started: time.Now().Format(time.RFC3339)}}
	nofile, err := raiseNoFile()
	if err != nil {
		fmt.Fprintf(stderr, "chatbench: cannot raise RLIMIT_NOFILE: %v\n", err)
	}
	rep.Server.NoFile = nofile
	rep.Server.LoadAverage.Start = loadAverage()
	defer func() { rep.Server.LoadAverage.End = loadAverage() }()
	if conns := cfg.Clients + cfg.Stalled + cfg.Flooders + cfg.Idle; nofile != 0 && uint64(conns)+16 > nofile {
		return nil, fmt.Errorf("%d connections need more than the %d open files allowed (RLIMIT_NOFILE)", conns, nofile)
	}
	var timeline *os.File
	if cfg.Timeline != "" {
		// Created first, so that a bad name fails before the run.
		if timeline, err = os.Create(cfg.Timeline); err != nil {
			return nil, fmt.Errorf("-timeline: %w", err)
		}
		defer timeline.Close()
	}
	deadline := time.Now().Add(cfg.Timeout + cfg.Hold)
	prog := newProgress(stderr, cfg.Progress)
	defer prog.close()

	var verbose io.Writer
	if cfg.Verbose {
		verbose = stderr
	}
	nodes, stop, err := startNodes(ctx, &cfg, &rep.Server, verbose, deadline, prog)
	if err != nil {
		return nil, err
	}
	defer func() {
		prog.set("stop", func() string { return "" })
		stop()
	}()
	var idle *idleSet
	if cfg.Idle > 0 {
		idle = openIdle(ctx, &cfg, nodes[0], deadline, prog) // idle connections need one server
		defer idle.close()
	}
	if cfg.Clients > 0 {
		res, problems, err := runLoad(ctx, &cfg, nodes, deadline, prog)
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		rep.Load = res
		rep.Problems = append(rep.Problems, problems...)
		if timeline != nil {
			err := res.timeline.writeCSV(timeline, res.Stall.events())
			if cerr := timeline.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("-timeline: %w", err)
			}
		}
	}
	if idle != nil {
		res, problems := idle.finish(ctx, &cfg, nodes[0], deadline, prog)
		rep.Idle = res
		rep.Problems = append(rep.Problems, problems...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.OK = len(rep.Problems) == 0
	return rep, nil
}

// startNodes starts the server or the nodes of a cluster that cfg.Exec
// and cfg.Nodes describe, or takes those of cfg.Addr or cfg.Addrs, and
// says which in s. It returns them, and a function that stops those it
// started and records how they ended in s.
func startNodes(ctx context.Context, cfg *Config, s *ServerInfo, verbose io.Writer, deadline time.Time, prog *progress) ([]node, func(), error) {
	var nodes []node
	stop := func() {}
	switch {
	case cfg.Exec != "" && cfg.Nodes > 0:
		cl, err := startCluster(ctx, cfg, verbose, deadline, prog)
		if err != nil {
			return nil, nil, err
		}
		for k, srv := range cl.nodes {
			nodes = append(nodes, node{addr: srv.addr, pid: srv.pid})
			s.Nodes = append(s.Nodes, NodeInfo{Node: k + 1, Addr: srv.addr, PID: srv.pid, Exec: cl.cmds[k]})
		}
		s.Nodes[0].NATS = cl.nats
		stop = func() {
			cl.stop()
			for k, exit := range cl.exits {
				s.Nodes[k].Exit = exit
			}
			s.Exit = cl.exits[0]
		}
	case cfg.Exec != "":
		prog.set("start", func() string { return cfg.Exec })
		srv, err := startServer(ctx, cfg.Exec, "server", cfg.dialer(deadline), cfg.plain(), verbose, deadline)
		if err != nil {
			return nil, nil, err
		}
		nodes = []node{{addr: srv.addr, pid: srv.pid, pprof: srv.pprof}}
		stop = func() { s.Exit = srv.stop() }
	case len(cfg.Addrs) > 0:
		for k, a := range cfg.Addrs {
			n := node{addr: a}
			if len(cfg.PIDs) > 0 {
				n.pid = cfg.PIDs[k]
			}
			nodes = append(nodes, n)
			s.Nodes = append(s.Nodes, NodeInfo{Node: k + 1, Addr: a, PID: n.pid})
		}
	default:
		nodes = []node{{addr: cfg.Addr, pid: cfg.PID}}
	}
	s.Addr, s.PID = nodes[0].addr, nodes[0].pid
	return nodes, stop, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// loadAverage returns the 1-, 5- and 15-minute load averages of the
// machine, or nil if /proc/loadavg cannot be read.
func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return nil
	}
	var la []float64
	for _, s := range f[:3] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil
		}
		la = append(la, v)
	}
	return la
}
