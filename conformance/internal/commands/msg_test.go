package commands_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/conformance/internal/modelserver"
)

// TestMsgCommands checks recvmsg and unseen against the echo server, which
// sends back whatever MESSAGE and HISTORY lines a script writes: each check
// of recvmsg can fail, and can pass.
func TestMsgCommands(t *testing.T) {
	echo := startEcho(t)
	const (
		t0 = "2026-01-01T00:00:00.000Z"
		t1 = "2026-01-01T00:00:01.000Z"
	)
	msg := func(id, time, rest string) string { return "'MESSAGE " + id + " " + time + " " + rest + "'" }
	stored := func(id, time, rest string) string { return "'HISTORY " + id + " " + time + " " + rest + "'" }
	for _, tc := range []struct {
		name, script string
		pass         bool
		want         string // in the log
	}{
		{name: "match", pass: true, script: "connect a\nsend a " + msg("1", t0, "#r u hi there") + "\nrecvmsg a '#r' u 'hi there'\n"},
		{name: "stored", pass: true, script: "connect a\nsend a " + stored("1", t0, "#r u hi") + "\nrecvmsg -stored a '#r' u hi\n"},
		{name: "room_line", want: "a ROOM line, the core form", script: "connect a\nsend a 'ROOM #r u hi'\nrecvmsg a '#r' u hi\n"},
		{name: "stored_wants_history", want: "a MESSAGE line, not one of the HISTORY lines", script: "connect a\nsend a " + msg("1", t0, "#r u hi") + "\nrecvmsg -stored a '#r' u hi\n"},
		{name: "history_line", want: "recvmsg -stored matches those", script: "connect a\nsend a " + stored("1", t0, "#r u hi") + "\nrecvmsg a '#r' u hi\n"},
		{name: "other_text", want: "about another message", script: "connect a\nsend a " + msg("1", t0, "#r u hi") + "\nrecvmsg a '#r' u ho\n"},
		{name: "other_room", want: "about another message", script: "connect a\nsend a " + msg("1", t0, "#R u hi") + "\nrecvmsg a '#r' u hi\n"},
		{name: "bad_time", want: "invalid message time", script: "connect a\nsend a " + msg("1", "2026-01-01T00:00:00Z", "#r u hi") + "\nrecvmsg a '#r' u hi\n"},
		{name: "bad_id", want: "invalid message ID", script: "connect a\nsend a " + msg("01", t0, "#r u hi") + "\nrecvmsg a '#r' u hi\n"},
		// The record of the script run (HIST-1).
		{name: "id_reused", want: "ID 1 stands for two different messages", script: "connect a b\nsend a " + msg("1", t0, "#r u hi") + "\nsend b " + msg("1", t0, "#r u ho") + "\nrecvmsg a '#r' u hi\nrecvmsg b '#r' u ho\n"},
		{name: "id_other_time", want: "ID 1 stands for two different messages", script: "connect a b\nsend a " + msg("1", t0, "#r u hi") + "\nsend b " + stored("1", t1, "#r u hi") + "\nrecvmsg a '#r' u hi\nrecvmsg -stored b '#r' u hi\n"},
		{name: "id_same_everywhere", pass: true, script: "connect a b\nsend a " + msg("1", t0, "#r u hi") + "\nsend b " + stored("1", t0, "#r u hi") + "\nrecvmsg a '#r' u hi\nrecvmsg -stored b '#r' u hi\n"},
		{name: "time_back", want: "a message with a larger ID never has an earlier time", script: "connect a b\nsend a " + msg("2", t1, "#r u hi") + "\nsend b " + msg("3", t0, "#s v ho") + "\nrecvmsg a '#r' u hi\nrecvmsg b '#s' v ho\n"},
		{name: "time_same", pass: true, script: "connect a b\nsend a " + msg("2", t0, "#r u hi") + "\nsend b " + msg("3", t0, "#s v ho") + "\nrecvmsg a '#r' u hi\nrecvmsg b '#s' v ho\n"},
		// The order of each connection's runs.
		{name: "message_order", want: "ID 1 comes after ID 2, but the IDs of a connection's MESSAGE lines", script: "connect a\nsend a " + msg("2", t0, "#r u x") + "\nsend a " + msg("1", t0, "#r u y") + "\nrecvmsg a '#r' u x\nrecvmsg a '#r' u y\n"},
		{name: "message_order_unchecked_between", want: "ID 1 comes after ID 3", script: "connect a\nsend a " + msg("3", t0, "#r u x") + "\nsend a 'OK x'\nsend a " + msg("1", t0, "#r u y") + "\nrecvmsg a '#r' u x\nrecv a 'OK x'\nrecvmsg a '#r' u y\n"},
		{name: "replay_after_join", pass: true, script: "connect a\nsend a " + msg("5", t1, "#r u x") + "\nsend a 'OK Joined #s (1 users)'\nsend a " + msg("2", t0, "#s v 1") + "\nsend a " + msg("3", t0, "#s v 2") + "\nrecvmsg a '#r' u x\nrecv a 'OK Joined #s (1 users)'\nrecvmsg -count 2 a '#s' v '%d'\n"},
		{name: "replay_order", want: "ID 2 comes after ID 3", script: "connect a\nsend a 'OK Joined #s (1 users)'\nsend a " + msg("3", t0, "#s v y") + "\nsend a " + msg("2", t0, "#s v z") + "\nrecv a 'OK Joined #s (1 users)'\nrecvmsg a '#s' v y\nrecvmsg a '#s' v z\n"},
		{name: "other_connection", pass: true, script: "connect a b\nsend a " + msg("2", t0, "#r u x") + "\nsend b " + msg("1", t0, "#r u y") + "\nrecvmsg a '#r' u x\nrecvmsg b '#r' u y\n"},
		{name: "history_order", want: "HISTORY lines of one reply (HIST-3: oldest first)", script: "connect a\nsend a " + stored("2", t0, "#r u x") + "\nsend a " + stored("1", t0, "#r u y") + "\nrecvmsg -stored a '#r' u x\nrecvmsg -stored a '#r' u y\n"},
		{name: "history_replies", pass: true, script: "connect a\nsend a " + stored("2", t0, "#r u x") + "\nsend a 'OK History #r (1 messages)'\nsend a " + stored("1", t0, "#r u y") + "\nrecvmsg -stored a '#r' u x\nrecv a 'OK History #r (1 messages)'\nrecvmsg -stored a '#r' u y\n"},
		// -id, -new, -set and -count.
		{name: "set_id", pass: true, script: "connect a b\nsend a " + msg("7", t0, "#r u x") + "\nsend b " + msg("7", t0, "#r u x") + "\nrecvmsg -set first a '#r' u x\nrecvmsg -id $first b '#r' u x\nsend a 'OK $first'\nrecv a 'OK 7'\n"},
		{name: "id_differs", want: "the message has ID 8, not 7 as -id says", script: "connect a\nsend a " + msg("8", t0, "#r u x") + "\nrecvmsg -id 7 a '#r' u x\n"},
		{name: "id_unset", want: "is not a message ID (is the variable set", script: "connect a\nrecvmsg -id $nothing a '#r' u x\n"},
		{name: "new", pass: true, script: "connect a\nsend a " + msg("1", t0, "#r u x") + "\nsend a " + msg("2", t0, "#r u y") + "\nrecvmsg a '#r' u x\nrecvmsg -new a '#r' u y\n"},
		{name: "new_not_above", want: "not above 5, an ID this script saw earlier", script: "connect a b\nsend a " + msg("5", t0, "#r u x") + "\nsend b " + msg("4", t0, "#s u y") + "\nrecvmsg a '#r' u x\nrecvmsg -new b '#s' u y\n"},
		{name: "count", pass: true, script: "connect a\nsend a " + msg("3", t0, "#r u m1") + "\nsend a " + msg("5", t0, "#r u m2") + "\nsend a " + msg("9", t0, "#r u m3") + "\nrecvmsg -count 3 -set first a '#r' u 'm%d'\nsend a 'OK $first'\nrecv a 'OK 3'\n"},
		{name: "count_wrong", want: "(line 2 of 2)", script: "connect a\nsend a " + msg("3", t0, "#r u m1") + "\nsend a " + msg("5", t0, "#r u m3") + "\nrecvmsg -count 2 a '#r' u 'm%d'\n"},
		{name: "count_zero", want: "want at least 1 line", script: "connect a\nrecvmsg -count 0 a '#r' u 'm%d'\n"},
		{name: "count_id", want: "-id names the ID of one line: not with -count", script: "connect a\nrecvmsg -count 2 -id 1 a '#r' u 'm%d'\n"},
		{name: "neg", want: "recvmsg does not support !", script: "connect a\n! recvmsg a '#r' u x\n"},
		// unseen.
		{name: "unseen", pass: true, script: "connect a\nsend a 'OK one'\nrecv a 'OK one'\nunseen secret\n"},
		{name: "unseen_seen", want: `a received "OK my secret", which holds "secret"`, script: "connect a\nsend a 'OK my secret'\nrecv a 'OK my secret'\nunseen other secret\n"},
		{name: "unseen_unread", want: "which holds", script: "connect a\nsend a 'OK secret'\nsleep 100ms\nunseen secret\n"},
		{name: "unseen_closed", want: "which holds", script: "connect a b\nsend a 'OK secret'\nrecv a 'OK secret'\ndisconnect a\nconnect a\nunseen secret\n"},
		{name: "unseen_empty", want: "an empty TEXT", script: "connect a\nunseen ''\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runText(t, echo, "msg_"+tc.name, header+tc.script)
			if tc.pass != (res.Status == conformance.Pass) {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if tc.want != "" && !strings.Contains(res.Log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, res.Log)
			}
		})
	}
}

