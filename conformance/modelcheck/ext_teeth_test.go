package modelcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// extFaults are deliberately broken servers of section 13: each rewrites
// the model server's outputs as a plausible bug would. A fault is made
// anew for each server, as some keep state (what happened before a
// restart). The checker must catch each, and blame a rule of extFaultRules.
var extFaults = map[string]func() modelserver.Fault{
	"sends ROOM instead of MESSAGE to a history client": func() modelserver.Fault {
		return eachLine(func(_ *modelserver.Server, l spec.ServerLine) spec.ServerLine {
			if l.Kind == spec.Message {
				return spec.RoomLine(l.Room, l.User, l.Text)
			}
			return l
		})
	},
	"sends MESSAGE to core clients": func() modelserver.Fault {
		return eachLine(func(s *modelserver.Server, l spec.ServerLine) spec.ServerLine {
			if l.Kind == spec.Room {
				return spec.MessageLine(s.State().LastID(), spec.FormatMsgTime(time.Now()), l.Room, l.User, l.Text)
			}
			return l
		})
	},
	"reuses IDs": func() modelserver.Fault {
		// The first two messages shown with an ID share one, and so on.
		ids := map[uint64]uint64{}
		return eachLine(func(_ *modelserver.Server, l spec.ServerLine) spec.ServerLine {
			if l.Kind == spec.Message || l.Kind == spec.Stored {
				if _, ok := ids[l.ID]; !ok {
					ids[l.ID] = uint64(len(ids)/2 + 1)
				}
				l.ID = ids[l.ID]
			}
			return l
		})
	},
	"lists CAPS in another order": func() modelserver.Fault {
		return eachLine(func(_ *modelserver.Server, l spec.ServerLine) spec.ServerLine {
			if l.Kind == spec.CapsList {
				slices.Reverse(l.List)
			}
			return l
		})
	},
	"answers HISTORY newest first": func() modelserver.Fault {
		return func(_ *modelserver.Server, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
			var idx []int
			for i, o := range outs {
				if strings.HasPrefix(o.Line, "HISTORY ") {
					idx = append(idx, i)
				}
			}
			for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
				outs[idx[i]], outs[idx[j]] = outs[idx[j]], outs[idx[i]]
			}
			return outs
		}
	},
	"logs in with any password": func() modelserver.Fault {
		return func(s *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
			f := strings.Fields(ev.Line)
			if len(f) != 3 || f[0] != "LOGIN" || !s.State().IsAccount(f[1]) {
				return outs
			}
			for i, o := range outs {
				if o.To == id && o.Line == "ERROR "+spec.ErrLoginFailed {
					outs[i].Line = "OK " + spec.OKWelcome(f[1])
				}
			}
			return outs
		}
	},
	"starts its IDs again after a restart": func() modelserver.Fault {
		var base uint64
		return func(s *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
			if ev.Kind == model.Restart {
				base = s.State().LastID()
			}
			return eachLine(func(_ *modelserver.Server, l spec.ServerLine) spec.ServerLine {
				if (l.Kind == spec.Message || l.Kind == spec.Stored) && l.ID > base {
					l.ID -= base
				}
				return l
			})(s, id, ev, outs)
		}
	},
	"forgets accounts in a restart": func() modelserver.Fault {
		var forgotten map[string]bool
		return func(s *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
			if ev.Kind == model.Restart {
				forgotten = map[string]bool{}
				for _, a := range s.State().Accounts() {
					forgotten[spec.Fold(a)] = true
				}
			}
			f := strings.Fields(ev.Line)
			if len(f) < 2 || !forgotten[spec.Fold(f[1])] {
				return outs
			}
			for i, o := range outs {
				switch {
				case o.To != id:
				case f[0] == "USERNAME" && o.Line == "ERROR "+spec.ErrUsernameTaken && s.State().Name(id) == "":
					outs[i].Line = "OK " + spec.OKWelcome(f[1])
				case f[0] == "LOGIN" && strings.HasPrefix(o.Line, "OK Welcome"):
					outs[i].Line = "ERROR " + spec.ErrLoginFailed
				}
			}
			return outs
		}
	},
	"announces a departure's rooms last joined first": func() modelserver.Fault {
		return func(_ *modelserver.Server, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
			idx := map[model.ClientID][]int{} // each recipient's LEAVE notes
			for i, o := range outs {
				if strings.HasPrefix(o.Line, "LEAVE ") {
					idx[o.To] = append(idx[o.To], i)
				}
			}
			for _, is := range idx {
				for i, j := 0, len(is)-1; i < j; i, j = i+1, j-1 {
					outs[is[i]], outs[is[j]] = outs[is[j]], outs[is[i]]
				}
			}
			return outs
		}
	},
	"answers a text line in several rooms as one in none": func() modelserver.Fault {
		return eachLine(func(_ *modelserver.Server, l spec.ServerLine) spec.ServerLine {
			if l.Kind == spec.Error && l.Text == spec.ErrRoomRequired {
				l.Text = spec.ErrNotInRoom
			}
			return l
		})
	},
}

