package modelcheck

import (
	"errors"
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
// outputs the way a plausible bug would. The checker must catch every one,
// and blame the rule in faultRules.
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

// faultRules are the rules a failure of each fault may be blamed on.
var faultRules = map[string][]string{
	"skips the echo":                      {"MSG-2"},
	"drops JOIN notices":                  {"JOIN-5"},
	"reverses the roster":                 {"JOIN-4"},
	"forgets the disconnect announcement": {"DISC-1"},
	"ignores overlong lines":              {"FRAME-5"},
	// A duplicate in other case is NAME-3's.
	"accepts duplicate names": {"USER-2", "NAME-3"},
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
			_, err := Run(Target{Addr: addr}, Options{Checks: 1000, Steps: 50, SaveDir: dir, ShrinkTime: 2 * time.Second})
			if err == nil {
				t.Fatalf("the checker passed a server that %s", name)
			}
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("not a failure of the server: %v", err)
			}
			t.Logf("caught in %d steps: %s", f.Steps, f.Summary)
			if testing.Verbose() {
				t.Log(err)
			}
			if !slices.Contains(faultRules[name], f.Rule) {
				t.Errorf("blamed %q; want one of %q:\n%v", f.Rule, faultRules[name], err)
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
	_, err := Run(Target{Start: func() (string, func(), error) {
		addr, stop := startModelServer(t, nil)
		return addr, stop, nil
	}}, Options{Checks: 20})
	if err != nil {
		t.Fatal(err)
	}
}
