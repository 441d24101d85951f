package commands

import (
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// The commands of a cluster (the cluster profile): killnode, stopnode,
// stoplog, startlog; connect -node chooses a node.

// cluster returns the cluster started for this script, or fails the script
// (as a usage error: the runner gives cluster scripts a cluster).
func (s *session) cluster(ts *testscript.TestScript, what string) Cluster {
	c, ok := s.server.(Cluster)
	if !ok {
		ts.Fatalf("%s needs a cluster started for this script (chatconform -cluster-nodes): give the script the cluster tag and a '# server:' header", what)
	}
	return c
}

// nodeNumber parses the number of a node of the script's cluster.
func (s *session) nodeNumber(ts *testscript.TestScript, what, arg string) (Cluster, int) {
	c := s.cluster(ts, what)
	n, err := strconv.Atoi(expand(ts, arg))
	if err != nil || n < 1 {
		ts.Fatalf("%s: bad node %q: want 1, 2, ...", what, arg)
	}
	if nodes := len(c.NodeAddrs()); n > nodes {
		ts.Fatalf("%s %d: the cluster has %d nodes", what, n, nodes)
	}
	return c, n
}

// nodeAddr returns the address of the node that arg numbers.
func (s *session) nodeAddr(ts *testscript.TestScript, what, arg string) string {
	c, n := s.nodeNumber(ts, what, arg)
	return c.NodeAddrs()[n-1]
}

// note adds a line about the cluster to the transcript.
func (s *session) clusterNote(who, text string) {
	s.tr.add(event{client: &Client{name: who}, kind: evNote, text: text})
}

// killnode N
func cmdKillNode(c *call) {
	cl, n := c.s.nodeNumber(c.ts, "killnode", c.args[0])
	who := "node " + strconv.Itoa(n)
	c.s.clusterNote(who, "killed (SIGKILL)")
	if err := cl.KillNode(n); err != nil {
		c.s.fatalf(c.ts, "killnode %d: %v", n, err)
	}
	c.s.clusterNote(who, "ended")
}

// stopnode N
func cmdStopNode(c *call) {
	cl, n := c.s.nodeNumber(c.ts, "stopnode", c.args[0])
	who := "node " + strconv.Itoa(n)
	c.s.clusterNote(who, "asked to shut down (SIGTERM)")
	if err := cl.StopNode(n); err != nil {
		c.s.fatalf(c.ts, "stopnode %d: %v", n, err)
	}
	c.s.clusterNote(who, "exited")
}

// stoplog
func cmdStopLog(c *call) {
	cl := c.s.cluster(c.ts, "stoplog")
	c.s.clusterNote("log", "stopped: the cluster's log is unreachable")
	if err := cl.StopLog(); err != nil {
		c.s.fatalf(c.ts, "stoplog: %v", err)
	}
}

// startlog
func cmdStartLog(c *call) {
	cl := c.s.cluster(c.ts, "startlog")
	if err := cl.StartLog(); err != nil {
		c.s.fatalf(c.ts, "startlog: %v", err)
	}
	c.s.clusterNote("log", "started again, accepting connections")
}
