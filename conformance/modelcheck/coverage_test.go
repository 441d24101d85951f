package modelcheck

import (
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// TestCoverageReachesEveryRule runs 300 sequences with a fixed seed
// against the model server and fails if a situation of the coverage table
// was never reached: a change of the generator that starves a rule shows
// here, deterministically.
func TestCoverageReachesEveryRule(t *testing.T) {
	addr, stop := startModelServer(t, nil)
	defer stop()
	res, err := Run(Target{Addr: addr}, Options{Checks: 300, Seed: 1})
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
}

// TestCoverageRulesExist checks that every situation names a requirement
// of PROTOCOL.md.
func TestCoverageRulesExist(t *testing.T) {
	var c Coverage
	for _, rule := range c.Rules() {
		if !slices.ContainsFunc(conformance.Requirements, func(r conformance.Requirement) bool { return r.ID == rule }) {
			t.Errorf("situation of %s, which is not a requirement of PROTOCOL.md", rule)
		}
	}
	for i, s := range situations {
		if s.rule == "" || s.what == "" {
			t.Errorf("situation %d has no rule or no description", i)
		}
	}
}

// modelRun applies lines to the model, as client id sends them, and
// returns the events as the driver reports them.
type modelRun struct {
	st     model.State
	events []driver.Applied
}

func (r *modelRun) do(id model.ClientID, ev model.Event) {
	a := driver.Applied{From: id, Event: ev, Before: r.st}
	r.st, a.Outs = r.st.Step(id, ev)
	a.After = r.st
	r.events = append(r.events, a)
}

func (r *modelRun) send(id model.ClientID, lines ...string) {
	for _, l := range lines {
		r.do(id, model.Event{Kind: model.Line, Line: l})
	}
}

// TestSituations checks that the tracker recognises the situations the
// generator was steered towards, on a scripted sequence.
func TestSituations(t *testing.T) {
	r := &modelRun{st: model.New(model.Config{})}
	for id := model.ClientID(1); id <= 4; id++ {
		r.do(id, model.Event{Kind: model.Connect})
	}
	r.send(1, "USERNAME kim", "JOIN #log")
	for i := range spec.HistoryLen + 1 {
		r.send(1, "MSG m"+string(rune('a'+i)))
	}
	r.send(2, "USERNAME  bob", "USERNAME bob", "JOIN #LOG") // two spaces: " bob" is no name
	r.send(3, "USERNAME sam", "JOIN #log", "USERS", "PRIVMSG "+kelvin+"im hi", "PRIVMSG KIM  hi")
	r.send(4, "USERNAME eve", "JOIN #_q", "ROOMS", "QUIT")
	r.send(2, "USERNAME eve") // already named
	r.do(1, model.Event{Kind: model.Disconnect})
	r.send(3, "JOIN #x") // leaves bob behind

	k := newTracker()
	for _, a := range r.events {
		k.observe(a)
	}
	for _, s := range []situation{
		sitArgSpaces, sitPrivSpaces, sitCaseVariant, sitLookalike, sitNameSet, sitRoster,
		sitJoinOthers, sitOverflow, sitHistory, sitRoomsMany, sitRoomsFold, sitUsers3,
		sitQuit, sitDropOthers, sitSwitch, sitPrivOther,
	} {
		if k.counts[s] == 0 {
			t.Errorf("not counted: %s %s", situations[s].rule, situations[s].what)
		}
	}
	if k.counts[sitNameReused] != 0 {
		t.Errorf("counted %s with no name taken again", situations[sitNameReused].what)
	}
}

// TestFoldSensitive checks the order ROOMS-1 gives to '_' against letters.
func TestFoldSensitive(t *testing.T) {
	for _, tc := range []struct {
		rooms []string
		want  bool
	}{
		{[]string{"#_q", "#a"}, true},
		{[]string{"#x_y", "#xZ"}, true},
		{[]string{"#a", "#b"}, false},
		{[]string{"#A", "#b"}, false},
		{[]string{"#a1", "#aB"}, false},
	} {
		if got := foldSensitive(tc.rooms); got != tc.want {
			t.Errorf("foldSensitive(%q) = %v, want %v", tc.rooms, got, tc.want)
		}
	}
}

// TestBlame checks the rule blamed for differences in a client's lines:
// the rule of the first line that differs, and an ORDER rule only when
// the same lines came in another order.
func TestBlame(t *testing.T) {
	// alice and bob in #a; carol joins; then alice speaks.
	r := &modelRun{st: model.New(model.Config{})}
	for id := model.ClientID(1); id <= 3; id++ {
		r.do(id, model.Event{Kind: model.Connect})
	}
	r.send(1, "USERNAME alice", "JOIN #a")
	r.send(2, "USERNAME bob", "JOIN #a")
	r.send(3, "USERNAME carol")
	n := len(r.events)
	r.send(3, "JOIN #a")
	join := r.events[n:]
	n = len(r.events)
	r.send(1, "MSG hi", "LEAVE")
	speak := r.events[n:]

	outsTo := func(step []driver.Applied, id model.ClientID) (outs []model.Output) {
		for _, a := range step {
			for _, o := range a.Outs {
				if o.To == id {
					outs = append(outs, o)
				}
			}
		}
		return outs
	}
	lines := func(outs []model.Output) (ls []string) {
		for _, o := range outs {
			ls = append(ls, o.Line)
		}
		return ls
	}
	mismatch := func(step []driver.Applied, id model.ClientID, got []string) *driver.Mismatch {
		want := outsTo(step, id)
		i := 0
		for i < len(want) && i < len(got) && want[i].Line == got[i] {
			i++
		}
		return &driver.Mismatch{Client: "c", ID: id, Want: want[i:], Got: got[i:], Complete: true, Step: step, Cause: causeIndex(step, id, i)}
	}
	roster := lines(outsTo(join, 3)) // OK Joined, JOIN alice, JOIN bob
	echo := lines(outsTo(speak, 1))  // ROOM, OK Left
	toBob := lines(outsTo(speak, 2)) // ROOM, LEAVE
	for _, tc := range []struct {
		name string
		mm   *driver.Mismatch
		want string
	}{
		{"roster reversed", mismatch(join, 3, []string{roster[0], roster[2], roster[1]}), "JOIN-4"},
		{"echo missing", mismatch(speak, 1, echo[1:]), "MSG-2"},
		{"room line to others missing", mismatch(speak, 2, toBob[1:]), "MSG-2"},
		{"room line and leave swapped", mismatch(speak, 2, []string{toBob[1], toBob[0]}), "ORDER-2"},
		{"leave note missing", mismatch(speak, 2, toBob[:1]), "LEAVE-2"},
		{"an extra line", mismatch(speak, 1, append(slices.Clone(echo), "ROOM #a alice hi")), "MSG-2"},
	} {
		if got := newTracker().blame(tc.mm); got != tc.want {
			t.Errorf("%s: blamed %q, want %s (%s)", tc.name, got, tc.want, strings.TrimSpace(tc.mm.Error()))
		}
	}
}

// causeIndex is the index in step of the event that produced the i-th
// output to id, or -1.
func causeIndex(step []driver.Applied, id model.ClientID, i int) int {
	for j, a := range step {
		for _, o := range a.Outs {
			if o.To == id {
				if i == 0 {
					return j
				}
				i--
			}
		}
	}
	return -1
}
