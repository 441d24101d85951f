package modelcheck

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/model"
)

// faults are deliberately broken servers: each rewrites the model's
// outputs the way a plausible bug would. The checker must catch every one.
var faults = map[string]func(model.ClientID, model.Event, []model.Output) []model.Output{
	"skips the echo": func(id model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		return slices.DeleteFunc(outs, func(o model.Output) bool { return o.To == id && strings.HasPrefix(o.Line, "ROOM ") })
	},
	"drops JOIN notices": func(id model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		return slices.DeleteFunc(outs, func(o model.Output) bool { return o.To != id && strings.HasPrefix(o.Line, "JOIN ") })
	},
	"reverses the roster": func(id model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		var idx []int
		for i, o := range outs {
			if o.To == id && strings.HasPrefix(o.Line, "JOIN ") {
				idx = append(idx, i)
			}
		}
		for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
			outs[idx[i]], outs[idx[j]] = outs[idx[j]], outs[idx[i]]
		}
		return outs
	},
	"forgets the disconnect announcement": func(_ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
		if ev.Kind == model.Disconnect {
			return nil
		}
		return outs
	},
	"ignores overlong lines": func(_ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
		if ev.Kind == model.LineTooLong {
			return nil
		}
		return outs
	},
	"accepts duplicate names": func(_ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
		for i, o := range outs {
			if o.Line == "ERROR Username taken" {
				name := strings.TrimPrefix(ev.Line, "USERNAME ")
				outs[i].Line = "OK Welcome, " + name + "!"
			}
		}
		return outs
	},
	"sends bare LF": nil, // see lfServer below
}

func TestCheckerCatchesBrokenServers(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: shrinks a failure per fault")
	}
	for name, fault := range faults {
		if fault == nil {
			continue
		}
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			addr, stop := startModelServer(t, fault)
			defer stop()
			err := Run(Target{Addr: addr}, Options{Checks: 1000, Steps: 50, SaveDir: dir, ShrinkTime: 2 * time.Second, Timeout: time.Second})
			if err == nil {
				t.Fatalf("the checker passed a server that %s", name)
			}
			t.Logf("caught: %s", firstLine(err.Error()))
			if testing.Verbose() {
				t.Log(err)
			}
			saved, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
			if len(saved) == 0 {
				t.Fatalf("no script saved for the failure")
			}
			script, _ := os.ReadFile(saved[0])
			if !strings.Contains(string(script), "connect c") {
				t.Fatalf("saved script has no steps:\n%s", script)
			}
			// The saved script runs through the suite: it passes on the
			// ideal server and fails on the broken one, as the checker did.
			if res := replay(t, dir, nil, conformance.DefaultTimeout)[0]; res.Status != conformance.Pass {
				t.Errorf("the saved script: %s against the model server:\n%s\n%s", res.Status, conformance.Details(res), script)
			}
			if res := replay(t, dir, fault, time.Second)[0]; res.Status != conformance.Fail {
				t.Errorf("the saved script: %s against the server that %s:\n%s", res.Status, name, script)
			}
		})
	}
}

func TestRunPassesTheModelServer(t *testing.T) {
	err := Run(Target{Start: func() (string, func(), error) {
		addr, stop := startModelServer(t, nil)
		return addr, stop, nil
	}}, Options{Checks: 20})
	if err != nil {
		t.Fatal(err)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
