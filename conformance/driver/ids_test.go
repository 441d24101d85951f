package driver

import (
	"errors"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

// msg is a MESSAGE line.
func msg(id uint64, time, text string) spec.ServerLine {
	return spec.MessageLine(id, time, "#r", "kim", text)
}

const (
	t0 = "2026-12-01T09:00:00.000Z"
	t1 = "2026-12-01T09:00:01.000Z"
	t2 = "2026-12-01T09:00:02.000Z"
)

// TestIDsLearn checks the mapping of model IDs to server IDs: any server
// IDs in the same order are learned, in any order of first sight, and a
// server ID is checked against what was learned.
func TestIDsLearn(t *testing.T) {
	m := NewIDs()
	learn := func(model uint64, l spec.ServerLine) error { return m.Learn(model, l, "c1", l.String()) }
	// The server skips numbers, and a client sees message 3 before 2.
	for _, step := range []struct {
		model uint64
		line  spec.ServerLine
	}{
		{1, msg(100, t0, "a")},
		{3, msg(250, t2, "c")},
		{2, msg(101, t1, "b")},
		{3, msg(250, t2, "c")}, // again, to another client
		{5, msg(9000, t2, "e")},
	} {
		if err := learn(step.model, step.line); err != nil {
			t.Fatalf("learn %d as %q: %v", step.model, step.line, err)
		}
	}
	if got, want := m.Known(), []uint64{1, 2, 3, 5}; !equal(got, want) {
		t.Errorf("Known() = %v, want %v", got, want)
	}
	if id, ok := m.Server(3); !ok || id != 250 {
		t.Errorf("Server(3) = %d, %v", id, ok)
	}
	if id, ok := m.Model(101); !ok || id != 2 {
		t.Errorf("Model(101) = %d, %v", id, ok)
	}
	if _, ok := m.Server(4); ok {
		t.Errorf("Server(4) is known, though no client saw it")
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestIDsCatch checks that every way a server's IDs and times can break
// HIST-1 is caught, and blamed on HIST-5 when a restart came between.
func TestIDsCatch(t *testing.T) {
	type seen struct {
		model uint64
		line  spec.ServerLine
	}
	for _, tc := range []struct {
		name    string
		before  []seen // learned before
		restart bool   // a restart after them
		model   uint64
		line    spec.ServerLine
		rule    string
		reason  string
	}{
		{"an ID reused for another message", []seen{{1, msg(7, t0, "a")}}, false, 2, msg(7, t0, "b"), "HIST-1", "given earlier to another message"},
		{"IDs out of order", []seen{{1, msg(7, t0, "a")}}, false, 2, msg(6, t0, "b"), "HIST-1", "smaller than 7"},
		{"an ID above that of a later message", []seen{{3, msg(7, t0, "c")}}, false, 2, msg(8, t0, "b"), "HIST-1", "greater than 7"},
		{"one message, two IDs", []seen{{1, msg(7, t0, "a")}}, false, 1, msg(8, t0, "a"), "HIST-1", "shown earlier with the ID 7"},
		{"one message, two times", []seen{{1, msg(7, t0, "a")}}, false, 1, msg(7, t1, "a"), "HIST-1", "shown earlier with the time"},
		{"a time that goes back", []seen{{1, msg(7, t1, "a")}}, false, 2, msg(8, t0, "b"), "HIST-1", "earlier than"},
		{"a time after a later message's", []seen{{3, msg(9, t0, "c")}}, false, 2, msg(8, t1, "b"), "HIST-1", "later than"},
		{"IDs that start again after a restart", []seen{{1, msg(7, t0, "a")}}, true, 2, msg(1, t0, "b"), "HIST-5", "smaller than 7"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			m := NewIDs()
			for _, s := range tc.before {
				if err := m.Learn(s.model, s.line, "c1", s.line.String()); err != nil {
					t.Fatal(err)
				}
			}
			if tc.restart {
				m.Restarted()
			}
			err := m.Learn(tc.model, tc.line, "c2", tc.line.String())
			var ide *IDError
			if !errors.As(err, &ide) {
				t.Fatalf("learned %q as message %d: %v", tc.line, tc.model, err)
			}
			if ide.Rule != tc.rule || !strings.Contains(ide.Reason, tc.reason) || ide.Earlier == "" {
				t.Errorf("got %s %q (earlier: %q), want %s and %q", ide.Rule, ide.Reason, ide.Earlier, tc.rule, tc.reason)
			}
			if s := strings.NewReplacer("c2", "", tc.rule, "").Replace(ide.Summary()); strings.ContainsAny(s, "0123456789") {
				t.Errorf("the summary names an ID or a time, which vary from run to run: %s", ide.Summary())
			}
			// What failed is not learned.
			if id, ok := m.Server(tc.model); ok && id == tc.line.ID && tc.model != tc.before[0].model {
				t.Errorf("the mapping learned %d -> %d", tc.model, tc.line.ID)
			}
		})
	}
}

// TestNormalize checks the form of lines in summaries.
func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"MESSAGE 12 2026-12-01T09:00:00.000Z #r kim hi there": "MESSAGE <id> <time> #r kim hi there",
		"HISTORY 3 2026-12-01T09:00:00.000Z #r kim hi":        "HISTORY <id> <time> #r kim hi",
		"ROOM #r kim MESSAGE 1 2 3":                           "ROOM #r kim MESSAGE 1 2 3",
		"MESSAGE":                                             "MESSAGE",
		"OK History #r (2 messages)":                          "OK History #r (2 messages)",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
