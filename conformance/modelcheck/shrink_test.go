package modelcheck

import (
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// shrinkCases are broken servers whose failures must shrink to a handful
// of steps and be blamed on the rule they break.
var shrinkCases = []struct {
	name  string
	rule  string // the rule the report must name
	fault func() func(model.ClientID, model.Event, []model.Output) []model.Output
}{
	{"drops the echo", "MSG-2", func() func(model.ClientID, model.Event, []model.Output) []model.Output {
		return faults["skips the echo"]
	}},
	{"reverses USERLIST", "USERS-1", func() func(model.ClientID, model.Event, []model.Output) []model.Output {
		return func(_ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
			for i, o := range outs {
				if names, ok := strings.CutPrefix(o.Line, "USERLIST "); ok {
					list := strings.Fields(names)
					slices.Reverse(list)
					outs[i].Line = "USERLIST " + strings.Join(list, " ")
				}
			}
			return outs
		}
	}},
	{"never frees a name", "NAME-4", func() func(model.ClientID, model.Event, []model.Output) []model.Output {
		// A name once welcomed is refused ever after, though its owner
		// has left. (Only USERNAME says so: the watcher's questions are
		// answered as if the name were free, so the failure shows on the
		// next USERNAME rather than after a timeout.)
		var mu sync.Mutex
		held := map[string]bool{}
		return func(_ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
			mu.Lock()
			defer mu.Unlock()
			for i, o := range outs {
				if name, ok := strings.CutPrefix(o.Line, "OK Welcome, "); ok {
					name = spec.Fold(strings.TrimSuffix(name, "!"))
					if held[name] {
						outs[i].Line = "ERROR " + spec.ErrUsernameTaken
					}
					held[name] = true
				}
			}
			return outs
		}
	}},
}

// maxShrunkSteps is the most steps a shrunk failure of shrinkCases may
// have: each needs at most three clients that take a name and join a room,
// and one more line.
const maxShrunkSteps = 8

// TestFailuresShrink checks that a failure is reported as a handful of
// steps and blamed on the rule its server breaks, for three broken servers
// and a fixed seed; with CHAT_SOAK=1, for many seeds. It logs how long
// shrinking took, but asserts only the size and the rule.
func TestFailuresShrink(t *testing.T) {
	seeds := []uint64{1}
	if os.Getenv("CHAT_SOAK") != "" {
		seeds = nil
		for s := uint64(1); s <= 20; s++ {
			seeds = append(seeds, s*1000003)
		}
	}
	for _, tc := range shrinkCases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			for _, seed := range seeds {
				addr, stop := startModelServer(t, tc.fault())
				start := time.Now()
				_, err := Run(Target{Addr: addr}, Options{Checks: 200, Seed: seed, ShrinkTime: 20 * time.Second})
				stop()
				var f *Failure
				if !errors.As(err, &f) {
					t.Fatalf("seed %d: the checker passed a server that %s (%v)", seed, tc.name, err)
				}
				t.Logf("seed %d: sequence %d, %d steps shrunk to %d in %v (%v in all): %s",
					seed, f.Sequence, f.FoundSteps, f.Steps, f.ShrinkTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), f.Summary)
				if f.Rule != tc.rule || f.Steps > maxShrunkSteps {
					t.Errorf("seed %d: blamed %q after %d steps; want %s after at most %d:\n%v", seed, f.Rule, f.Steps, tc.rule, maxShrunkSteps, err)
				}
			}
		})
	}
}