// runFresh runs one script text, which has a "# server:" header, on a
// server that start starts for it, and returns its result.
func runFresh(t *testing.T, start conformance.StartFunc, name, text string) conformance.Result {
	t.Helper()
	scripts, err := conformance.LoadScripts(fstest.MapFS{name + ".txtar": {Data: []byte(text)}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := conformance.NewRunner(conformance.Config{Start: start, Scripts: scripts, Timeout: 2 * time.Second, Wire: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.RunScript(scripts[0])
}

// notRestarter is a server that cannot be restarted.
type notRestarter struct{ conformance.Server }

// TestRestart checks restart against the model server, which restarts in
// process: the connections end, $ADDR leads to the new server, and what
// HIST-5 keeps is kept; and that a script that uses restart is skipped
// where no server can be restarted.
func TestRestart(t *testing.T) {
	model := func(flags []string) (conformance.Server, error) { return modelserver.Start(flags, nil, "") }
	const fresh = "# tags: core, caps, accounts\n# rules: USER-1\n# server:\n\n"
	const register = "connect a\nsend a 'CAPS accounts'\nrecv a 'OK Enabled accounts'\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\nsend a 'REGISTER password-$U'\nrecv a 'OK Registered a$U'\n"
	const login = "connect b\nsend b 'CAPS accounts'\nrecv b 'OK Enabled accounts'\nsend b 'LOGIN a$U password-$U'\nrecv b 'OK Welcome, a$U!'\n"
	for _, tc := range []struct {
		name   string
		start  conformance.StartFunc
		script string
		status conformance.Status
		want   string // in the log or the reason
	}{
		{name: "graceful", start: model, status: conformance.Pass, want: "server: started again, listening on",
			script: register + "restart\nrecv a 'ERROR Server shutting down'\nclosed a\n" + login},
		{name: "kill", start: model, status: conformance.Pass, want: "server: killed (SIGKILL)",
			script: register + "restart -kill\nclosed a\n" + login + "restart -kill\nclosed b\nconnect a\nsend a 'CAPS accounts'\nrecv a 'OK Enabled accounts'\nsend a 'LOGIN a$U password-$U'\nrecv a 'OK Welcome, a$U!'\n"},
		{name: "usage", start: model, status: conformance.Fail, want: "usage: restart [-kill]", script: "restart now\n"},
		{name: "option", start: model, status: conformance.Fail, want: "usage: restart [-kill]", script: "restart -hard\n"},
		{name: "neg", start: model, status: conformance.Fail, want: "restart does not support !", script: "! restart\n"},
		{name: "not_restarter", status: conformance.Skip, want: "cannot be restarted",
			start: func(flags []string) (conformance.Server, error) {
				s, err := model(flags)
				return notRestarter{s}, err
			}, script: "restart\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runFresh(t, tc.start, "restart_"+tc.name, fresh+tc.script)
			if res.Status != tc.status {
				t.Fatalf("status %s, want %s\n%s", res.Status, tc.status, res.Log)
			}
			var wire strings.Builder
			for _, e := range res.Wire {
				wire.WriteString(e.Client + ": " + e.Text + "\n")
			}
			if !strings.Contains(res.Log+res.Reason+wire.String(), tc.want) {
				t.Errorf("log lacks %q:\n%s%s%s", tc.want, res.Reason, res.Log, wire.String())
			}
		})
	}

	// On a shared server, a script that restarts is skipped, saying why.
	res := runText(t, startModelServer(t), "restart_shared", "# tags: core\n# rules: USER-1\n# server:\n\nrestart\n")
	if res.Status != conformance.Skip || !strings.Contains(res.Reason, "restarts its server") {
		t.Errorf("on -addr: %s %q; want SKIP, saying the script restarts its server", res.Status, res.Reason)
	}
	// A script that restarts needs a "# server:" header.
	if _, err := conformance.LoadScripts(fstest.MapFS{"x_y.txtar": {Data: []byte(header + "[core] restart -kill\n")}}); err == nil || !strings.Contains(err.Error(), "# server:") {
		t.Errorf("restart without '# server:': err = %v; want an error asking for the header", err)
	}
}
