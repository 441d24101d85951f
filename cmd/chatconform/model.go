package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/modelcheck"
)

// modelName is the name of the model checker's result among the scripts'.
const modelName = "model"

// A modelRun is what -model runs: the model-based checker against the
// target of the scripts.
type modelRun struct {
	cfg     conformance.Config // the scripts' target, seed and timeout
	checks  int                // sequences to try
	saveDir string             // where to write a failing sequence as a script; "" for none
	verbose bool
	noPing  bool      // the server lacks the ping extension
	log     io.Writer // the checker's progress
}

// runModel runs the model checker and reports it as one more result.
func runModel(m modelRun) conformance.Result {
	sc := &conformance.Script{Name: modelName, Tags: []string{"core", "ping", "input"}, Rules: []string{"ORDER-1"}}
	start := time.Now()
	target := modelcheck.Target{Addr: m.cfg.Addr}
	if m.cfg.Start != nil {
		target.Start = func() (string, func(), error) {
			srv, err := m.cfg.Start(nil)
			if err != nil {
				return "", nil, err
			}
			return srv.Addr(), func() { srv.Stop() }, nil
		}
	}
	err := modelcheck.Run(target, modelcheck.Options{
		Checks:  m.checks,
		Seed:    m.cfg.Seed,
		SaveDir: m.saveDir,
		Verbose: m.verbose,
		Log:     &syncWriter{w: m.log},
		Timeout: m.cfg.Timeout,
		NoPing:  m.noPing,
	})
	r := conformance.Result{Script: sc, Status: conformance.Pass, Duration: time.Since(start), Reason: fmt.Sprintf("%d random sequences", m.checks)}
	if err != nil {
		r.Status, r.Reason, r.Log = conformance.Fail, "", err.Error()
	}
	return r
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
