package concurrent

import (
	"os"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/internal/racyserver"
)

// races are the deliberate races of the thread-per-client test server,
// each with the window it is given (racyserver.Races.Window).
var races = []struct {
	name  string
	races racyserver.Races
}{
	{"name check-then-set", racyserver.Races{NameCheckThenSet: true}},
	{"fan-out during LEAVE", racyserver.Races{FanOutDuringLeave: true}},
	{"unordered fan-out", racyserver.Races{UnorderedFanOut: true}},
	{"stale PRIVMSG target", racyserver.Races{StalePrivmsgTarget: true, Window: 20 * time.Millisecond}},
}

func startRacy(t testing.TB, r racyserver.Races) string {
	t.Helper()
	s, err := racyserver.Start("127.0.0.1:0", r)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s.Addr()
}

// TestRacesFound: the concurrent checker finds each race of the
// thread-per-client server, shrinks the history and explains it; and it
// passes the same server with every race off. Finding is bounded: at most
// 500 histories of 8 clients, and 60 s of shrinking. It runs under
// CHAT_SOAK=1 (and in .ci/run); TestRaceFoundQuickly is the default run's.
func TestRacesFound(t *testing.T) {
	if os.Getenv("CHAT_SOAK") != "1" {
		t.Skip("the race-finding runs take minutes: CHAT_SOAK=1")
	}
	for _, rc := range races {
		t.Run(rc.name, func(t *testing.T) {
			start := time.Now()
			st, err := Search(Target{Addr: startRacy(t, rc.races)}, Options{Clients: 8, Histories: 500, Seed: 1})
			f, ok := err.(*Failure)
			if !ok {
				t.Fatalf("not found in %d histories (%v): %v", st.Histories, time.Since(start), err)
			}
			t.Logf("found after %d histories; with shrinking %v: %s\n%s", st.Histories+1, time.Since(start), f.Shrink, f.Result.Report(f.History))
		})
	}
	t.Run("no race", func(t *testing.T) {
		st, err := Search(Target{Addr: startRacy(t, racyserver.Races{})}, Options{Clients: 8, Histories: 1000, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d histories, %d operations: no violation", st.Histories, st.Ops)
	})
}

// TestRaceFoundQuickly is the default run's share of TestRacesFound: the
// race of two clients taking one name is found within 100 histories of 8
// clients (usually a few), without shrinking, and its report names the
// line no order explains.
func TestRaceFoundQuickly(t *testing.T) {
	st, err := Search(Target{Addr: startRacy(t, racyserver.Races{NameCheckThenSet: true})},
		Options{Clients: 8, Histories: 100, Seed: 1, ShrinkBudget: -1})
	f, ok := err.(*Failure)
	if !ok {
		t.Fatalf("not found in %d histories: %v", st.Histories, err)
	}
	if rep := f.Report(); !strings.Contains(rep, `"ERROR Username taken"`) {
		t.Errorf("the report does not say what the model expected:\n%s", rep)
	}
	t.Logf("found after %d histories", st.Histories+1)
}
