package conformance

import (
	"testing"
	"time"
)

// RunTests runs the suite of cfg under go test, one parallel subtest per
// script, so that `go test -run TestX/join_` selects scripts. It first runs
// Runner.Preflight: if the server cannot be tested at all, t fails once,
// with the reason, and no script runs. A failing
// script fails its subtest with the full report; a skipped or XFAIL script
// skips it; an XPASS fails it. A server's own tests can use it to check the
// server as any third party would:
//
//	func TestConformance(t *testing.T) {
//		scripts, _ := conformance.LoadScripts(testscripts.FS)
//		conformance.RunTests(t, conformance.Config{Start: startMyServer, Scripts: scripts})
//	}
//
// The scripts that restart their server (the durable ones) run only if
// the servers that Start starts are Restarters, as those of ExecServer
// are; an in-process server gives each server started a storage of its
// own, which its Restart keeps.
func RunTests(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.Seed == 0 {
		cfg.Seed = uint64(time.Now().UnixNano())
	}
	r, err := NewRunner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.Preflight(); err != nil {
		t.Fatalf("cannot test the server: %v", err)
	}
	t.Logf("seed %d", cfg.Seed)
	for _, sc := range r.Selected() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			res := r.RunScript(sc)
			switch res.Status {
			case Pass:
				if res.Log != "" {
					t.Log("\n" + Details(res))
				}
			case Skip, Unimplemented:
				t.Skip(res.Reason)
			case NonStrict:
				t.Log("NON-STRICT (a SHOULD missed, not a failure): " + res.Reason + "\n" + Details(res))
			case XFail:
				t.Skip("XFAIL: " + res.Reason + "\n" + Details(res))
			case XPass:
				t.Error("XPASS: " + res.Reason)
			default:
				t.Error("\n" + Details(res))
			}
		})
	}
}
