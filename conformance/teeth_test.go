package conformance

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// faultFunc rewrites what the model server sends for one event.
type faultFunc = modelserver.Fault

// The fault helpers live beside the catalogue of named bugs, in package
// modelserver (bugs.go), which builds its bugs from them too.
var (
	dropLines = modelserver.DropLines // removes the outputs for which a func is true
	editLines = modelserver.EditLines // rewrites every output line
	isCommand = modelserver.IsCommand // whether an event is a line of a command
)

// TestSuiteCatchesBrokenServers runs scripts against model servers with one
// deliberate departure from PROTOCOL.md each, and requires the script that
// covers that rule to fail: the suite has teeth.
func TestSuiteCatchesBrokenServers(t *testing.T) {
	faults := []struct {
		name   string
		fault  faultFunc
		crlf   string
		flags  string
		script string // a script that must fail
		// ignoreLimits makes the server accept and ignore the flags of
		// section 8; the model server writes to each socket in turn,
		// blocking, so it then is a server that waits on slow readers.
		ignoreLimits bool
	}{
		{name: "greets on connect", script: "frame_silent_until_spoken",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.Connect && len(outs) == 0 {
					return []model.Output{{To: id, Line: "OK Hello"}}
				}
				return outs
			}},
		{name: "ends lines with LF", crlf: "\n", script: "session_example"},
		{name: "answers empty lines", script: "frame_empty_line",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.Line && ev.Line == "" {
					return append(outs, model.Output{To: id, Line: "ERROR Username required"})
				}
				return outs
			}},
		{name: "no echo to the sender", script: "msg_echo",
			fault: dropLines(func(ev model.Event, id model.ClientID, o model.Output) bool {
				return ev.Kind == model.Line && o.To == id && strings.HasPrefix(o.Line, "ROOM ")
			})},
		{name: "duplicates room messages", script: "order_unaltered",
			fault: func(_ *modelServer, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
				var out []model.Output
				for _, o := range outs {
					out = append(out, o)
					if strings.HasPrefix(o.Line, "ROOM ") {
						out = append(out, o)
					}
				}
				return out
			}},
		{name: "no history", script: "join_history",
			fault: dropLines(func(ev model.Event, id model.ClientID, o model.Output) bool {
				return isCommand(ev, "JOIN") && o.To == id && strings.HasPrefix(o.Line, "ROOM ")
			})},
		{name: "history of 9", script: "join_history",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if !isCommand(ev, "JOIN") {
					return outs
				}
				i := slices.IndexFunc(outs, func(o model.Output) bool { return o.To == id && strings.HasPrefix(o.Line, "ROOM ") })
				if i >= 0 && len(outs) > 12 {
					outs = slices.Delete(outs, i, i+1)
				}
				return outs
			}},
		{name: "roster newest first", script: "join_roster_order",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if !isCommand(ev, "JOIN") {
					return outs
				}
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
			}},
		{name: "says 1 user", script: "join_errors",
			fault: editLines(func(l string) string { return strings.Replace(l, "(1 users)", "(1 user)", 1) })},
		{name: "ROOMLIST in creation order", script: "rooms_sorted",
			fault: func(s *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				for i, o := range outs {
					if strings.HasPrefix(o.Line, "ROOMLIST ") {
						f := strings.Fields(o.Line)[1:]
						slices.Reverse(f)
						outs[i].Line = "ROOMLIST " + strings.Join(f, " ")
					}
				}
				return outs
			}},
		{name: "silent disconnects", script: "disc_leave_note",
			fault: dropLines(func(ev model.Event, _ model.ClientID, o model.Output) bool {
				return ev.Kind == model.Disconnect && strings.HasPrefix(o.Line, "LEAVE ")
			})},
		{name: "tells the leaver", script: "leave_room",
			fault: func(s *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				for _, o := range outs {
					if isCommand(ev, "LEAVE") && strings.HasPrefix(o.Line, "OK Left ") {
						room := strings.TrimPrefix(o.Line, "OK Left ")
						return append(outs, model.Output{To: id, Line: "LEAVE " + room + " " + s.State().Name(id)})
					}
				}
				return outs
			}},
		{name: "wrong error text", script: "msg_not_in_room",
			fault: editLines(func(l string) string { return strings.Replace(l, "Not in a room", "Not in room", 1) })},
		{name: "ignores PING", script: "ping_any_state",
			fault: dropLines(func(_ model.Event, _ model.ClientID, o model.Output) bool { return strings.HasPrefix(o.Line, "PONG") })},
		{name: "keeps the line after QUIT open", script: "quit_any_state",
			fault: dropLines(func(ev model.Event, _ model.ClientID, o model.Output) bool { return isCommand(ev, "QUIT") && o.Close })},
		{name: "lets everyone in", flags: "-max-clients 2", script: "limit_max_clients",
			fault: dropLines(func(ev model.Event, _ model.ClientID, o model.Output) bool {
				return ev.Kind == model.Connect
			})},
		// The variants the conformance issue names; each must fail the script
		// given here.
		{name: "accepts duplicate names", script: "user_username",
			fault: func(_ *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				for i, o := range outs {
					if o.Line == "ERROR "+spec.ErrUsernameTaken {
						outs[i].Line = "OK " + spec.OKWelcome(strings.TrimPrefix(ev.Line, "USERNAME "))
					}
				}
				return outs
			}},
		{name: "drops a JOIN notice", script: "join_notifies_members",
			fault: dropLines(func(_ model.Event, id model.ClientID, o model.Output) bool {
				return o.To != id && strings.HasPrefix(o.Line, "JOIN ")
			})},
		{name: "reorders two room messages", script: "order_same_for_all", fault: swapRoomLines()},
		{name: "relays an overlong line", script: "frame_line_too_long",
			fault: func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.LineTooLong {
					return []model.Output{{To: id, Line: "ROOM #relay relay " + strings.Repeat("x", spec.MaxLineLen)}}
				}
				return outs
			}},
		{name: "never frees a name", script: "name_freed", fault: neverFreeNames()},
		{name: "blocks on a slow reader", script: "limit_slow_consumer", ignoreLimits: true},
		// Unicode case folding where NAME-3 folds ASCII only.
		{name: "accepts look-alike usernames", script: "name_fold_ascii_only",
			fault: func(_ *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				name, ok := strings.CutPrefix(ev.Line, "USERNAME ")
				for i, o := range outs {
					if ok && o.Line == "ERROR "+spec.ErrInvalidUsername && strings.ToLower(name) != spec.Fold(name) {
						outs[i].Line = "OK " + spec.OKWelcome(name)
					}
				}
				return outs
			}},
		{name: "finds users by Unicode folding", script: "name_fold_ascii_only",
			fault: func(s *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				cmd, err := spec.ParseCommand(ev.Line)
				if err != nil || cmd.Kind != spec.Privmsg {
					return outs
				}
				for i, o := range outs {
					if o.Line == "ERROR "+spec.ErrUserNotFound && slices.ContainsFunc(s.State().Users(), func(u string) bool { return strings.EqualFold(u, cmd.Arg) }) {
						outs[i].Line = "OK " + spec.OKSent
					}
				}
				return outs
			}},
		{name: "sends LEAVE on shutdown", script: "shutdown_notice",
			fault: func(s *modelServer, _ model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.Shutdown && len(outs) > 0 {
					return append([]model.Output{{To: outs[0].To, Line: "LEAVE #x y"}}, outs...)
				}
				return outs
			}},
	}
	scripts := loadSuite(t)
	for _, f := range faults {
		t.Run(strings.ReplaceAll(f.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			start := func(flags []string) (Server, error) {
				if f.ignoreLimits {
					flags = withoutLimitFlags(flags)
				}
				return startFaultyModelServer(append(strings.Fields(f.flags), flags...), f.fault, f.crlf)
			}
			r, err := NewRunner(Config{
				Start:   start,
				Scripts: scripts,
				Run:     regexp.MustCompile("^" + f.script + "$"),
				Timeout: time.Second,
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

// withoutLimitFlags drops the queue and timeout flags of section 8 and
// their values.
func withoutLimitFlags(flags []string) []string {
	var kept []string
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "-max-queue-bytes", "-write-timeout", "-idle-timeout":
			i++
		default:
			kept = append(kept, flags[i])
		}
	}
	return kept
}

// swapRoomLines holds back every other ROOM line to each client and sends
// it after the next one: two room messages arrive in the wrong order.
func swapRoomLines() faultFunc {
	held := map[model.ClientID]model.Output{}
	return func(_ *modelServer, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		var res []model.Output
		for _, o := range outs {
			if !strings.HasPrefix(o.Line, "ROOM ") {
				res = append(res, o)
				continue
			}
			if h, ok := held[o.To]; ok {
				delete(held, o.To)
				res = append(res, o, h)
			} else {
				held[o.To] = o
			}
		}
		return res
	}
}

// neverFreeNames refuses a name that anyone has ever held, as a server
// would that forgets to free names on QUIT or disconnect.
func neverFreeNames() faultFunc {
	owner := map[string]model.ClientID{}
	return func(_ *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
		for i, o := range outs {
			if !strings.HasPrefix(o.Line, "OK Welcome, ") {
				continue
			}
			name := spec.Fold(strings.TrimPrefix(ev.Line, "USERNAME "))
			if prev, ok := owner[name]; ok && prev != id {
				outs[i].Line = "ERROR " + spec.ErrUsernameTaken
			} else {
				owner[name] = id
			}
		}
		return outs
	}
}

// TestTeethUnboundedStall runs the stall scripts against the reference
// server with a stall budget of an hour: the flow control of the first
// edition of PROTOCOL.md, which held a room back for as long as a member
// that stopped reading had not yet met its write timeout. Each script must
// fail: that rule let one client freeze its room.
func TestTeethUnboundedStall(t *testing.T) {
	start := referenceServer(t, "-stall-budget 1h")
	scripts := loadSuite(t)
	for _, name := range []string{"limit_stalled_member", "limit_stall_cycles"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := NewRunner(Config{
				Start:   start,
				Scripts: scripts,
				Run:     regexp.MustCompile("^" + name + "$"),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sel := r.Selected()
			if len(sel) != 1 {
				t.Fatalf("no script %s", name)
			}
			res := r.RunScript(sel[0])
			if res.Status != Fail {
				t.Errorf("%s %s against chatd -stall-budget 1h; want FAIL", res.Status, name)
			} else if testing.Verbose() {
				t.Log(Details(res))
			}
		})
	}
}
