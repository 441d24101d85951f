package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"roomchat.dev/roomchat/conformance"
)

// A server is one target of the suite: a name (for a matrix), and either a
// running server's address or a command that starts one per script.
type server struct {
	name     string
	addr     string // -addr
	exec     string // -exec
	manifest string // -manifest, for a server of a -servers file
	// clusterNodes (-cluster-nodes): exec starts each node of a cluster of
	// that many, after clusterLog (-cluster-log) has started their service.
	clusterNodes int
	clusterLog   string
}

// describe is how the report names the target: "-exec 'command'" or
// "-addr host:port".
func (s server) describe() string {
	if s.exec != "" {
		return "-exec " + shellQuote(s.exec)
	}
	return "-addr " + s.addr
}

// config completes base with the target.
func (s server) config(base conformance.Config, startTimeout time.Duration) (conformance.Config, error) {
	cfg := base
	cfg.Addr = s.addr
	if s.exec != "" && s.clusterNodes > 0 {
		start, err := conformance.ExecCluster(conformance.ClusterConfig{
			Nodes: s.clusterNodes, Node: s.exec, Log: s.clusterLog, Ready: startTimeout, Dialer: base.Dialer,
		})
		if err != nil {
			return cfg, err
		}
		cfg.Start, cfg.ClusterNodes, cfg.ClusterLog = start, s.clusterNodes, s.clusterLog != ""
	} else if s.exec != "" {
		start, err := conformance.ExecServerOver(s.exec, startTimeout, base.Dialer)
		if err != nil {
			return cfg, err
		}
		cfg.Start = start
	}
	return cfg, nil
}

// A suiteRun is what one server's run produced.
type suiteRun struct {
	server  server
	seed    uint64
	strict  bool
	started time.Time
	results []conformance.Result
	sum     conformance.Summary
}

// runSuite runs the scripts, and the model checker if asked, against one
// server, printing each result as it comes (as text, prefixed by prefix,
// or as JSON), and returns the run. The status is exitUsage or
// exitUntestable if the suite could not run, else exitPass.
func runSuite(o options, cfg conformance.Config, target server, prefix string, stdout, stderr io.Writer) (suiteRun, int) {
	run := suiteRun{server: target, seed: cfg.Seed, strict: cfg.Strict, started: time.Now()}
	runner, err := conformance.NewRunner(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "chatconform: %v\n", err)
		return run, exitUsage
	}
	defer runner.Close()
	if err := runner.Preflight(); err != nil {
		fmt.Fprintf(stderr, "chatconform: cannot test %s: %v\n", target.describe(), err)
		return run, exitUntestable
	}
	if o.concurrent > 0 {
		if err := preflightNodes(cfg, o.nodeAddrs); err != nil {
			fmt.Fprintf(stderr, "chatconform: cannot test %v\n", err)
			return run, exitUntestable
		}
	}
	tty := isTerminal(stdout)
	if !o.jsonOut {
		fmt.Fprintf(stdout, "%schatconform: %d scripts against %s (seed %d)\n", prefix, len(runner.Selected()), target.describe(), cfg.Seed)
	}
	var saveErrs []error
	show := func(r conformance.Result, done, total int) {
		if o.jsonOut {
			conformance.WriteJSON(stdout, r)
			return
		}
		line := conformance.ResultLine(r)
		if tty && total > 0 {
			line = fmt.Sprintf("[%d/%d] %s", done, total, line)
		}
		fmt.Fprintln(stdout, prefix+line)
		if detailed(r.Status) || o.verbose && r.Log != "" {
			fmt.Fprint(stdout, conformance.Details(r))
		}
	}
	run.results = runner.RunAll(func(done, total int, r conformance.Result) {
		show(r, done, total)
		if (r.Status.Failed() || r.Status == conformance.NonStrict) && o.saveDir != "" {
			if err := conformance.SaveFailure(o.saveDir, r); err != nil {
				saveErrs = append(saveErrs, err)
			}
		}
	})
	if o.model > 0 {
		log := stdout
		if o.jsonOut {
			log = io.Discard
		}
		r := runModel(modelRun{
			cfg: cfg, exec: target.exec, checks: o.model, saveDir: o.saveDir, verbose: o.verbose, log: log,
			noPing: !slices.Contains(runner.Tags(), "ping"), tags: runner.Tags(),
		})
		run.results = append(run.results, r)
		show(r, 0, 0)
	}
	if o.concurrent > 0 {
		log := stdout
		if o.jsonOut {
			log = io.Discard
		}
		r := runConcurrent(concurrentRun{cfg: cfg, nodes: o.nodeAddrs, clients: o.concurrent, histories: o.histories, saveDir: o.saveDir, log: log})
		run.results = append(run.results, r)
		show(r, 0, 0)
	}
	for _, err := range saveErrs {
		fmt.Fprintf(stderr, "chatconform: -save-failures: %v\n", err)
	}
	run.sum = conformance.Summarize(cfg.Seed, run.results)
	return run, exitPass
}

// detailed reports whether a result of status s is printed with its
// report: failures, and the misses that are reported without failing.
func detailed(s conformance.Status) bool {
	return s.Failed() || s == conformance.XFail || s == conformance.NonStrict
}
