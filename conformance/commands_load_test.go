package conformance

import (
	"strings"
	"testing"
	"time"
)

// TestLoadCommands checks the commands of commands_load.go, the name ranges
// and the extensions of floodsend, recvmany and recvmerge, against the echo
// server; churn, which needs a chat server, against the model server.
func TestLoadCommands(t *testing.T) {
	echo := startEcho(t)
	modelAddr := startModelServerT(t)
	full, err := startModelServer([]string{"-max-clients", "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { full.Stop() })
	for _, tc := range []struct {
		name, addr, script string
		pass               bool
		want               string // in the log
	}{
		{name: "range", pass: true, script: "connect 'a{1..3}'\nsendeach 'a{1..3}' 'OK %d'\nrecveach 'a{1..3}' 'OK %d'\nquiet 'a{1..3}'\n"},
		{name: "range_suffix", pass: true, script: "connect 'a{8..10}x' b\nsendeach 'a{8..10}x,b' 'OK %d'\nrecveach 'a{8..10}x,b' 'OK %d'\nquiet a9x b\n"},
		{name: "range_bad", want: "bad range", script: "connect 'a{3..1}'\n"},
		{name: "sendeach_raw", pass: true, script: "connect a b\nsendeach -raw a,b 'OK \\x{2}%d\\r\\n'\nrecveach a,b 'OK xx%d'\n"},
		{name: "sendeach_partial", pass: true, script: "connect a\nsendeach -raw a 'OK par'\nsendeach -raw a 'tial\\r\\n'\nrecv a 'OK partial'\n"},
		{name: "recveach_wrong", want: "recveach b: the next line differs", script: "connect a b\nsendeach a,b 'OK 1'\nrecveach a,b 'OK %d'\n"},
		{name: "sendeach_neg", want: "sendeach does not support !", script: "connect a\n! sendeach a 'OK'\n"},
		{name: "recveach_neg", want: "recveach does not support !", script: "connect a\n! recveach a 'OK'\n"},
		{name: "flood_templates", pass: true, script: "connect a\nfloodsend a 100 'OK a%d' 'OK b%d'\nrecvmany a 100 'OK a%d' 'OK b%d'\n"},
		{name: "recvmany_templates_wrong", want: "line 2 of 4 differs", script: "connect a\nsendmany a 'OK a1' 'OK a2' 'OK b1' 'OK b2'\nrecvmany a 2 'OK a%d' 'OK b%d'\n"},
		{name: "flood_bg", pass: true, script: "connect a\nfloodsend -bg a 3000 'OK %d'\nsend a 'OK end'\nfloodwait a\nrecvmany a 3000 'OK %d'\nrecv a 'OK end'\n"},
		{name: "flood_bg_twice", want: "already under way", script: "connect a\nfloodsend -bg a 10 'OK %d'\nfloodsend -bg a 10 'OK %d'\n"},
		{name: "floodwait_none", want: "no background flood", script: "connect a\nfloodwait a\n"},
		{name: "floodwait_neg", want: "floodwait does not support !", script: "connect a\n! floodwait a\n"},
		{name: "recvmerge_any", pass: true, script: "connect a b\nsendmany a 'OK x2' 'OK y1' 'OK x1'\nsendmany b 'OK x2' 'OK y1' 'OK x1'\nrecvmerge a,b -any 2 'OK x%d' 1 'OK y%d'\n"},
		{name: "recvmerge_any_twice", want: "not the next line of any stream", script: "connect a\nsendmany a 'OK x1' 'OK x1'\nrecvmerge a -any 2 'OK x%d'\n"},
		{name: "recvmerge_ordered", want: "not the next line of any stream", script: "connect a\nsendmany a 'OK x2' 'OK x1'\nrecvmerge a 2 'OK x%d'\n"},
		{name: "recvrooms_range", pass: true, script: "connect a\nsend a 'ROOMLIST #a10$U #a1$U #a2$U'\nrecvrooms a '#a{1..2}$U' '#a10$U'\n"},
		{name: "readrate", pass: true, script: "connect a\nreadrate a 2000\nsendmany a 'OK 1' 'OK 2' 'OK 3'\nrecvmany a 3 'OK %d'\nreadrate a 0\n"},
		{name: "readrate_neg", want: "readrate does not support !", script: "connect a\n! readrate a 0\n"},
		{name: "churn_neg", want: "churn does not support !", script: "! churn 1 a\n"},
		{name: "churn_usage", want: "usage: churn", script: "churn -quit -reset 1 a\n"},
		{name: "churn_refused_alone", want: "-refused takes no other option", script: "churn -refused -name 1 a\n"},
		{name: "churn_echo", want: `want "OK Welcome, n1!", got "USERNAME n1"`, script: "churn -name 1 n\n"},
		{name: "churn_model", addr: modelAddr, pass: true, script: "churn 20 'n$U-'\nchurn -name -quit 20 'q$U-'\nchurn -name -send 'MSG x' -reset 20 'r$U-'\nchurn -name -join '#c%d$U' 20 'j$U-'\nchurn -name -join '#c$U' -quit 20 'k$U-'\n"},
		{name: "churn_not_refused", addr: modelAddr, want: `want "ERROR Server full"`, script: "churn -refused 1 x\n"},
		{name: "churn_refused", addr: full.Addr(), pass: true, script: "connect a\nquiet a\nchurn -refused 10 x\nsend a 'QUIT'\nrecv a 'OK Goodbye!'\nclosed a\nchurn -name -quit 5 'q$U-'\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			addr := tc.addr
			if addr == "" {
				addr = echo
			}
			res := runText(t, addr, "cmd_"+tc.name, header+tc.script)
			if tc.pass != (res.Status == Pass) {
				t.Fatalf("status %s\n%s", res.Status, res.Log)
			}
			if tc.want != "" && !strings.Contains(res.Log, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, res.Log)
			}
		})
	}
}

// TestRobustnessTag: robustness is not an extension. A manifest need not
// declare it, and -tags can leave its scripts out.
func TestRobustnessTag(t *testing.T) {
	addr := startModelServerT(t)
	sc, err := ParseScript("robust_x.txtar", []byte("# tags: core, robustness\n# rules: USER-1\n\nconnect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		tags     []string
		manifest *Manifest
		want     Status
		reason   string
	}{
		{name: "default", want: Pass},
		{name: "manifest", manifest: &Manifest{Implements: []string{"core", "ping"}}, want: Pass},
		{name: "tags", tags: []string{"core", "ping"}, want: Skip, reason: "is a robustness script, not selected by -tags"},
		{name: "tags_with", tags: []string{"core", TagRobustness}, want: Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewRunner(Config{Addr: addr, Scripts: []*Script{sc}, Tags: tc.tags, Manifest: tc.manifest, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			res := r.RunScript(sc)
			if res.Status != tc.want || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("status %s (%s), want %s (%s)\n%s", res.Status, res.Reason, tc.want, tc.reason, res.Log)
			}
		})
	}
}
