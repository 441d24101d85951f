package modelcheck

import (
	"os"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
)

// modelTarget starts, for each script, a model server whose outputs go
// through fault (nil for the ideal server).
func modelTarget(fault func(model.ClientID, model.Event, []model.Output) []model.Output) conformance.StartFunc {
	return func(flags []string) (conformance.Server, error) {
		return modelserver.Start(flags, adaptFault(fault), "")
	}
}

// replay runs every script in dir through the conformance suite against a
// model server with fault, and returns the results. timeout bounds each
// wait for a line.
func replay(t *testing.T, dir string, fault func(model.ClientID, model.Event, []model.Output) []model.Output, timeout time.Duration) []conformance.Result {
	t.Helper()
	scripts, err := conformance.LoadScripts(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	r, err := conformance.NewRunner(conformance.Config{Start: modelTarget(fault), Scripts: scripts, Timeout: timeout, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.RunAll(nil)
}

// TestSavedScriptsRun replays the scripts the checker saved for failures it
// found (testdata/scripts) through the conformance suite against the model
// server. The expected lines of a saved script are the model's, so each
// must pass: a saved script is a regression test, and it must keep running
// as the suite's commands and the checker's script writer change.
// TestCheckerCatchesBrokenServers does the same with the scripts saved by
// its own run.
func TestSavedScriptsRun(t *testing.T) {
	results := replay(t, "testdata/scripts", nil, conformance.DefaultTimeout)
	if len(results) == 0 {
		t.Fatal("no saved scripts in testdata/scripts")
	}
	for _, res := range results {
		if res.Status != conformance.Pass {
			t.Errorf("%s: %s against the model server:\n%s", res.Script.Name, res.Status, conformance.Details(res))
		}
	}
}
