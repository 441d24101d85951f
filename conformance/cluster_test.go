package conformance

import (
	"strings"
	"testing"
)

// TestParseClusterScript: a script that names the nodes of a cluster, or
// stops its log, must be of the cluster tag and have a server of its own,
// and the runner learns how many nodes it needs.
func TestParseClusterScript(t *testing.T) {
	for _, tc := range []struct {
		text     string
		nodes    int
		stopsLog bool
		err      string
	}{
		{text: "# tags: core, cluster\n# rules: CLUSTER-1\n# server:\nconnect -node 2 a\n[cluster] killnode 3\n", nodes: 3},
		{text: "# tags: core, cluster\n# rules: CLUSTER-7\n# server:\nconnect a\nstoplog\nstartlog\n", stopsLog: true},
		{text: "# tags: core, cluster\n# rules: CLUSTER-6\n# server:\nconnect -rcvbuf 4096 -node 2 a\nstopnode 2\n", nodes: 2},
		{text: "# tags: core, cluster\n# rules: CLUSTER-1\nconnect -node 2 a\n", err: "'# server:'"},
		{text: "# tags: core\n# rules: CLUSTER-1\n# server:\nkillnode 2\n", err: "cluster tag"},
		{text: "# tags: core\n# rules: USER-1\nconnect a\n# connect -node 5 is only a comment here\n"},
	} {
		sc, err := parseScript("x.txtar", []byte(tc.text))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.text, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.text, err)
		case sc.Nodes != tc.nodes || sc.StopsLog != tc.stopsLog:
			t.Errorf("%q: Nodes %d, StopsLog %v; want %d, %v", tc.text, sc.Nodes, sc.StopsLog, tc.nodes, tc.stopsLog)
		}
	}
}

// TestClusterScriptsSkipped: the runner skips a script of the cluster
// tag, saying why, when it starts no cluster, one with too few nodes, or
// one without a log it controls.
func TestClusterScriptsSkipped(t *testing.T) {
	parse := func(text string) *Script {
		sc, err := parseScript("c.txtar", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	three := parse("# tags: core, cluster\n# rules: CLUSTER-5\n# server:\nconnect -node 3 a\n")
	logScript := parse("# tags: core, cluster\n# rules: CLUSTER-7\n# server:\nstoplog\n")
	start := func([]string) (Server, error) { panic("not started") }
	for _, tc := range []struct {
		cfg  Config
		sc   *Script
		want string
	}{
		{Config{Addr: "127.0.0.1:1"}, three, "-cluster-nodes"},
		{Config{Start: start}, three, "-cluster-nodes"},
		{Config{Start: start, ClusterNodes: 2}, three, "3 nodes"},
		{Config{Start: start, ClusterNodes: 3}, logScript, "-cluster-log"},
	} {
		tc.cfg.Scripts = []*Script{tc.sc}
		r, err := NewRunner(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		res := r.RunScript(tc.sc)
		r.Close()
		if res.Status != Skip || !strings.Contains(res.Reason, tc.want) {
			t.Errorf("%+v: %v %q, want SKIP mentioning %q", tc.cfg, res.Status, res.Reason, tc.want)
		}
	}
}
