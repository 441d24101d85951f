package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/modelcheck"
	"roomchat.dev/roomchat/spec"
)

// modelName is the name of the model checker's result among the scripts'.
const modelName = "model"

// A modelRun is what -model runs: the model-based checker against the
// target of the scripts.
type modelRun struct {
	cfg     conformance.Config // the scripts' target, seed and timeout
	exec    string             // the -exec command, if the target is one
	checks  int                // sequences to try
	saveDir string             // where to write a failing sequence as a script; "" for none
	verbose bool               // print the transcript of every sequence and the coverage table
	noPing  bool               // the server lacks the ping extension
	tags    []string           // the tags under test (section 13's steps run with caps)
	log     io.Writer          // where -v prints
}

// runModel runs the model checker and reports it as one more result. A
// pass says how many situations of the rules the sequences reached (with
// -v, the table of them); a failure is the shrunk sequence's report, once,
// with the rule it breaks and a command that runs it again.
func runModel(m modelRun) conformance.Result {
	ext, durable := modelcheck.Extensions(m.tags)
	sc := &conformance.Script{Name: modelName, Tags: modelTags(ext, durable), Rules: conformance.ModelCheckerRules}
	start := time.Now()
	target := modelcheck.Target{Addr: m.cfg.Addr, Dialer: m.cfg.Dialer}
	if m.cfg.Start != nil {
		// The servers started for the sequences, by address, so that a
		// sequence can restart its own (HIST-5).
		var mu sync.Mutex
		servers := map[string]conformance.Server{}
		target.Start = func() (string, func(), error) {
			srv, err := m.cfg.Start(nil)
			if err != nil {
				return "", nil, err
			}
			mu.Lock()
			servers[srv.Addr()] = srv
			mu.Unlock()
			return srv.Addr(), func() {
				mu.Lock()
				delete(servers, srv.Addr())
				mu.Unlock()
				srv.Stop()
			}, nil
		}
		target.Restart = func(addr string) (string, error) {
			mu.Lock()
			srv := servers[addr]
			mu.Unlock()
			r, ok := srv.(conformance.Restarter)
			if !ok {
				return "", fmt.Errorf("the server at %s cannot be restarted", addr)
			}
			if err := r.Restart(false); err != nil {
				return "", err
			}
			mu.Lock()
			delete(servers, addr)
			servers[r.Addr()] = r
			mu.Unlock()
			return r.Addr(), nil
		}
	}
	res, err := modelcheck.Run(target, modelcheck.Options{
		Checks:  m.checks,
		Seed:    m.cfg.Seed,
		SaveDir: m.saveDir,
		Verbose: m.verbose,
		Log:     &syncWriter{w: m.log},
		Timeout: m.cfg.Timeout,
		NoPing:  m.noPing,
		Ext:     ext,
		Durable: durable,
	})
	cov := res.Coverage
	r := conformance.Result{Script: sc, Status: conformance.Pass, Duration: time.Since(start),
		Reason: fmt.Sprintf("%d random sequences, %d steps; %s", cov.Sequences(), cov.Steps(), cov.Summary())}
	if m.verbose {
		r.Log = cov.String()
	}
	if err == nil {
		sc.Rules = nil
		for _, rule := range cov.Rules() {
			if cov.Rule(rule) > 0 {
				sc.Rules = append(sc.Rules, rule)
			}
		}
		return r
	}
	r.Status, r.Reason, r.Log = conformance.Fail, "", err.Error()
	var f *modelcheck.Failure
	if errors.As(err, &f) {
		if f.Rule != "" {
			sc.Rules = []string{f.Rule}
		}
		r.Reason = f.Summary
		r.Log = f.Details() + "to run this sequence again: " + m.reproduce(f) + "\n"
	}
	return r
}

// modelTags are the tags of the checker's result: those of the steps it
// draws.
func modelTags(ext spec.Ext, durable bool) []string {
	tags := []string{"core", "ping", "input"}
	if ext != 0 {
		tags = append(tags, "caps")
		tags = append(tags, ext.Names()...)
	}
	if durable {
		tags = append(tags, "durable")
	}
	return tags
}

// reproduce is the command that runs a failed sequence again, first: the
// same target and the same flags, the sequence's own seed, and no scripts.
func (m modelRun) reproduce(f *modelcheck.Failure) string {
	args := []string{"chatconform"}
	if m.exec != "" {
		args = append(args, "-exec", shellQuote(m.exec))
	} else {
		args = append(args, "-addr", m.cfg.Addr)
	}
	args = append(args, "-run", "'^$'")
	if len(m.cfg.Tags) > 0 {
		args = append(args, "-tags", strings.Join(m.cfg.Tags, ","))
	}
	if m.cfg.Timeout != conformance.DefaultTimeout {
		args = append(args, "-timeout", m.cfg.Timeout.String())
	}
	if m.saveDir != "" {
		args = append(args, "-save-failures", shellQuote(m.saveDir))
	}
	args = append(args, "-model", "1", "-seed", fmt.Sprint(f.Seed))
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell, if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// syncWriter serializes writes from the model checker's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
