package main

import (
	"net"
	"regexp"
	"strings"
	"testing"

	"roomchat.dev/roomchat/conformance"
)

// startModel starts the model of PROTOCOL.md in process and returns its
// address.
func startModel(t *testing.T) string {
	t.Helper()
	srv, err := conformance.StartModelServer(conformance.ModelServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv.Addr()
}

// TestConcurrentNodes: -nodes spreads the concurrent checker's clients
// over the nodes. Three addresses of one model server pass; three
// separate model servers, which are not one service (two clients on two
// of them both get one name), fail, and the report names each client's
// node.
func TestConcurrentNodes(t *testing.T) {
	one := startModel(t)
	code, stdout, stderr := chatconform("-nodes", one+","+one+","+one, "-run", "^$", "-concurrent", "6", "-histories", "5", "-seed", "1")
	if code != exitPass || !strings.Contains(stdout, "PASS  concurrent") || !strings.Contains(stdout, "5 concurrent histories of 6 clients over 3 nodes") {
		t.Errorf("one server at three addresses: exit %d\n%s%s", code, stdout, stderr)
	}

	a, b, c := startModel(t), startModel(t), startModel(t)
	code, stdout, stderr = chatconform("-nodes", a+", "+b+","+c, "-run", "^$", "-concurrent", "6", "-histories", "50", "-seed", "1")
	// Shrinking keeps each client's node, but which clients it keeps
	// depends on the run.
	for _, want := range []string{"FAIL  concurrent", "the clients were spread over 3 nodes of one service: n1 " + a + ": ", "; n2 " + b + ": ", "; n3 " + c + ": "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("three servers: the output lacks %q", want)
		}
	}
	for _, re := range []string{`(?m)^\s+c[1-6] \(n[1-3]\): `, `(?m)^\s+c[1-6]'* \(n[1-3] 127\.0\.0\.1:\d+\):$`} {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("three servers: no program line or transcript names its node (%s)", re)
		}
	}
	if code != exitFail || t.Failed() {
		t.Errorf("three servers: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestNodesFlag: -nodes wants -concurrent, running nodes (not -exec) and
// host:port addresses, and each node must be testable.
func TestNodesFlag(t *testing.T) {
	addr := startModel(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no_concurrent", []string{"-nodes", addr}, exitUsage, "give -concurrent N too"},
		{"exec", []string{"-nodes", addr, "-concurrent", "2", "-exec", "chatd -addr {addr}"}, exitUsage, "not -exec"},
		{"servers", []string{"-nodes", addr, "-servers", "x", "-html", t.TempDir()}, exitUsage, "give no -addr, -exec, -nodes or -manifest"},
		{"no_port", []string{"-nodes", addr + ",127.0.0.1", "-concurrent", "2"}, exitUsage, `-nodes: address "127.0.0.1" is not host:port`},
		{"empty", []string{"-nodes", addr + ",", "-concurrent", "2"}, exitUsage, `-nodes: address "" is not host:port`},
		{"node_down", []string{"-nodes", addr + "," + closed, "-concurrent", "2", "-run", "^$"}, exitUntestable, "cannot test node n2 (-nodes " + closed + ")"},
		// -addr is the scripts' target; every node is still checked.
		{"addr_elsewhere", []string{"-addr", addr, "-nodes", closed, "-concurrent", "2", "-run", "^$"}, exitUntestable, "cannot test node n1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := chatconform(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d and %q\n%s%s", code, tc.code, tc.want, stdout, stderr)
			}
		})
	}
}
