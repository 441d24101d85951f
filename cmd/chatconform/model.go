package main

import (
	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/modelcheck"
)

// runModel runs the model-based checker for -model.
func runModel(r conformance.ModelRun) error {
	target := modelcheck.Target{Addr: r.Addr}
	if r.Start != nil {
		target.Start = func() (string, func(), error) {
			srv, err := r.Start(nil)
			if err != nil {
				return "", nil, err
			}
			return srv.Addr(), func() { srv.Stop() }, nil
		}
	}
	return modelcheck.Run(target, modelcheck.Options{
		Checks:  r.Checks,
		Seed:    r.Seed,
		SaveDir: r.SaveDir,
		Verbose: r.Verbose,
		Log:     r.Log,
		Timeout: r.Timeout,
		NoPing:  r.NoPing,
	})
}