// extFaultRules are the rules a failure of each fault may be blamed on.
var extFaultRules = map[string][]string{
	"sends ROOM instead of MESSAGE to a history client": {"HIST-2"},
	"sends MESSAGE to core clients":                     {"CAPS-3"},
	"reuses IDs":                                        {"HIST-1"},
	"lists CAPS in another order":                       {"CAPS-1"},
	// Of two messages with the same text, the newer shown first is taken
	// for the older with a larger ID.
	"answers HISTORY newest first": {"HIST-3", "HIST-1"},
	"logs in with any password":    {"ACCT-2"},
	// When no client saw an ID from before the restart, it shows first as
	// a HISTORY that pages back from an ID given again, and returns what
	// the model does not expect; when one did, the ID given again to
	// another message breaks HIST-1 first.
	"starts its IDs again after a restart":                {"HIST-5", "HIST-3", "HIST-4", "HIST-1"},
	"forgets accounts in a restart":                       {"HIST-5"},
	"announces a departure's rooms last joined first":     {"MULTI-7"},
	"answers a text line in several rooms as one in none": {"MULTI-5"},
}

// eachLine makes a fault that rewrites every line the model sends with f.
func eachLine(f func(*modelserver.Server, spec.ServerLine) spec.ServerLine) modelserver.Fault {
	return func(s *modelserver.Server, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		for i, o := range outs {
			if l, err := spec.ParseServerLine(o.Line); err == nil && !o.Close {
				outs[i].Line = f(s, l).String()
			}
		}
		return outs
	}
}

func TestCheckerCatchesBrokenExtensions(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: shrinks a failure per fault")
	}
	for name, fault := range extFaults {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			opts := extOptions
			opts.Checks, opts.Steps, opts.SaveDir, opts.ShrinkTime = 1000, 50, dir, 2*time.Second
			// A server of its own for each sequence, as for a saved script:
			// a fault that keeps state then fails the same way in both.
			_, err := Run(freshTarget(t, fault), opts)
			if err == nil {
				t.Fatalf("the checker passed a server that %s", name)
			}
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("not a failure of the server: %v", err)
			}
			t.Logf("caught in %d steps (sequence %d): %s", f.Steps, f.Sequence, f.Summary)
			if testing.Verbose() {
				t.Log(err)
			}
			if !slices.Contains(extFaultRules[name], f.Rule) {
				t.Errorf("blamed %q; want one of %q:\n%v", f.Rule, extFaultRules[name], err)
			}
			saved, _ := filepath.Glob(filepath.Join(dir, "*.txtar"))
			if len(saved) == 0 {
				t.Fatalf("no script saved for the failure")
			}
			script, _ := os.ReadFile(saved[0])
			// The saved script runs through the suite: it passes on the
			// model server and fails on the broken one, as the checker did.
			if res := replayWith(t, dir, nil, conformance.DefaultTimeout)[0]; res.Status != conformance.Pass {
				t.Errorf("the saved script: %s against the model server:\n%s\n%s", res.Status, conformance.Details(res), script)
			}
			if res := replayWith(t, dir, fault, time.Second)[0]; res.Status != conformance.Fail {
				t.Errorf("the saved script: %s against the server that %s:\n%s\n%s", res.Status, name, conformance.Details(res), script)
			}
		})
	}
}

// freshTarget starts a model server for each sequence, whose outputs go
// through a fault made anew for it (none if fault is nil), and restarts
// it.
func freshTarget(t *testing.T, fault func() modelserver.Fault) Target {
	var mu sync.Mutex
	servers := map[string]*modelserver.Server{}
	return Target{
		Start: func() (string, func(), error) {
			var f modelserver.Fault
			if fault != nil {
				f = fault()
			}
			s, err := modelserver.Start(nil, f, "")
			if err != nil {
				return "", nil, err
			}
			mu.Lock()
			servers[s.Addr()] = s
			mu.Unlock()
			return s.Addr(), func() { s.Stop() }, nil
		},
		Restart: func(addr string) (string, error) {
			mu.Lock()
			s := servers[addr]
			mu.Unlock()
			if s == nil {
				return "", fmt.Errorf("no model server at %s", addr)
			}
			newAddr, err := restartModelServer(s)(addr)
			mu.Lock()
			servers[newAddr] = s
			mu.Unlock()
			return newAddr, err
		},
	}
}

// replayWith is replay with a fault made anew for each server.
func replayWith(t *testing.T, dir string, fault func() modelserver.Fault, timeout time.Duration) []conformance.Result {
	t.Helper()
	scripts, err := conformance.LoadScripts(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	start := func(flags []string) (conformance.Server, error) {
		var f modelserver.Fault
		if fault != nil {
			f = fault()
		}
		return modelserver.Start(flags, f, "")
	}
	r, err := conformance.NewRunner(conformance.Config{Start: start, Scripts: scripts, Timeout: timeout, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.RunAll(nil)
}
