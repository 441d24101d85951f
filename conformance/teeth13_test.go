package conformance

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// TestSuiteCatchesBrokenSection13 is TestSuiteCatchesBrokenServers for the
// extensions of PROTOCOL.md section 13: each model server departs from one
// of its rules, and the script named must fail.
func TestSuiteCatchesBrokenSection13(t *testing.T) {
	faults := []struct {
		name   string
		fault  faultFunc
		script string // a script that must fail
		// drop are server flags the server ignores: it keeps the defaults.
		drop []string
		// amnesia makes a restart forget everything, as a server without
		// durable storage.
		amnesia bool
	}{
		{name: "lists its extensions in another order", script: "caps_discovery",
			fault: replaceLines("CAPS accounts history rooms", "CAPS history accounts rooms")},
		{name: "takes CAPS after the name", script: "caps_only_new",
			fault: func(_ *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if isCommand(ev, "CAPS") && len(outs) == 1 && outs[0].Line == "ERROR "+spec.ErrNotInRoom {
					outs[0].Line = "OK Enabled accounts"
				}
				return outs
			}},
		{name: "takes LOGIN from a core client", script: "caps_core_client",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if isCommand(ev, "LOGIN") && len(outs) > 0 && strings.HasPrefix(outs[0].Line, "ROOM ") {
					return []model.Output{{To: id, Line: "ERROR " + spec.ErrLoginFailed}}
				}
				return outs
			}},
		{name: "gives a message other IDs for other members", script: "hist_mixed_room",
			fault: func(_ *modelServer, id model.ClientID, _ model.Event, outs []model.Output) []model.Output {
				for i, o := range outs {
					if o.To != id {
						outs[i].Line = shiftID(o.Line, 1000)
					}
				}
				return outs
			}},
		{name: "replays ROOM lines to a history member", script: "hist_message_ids",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				for i, o := range outs {
					if l, err := spec.ParseServerLine(o.Line); isCommand(ev, "JOIN") && o.To == id && err == nil && l.Kind == spec.Message {
						outs[i].Line = spec.RoomLine(l.Room, l.User, l.Text).String()
					}
				}
				return outs
			}},
		{name: "gives later messages earlier times", script: "hist_message_ids",
			fault: editLines(func(line string) string {
				l, err := spec.ParseServerLine(line)
				if err != nil || l.Kind != spec.Message && l.Kind != spec.Stored {
					return line
				}
				l.Time = spec.FormatMsgTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Duration(l.ID) * time.Second))
				return l.String()
			})},
		{name: "answers HISTORY newest first", script: "hist_paging",
			fault: func(_ *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if isCommand(ev, "HISTORY") && len(outs) > 2 {
					slices.Reverse(outs[:len(outs)-1])
				}
				return outs
			}},
		{name: "counts HISTORY lines wrongly", script: "hist_stored",
			fault: editLines(func(l string) string { return strings.Replace(l, "(1 messages)", "(1 message)", 1) })},
		{name: "says who has the name to a wrong password", script: "acct_login",
			fault: func(_ *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if isCommand(ev, "LOGIN") && strings.Contains(ev.Line, "wrong-horse") {
					return replaceLines("ERROR "+spec.ErrLoginFailed, "ERROR "+spec.ErrUsernameTaken)(nil, 0, ev, outs)
				}
				return outs
			}},
		{name: "frees an account's name", script: "acct_name_taken",
			fault: func(s *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				name, ok := strings.CutPrefix(ev.Line, "USERNAME ")
				if ok && len(outs) == 1 && outs[0].Line == "ERROR "+spec.ErrUsernameTaken && !slices.ContainsFunc(s.State().Users(), func(u string) bool { return spec.Fold(u) == spec.Fold(name) }) {
					outs[0].Line = "OK " + spec.OKWelcome(name)
				}
				return outs
			}},
		{name: "checks the old password first", script: "acct_password",
			fault: func(_ *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if isCommand(ev, "PASSWORD") && strings.Contains(ev.Line, "wrong-horse") {
					return replaceLines("ERROR "+spec.ErrInvalidPassword, "ERROR "+spec.ErrWrongPassword)(nil, 0, ev, outs)
				}
				return outs
			}},
		{name: "never doubles the login delay", script: "acct_login_delay", drop: []string{"-login-delay"}},
		{name: "has no bucket per address", script: "acct_login_bucket", drop: []string{"-login-burst", "-login-rate"}},
		{name: "keeps every message", script: "hist_keep", drop: []string{"-history-keep"}},
		{name: "keeps messages of any age", script: "hist_max_age", drop: []string{"-history-max-age"}},
		{name: "forgets everything on a restart", script: "hist_restart", amnesia: true},
		{name: "forgets everything on a crash", script: "hist_kill", amnesia: true},
	}
	scripts := loadSuite(t)
	for _, f := range faults {
		t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			start := func(flags []string) (Server, error) {
				flags = withoutFlags(flags, f.drop...)
				if f.amnesia {
					return startAmnesiac(flags)
				}
				return startFaultyModelServer(flags, f.fault, "")
			}
			r, err := NewRunner(Config{
				Start:   start,
				Scripts: scripts,
				Run:     regexp.MustCompile("^" + f.script + "$"),
				Timeout: 2 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sel := r.Selected()
			if len(sel) != 1 {
				t.Fatalf("no script %s", f.script)
			}
			res := r.RunScript(sel[0])
			if res.Status != Fail {
				t.Errorf("%s %s against a server that %s; want FAIL", res.Status, f.script, f.name)
			} else if testing.Verbose() {
				t.Log(Details(res))
			}
		})
	}
}

// replaceLines returns a fault that sends to instead of every line from.
func replaceLines(from, to string) faultFunc {
	return editLines(func(l string) string {
		if l == from {
			return to
		}
		return l
	})
}

// shiftID adds n to the ID of a MESSAGE or HISTORY line.
func shiftID(line string, n uint64) string {
	l, err := spec.ParseServerLine(line)
	if err != nil || l.Kind != spec.Message && l.Kind != spec.Stored {
		return line
	}
	l.ID += n
	return l.String()
}

// withoutFlags drops the flags named, with their values.
func withoutFlags(flags []string, drop ...string) []string {
	var kept []string
	for i := 0; i < len(flags); i++ {
		if slices.Contains(drop, flags[i]) {
			i++
			continue
		}
		kept = append(kept, flags[i])
	}
	return kept
}

// amnesiac is a model server whose restart starts a new model server on
// the same address: a server that keeps nothing across a restart.
type amnesiac struct {
	*modelServer
	flags []string
}

// startAmnesiac starts an amnesiac model server.
func startAmnesiac(flags []string) (Server, error) {
	s, err := startFaultyModelServer(flags, nil, "")
	if err != nil {
		return nil, err
	}
	return &amnesiac{modelServer: s, flags: flags}, nil
}

func (a *amnesiac) Restart(kill bool) error {
	// The connections end as they would (with or without the notice of
	// SHUT-1), then the model is dropped.
	if err := a.modelServer.Restart(kill); err != nil {
		return err
	}
	addr := a.Addr()
	a.modelServer.Stop()
	s, err := modelserver.Listen(modelserver.Config{Addr: addr, Flags: a.flags})
	if err != nil {
		return fmt.Errorf("amnesiac restart on %s: %w", addr, err)
	}
	a.modelServer = s
	return nil
}
