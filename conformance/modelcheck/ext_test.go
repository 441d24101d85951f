package modelcheck

import (
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// extOptions are the options of a run against a server that implements
// every extension of section 13 and keeps its storage across restarts.
var extOptions = Options{Ext: spec.AllExt, Durable: true}

// startExtModelServer starts the model server, which offers every
// extension and restarts in process keeping what HIST-5 says survives,
// and returns a target of it that can restart it. fault, if not nil,
// rewrites its outputs.
func startExtModelServer(t testing.TB, fault func(model.ClientID, model.Event, []model.Output) []model.Output) (Target, func()) {
	s, err := modelserver.Start(nil, adaptFault(fault), "")
	if err != nil {
		t.Fatal(err)
	}
	return Target{Addr: s.Addr(), Restart: restartModelServer(s)}, func() { s.Stop() }
}

// restartModelServer restarts s as Target.Restart does.
func restartModelServer(s *modelserver.Server) func(string) (string, error) {
	return func(string) (string, error) {
		if err := s.Restart(false); err != nil {
			return "", err
		}
		return s.Addr(), nil
	}
}

func TestCheckerWithExtensions(t *testing.T) {
	target, stop := startExtModelServer(t, nil)
	defer stop()
	opts := extOptions
	opts.Checks = 100
	cov := Check(t, target, opts)
	t.Logf("%s", cov)
}

// TestCoverageWithExtensions runs 300 sequences with a fixed seed against
// the model server, which implements every extension and restarts, and
// fails if a situation of the coverage table, those of section 13
// included, was never reached.
func TestCoverageWithExtensions(t *testing.T) {
	target, stop := startExtModelServer(t, nil)
	defer stop()
	opts := extOptions
	opts.Checks, opts.Seed = 300, 1
	res, err := Run(target, opts)
	if err != nil {
		t.Fatal(err)
	}
	cov := res.Coverage
	t.Logf("%s", cov)
	if cov.Sequences() != 300 {
		t.Errorf("coverage counts %d sequences, want 300", cov.Sequences())
	}
	for _, r := range cov.Missed() {
		t.Errorf("no step reached %s: %s", r.Rule, r.Situation)
	}
	if n := cov.LoginFails(); n > cov.Sequences()/8 {
		t.Errorf("%d failed logins in %d sequences: a server would slow them (ACCT-5)", n, cov.Sequences())
	}
}

func TestExtensions(t *testing.T) {
	for _, tc := range []struct {
		tags    []string
		ext     spec.Ext
		durable bool
	}{
		{nil, 0, false},
		{[]string{"core", "ping", "input"}, 0, false},
		{[]string{"core", "accounts", "history", "durable"}, 0, false}, // no CAPS, no way to enable them
		{[]string{"core", "caps", "history"}, spec.ExtHistory, false},
		{[]string{"core", "caps", "accounts", "history", "durable"}, spec.ExtAccounts | spec.ExtHistory, false}, // restarts need SHUT-1
		{[]string{"core", "caps", "accounts", "history", "shutdown", "durable"}, spec.ExtAccounts | spec.ExtHistory, true},
		{[]string{"core", "caps", "rooms"}, spec.ExtRooms, false},
		{[]string{"core", "caps", "accounts", "history", "rooms"}, spec.AllExt, false},
		{[]string{"caps", "shutdown", "durable"}, 0, false},
	} {
		ext, durable := Extensions(tc.tags)
		if ext != tc.ext || durable != tc.durable {
			t.Errorf("Extensions(%q) = %v, %v; want %v, %v", tc.tags, ext, durable, tc.ext, tc.durable)
		}
	}
}

// TestExtSituations checks that the tracker recognises the situations of
// section 13 on a scripted sequence.
func TestExtSituations(t *testing.T) {
	r := &modelRun{st: model.New(model.Config{Offer: spec.AllExt})}
	for id := model.ClientID(1); id <= 4; id++ {
		r.do(id, model.Event{Kind: model.Connect})
	}
	r.send(1, "CAPS", "CAPS history accounts", "USERNAME kim", "REGISTER correct-horse", "REGISTER another-one", "JOIN #log", "CAPS LOCK")
	r.send(2, "CAPS shoes", "USERNAME sam", "JOIN #log", "m1", "LOGIN x y", "REGISTER short")
	for i := range spec.HistoryLen + 1 {
		r.send(1, "MSG m"+string(rune('a'+i)))
	}
	r.send(1, "PASSWORD wrong-horse battery-staple", "PASSWORD correct-horse battery-staple", "QUIT")
	r.send(3, "CAPS history", "USERNAME eve", "JOIN #log", "HISTORY #log * 5", "HISTORY #log 3 5", "HISTORY #log * 101")
	r.send(4, "CAPS accounts", "LOGIN kim wrong-horse", "LOGIN nobody battery-staple", "LOGIN KIM battery-staple")
	r.send(2, "LEAVE")
	r.send(3, "LEAVE", "HISTORY #log * 100", "USERNAME again")
	// 13.4: carol and dan in several rooms, with core members.
	for id := model.ClientID(6); id <= 8; id++ {
		r.do(id, model.Event{Kind: model.Connect})
	}
	r.send(6, "CAPS rooms", "USERNAME carol", "JOIN #one", "JOIN #two", "JOIN #three", "LEAVE #three", "LEAVE #nine",
		"USERS #one", "one or two?")
	r.send(7, "USERNAME core", "JOIN #one")
	r.send(6, "MSG #one hello core")
	r.send(8, "CAPS rooms", "USERNAME dan", "JOIN #two")
	r.send(6, "MSG #two hello dan")
	r.do(6, model.Event{Kind: model.Disconnect})
	r.send(8, "JOIN #a", "JOIN #b", "JOIN #c", "JOIN #d", "JOIN #e", "JOIN #f", "JOIN #g", "JOIN #h", "JOIN #i", "JOIN #j")
	r.do(0, model.Event{Kind: model.Restart})
	r.do(5, model.Event{Kind: model.Connect})
	r.send(5, "USERNAME kim")

	k := newTracker()
	for _, a := range r.events {
		k.observe(a)
	}
	for s := sitCapsList; s < numSituations; s++ {
		if k.counts[s] == 0 {
			t.Errorf("not counted: %s %s", situations[s].rule, situations[s].what)
		}
	}
}

// TestScriptWriterExt checks how a saved script writes what only a run
// knows: a message's ID (a variable that recvmsg sets and checks), and
// text with a $, which the suite's commands would expand.
func TestScriptWriterExt(t *testing.T) {
	w := scriptWriter{sfx: "ab0001", ext: spec.AllExt}
	w.recv("c1", "MESSAGE 1 2026-01-01T00:00:00.000Z #aab0001 kimab0001 a $HOME b")
	w.recv("c2", "MESSAGE 1 2026-01-01T00:00:00.000Z #aab0001 kimab0001 a $HOME b")
	w.recv("c1", "HISTORY 1 2026-01-01T00:00:00.000Z #aab0001 kimab0001 a $HOME b")
	w.send("c1", []byte("HISTORY #aab0001 "+varOpen+idVar(1)+varClose+" 10\r\n"), "crlf")
	w.restart()
	want := []string{
		`recvmsg -new -set M1 c1 '#a'$U 'kim'$U 'a $$HOME b'`,
		`recvmsg -id $M1 c2 '#a'$U 'kim'$U 'a $$HOME b'`,
		`recvmsg -stored -id $M1 c1 '#a'$U 'kim'$U 'a $$HOME b'`,
		`send c1 'HISTORY #a'$U' '$M1' 10'`,
		`restart`,
	}
	if !slices.Equal(w.lines, want) {
		t.Errorf("script lines:\n%s\nwant:\n%s", strings.Join(w.lines, "\n"), strings.Join(want, "\n"))
	}
}

// TestRunWithExtensionsOnFreshServers runs sequences against a model server
// of their own each, restarted through Target.Restart.
func TestRunWithExtensionsOnFreshServers(t *testing.T) {
	opts := extOptions
	opts.Checks = 30
	if _, err := Run(freshTarget(t, nil), opts); err != nil {
		t.Fatal(err)
	}
}

// TestRunWithHistoryOnly checks a server that offers history alone: CAPS
// lists it alone, and accounts is an unknown extension.
func TestRunWithHistoryOnly(t *testing.T) {
	s, err := modelserver.Start([]string{"-extensions", "history"}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	res, err := Run(Target{Addr: s.Addr()}, Options{Checks: 50, Ext: spec.ExtHistory})
	if err != nil {
		t.Fatal(err)
	}
	if res.Coverage.Rule("ACCT-1") != 0 || res.Coverage.Rule("HIST-3") == 0 {
		t.Errorf("coverage of a history-only server:\n%s", res.Coverage)
	}
}
