package conformance

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"roomchat.dev/roomchat/conformance/dial"
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/testscripts"
)

var (
	flagAddr   = flag.String("addr", "", "run the suite against the server at host:port")
	flagExec   = flag.String("exec", "", "run the suite against a server started per script by this command ({port} is replaced)")
	flagUpdate = flag.Bool("update", false, "rewrite requirements_gen.go from ../PROTOCOL.md, and the command reference in doc.go from the command table")
)

func loadSuite(t *testing.T) []*Script {
	t.Helper()
	scripts, err := LoadScripts(testscripts.FS)
	if err != nil {
		t.Fatal(err)
	}
	return scripts
}

// TestScripts runs the whole suite against -addr or -exec if given, and
// otherwise against the reference server cmd/chatd, built from this
// module, with a database of its own for each script (-db {dir}/chat.db),
// so that the durable scripts run too.
func TestScripts(t *testing.T) {
	cfg := Config{Scripts: loadSuite(t), Verbose: testing.Verbose()}
	switch {
	case *flagAddr != "":
		cfg.Addr = *flagAddr
	case *flagExec != "":
		start, err := ExecServer(*flagExec)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Start = start
	default:
		cfg.Start = referenceServer(t, "-db {dir}/chat.db")
	}
	RunTests(t, cfg)
}

// TestScriptsOverTransports runs scripts against the reference server over
// each transport of PROTOCOL.md 2.1 that is not lines: the transport's own
// scripts and a sample of the others by default, every script under
// CHAT_SOAK=1 (.ci/run also runs chatconform over each transport, with
// -model 300).
func TestScriptsOverTransports(t *testing.T) {
	if *flagAddr != "" || *flagExec != "" {
		t.Skip("tests the reference server only")
	}
	bin := buildReference(t)
	sample := regexp.MustCompile(`^(tls_|framed_|ws_|join_|msg_|disc_|frame_|limit_slow_consumer|order_)`)
	if os.Getenv("CHAT_SOAK") == "1" {
		sample = nil
	}
	for _, tc := range []struct {
		transport dial.Transport
		flags     string
	}{
		{dial.TLS, "-tls-addr 127.0.0.1:{port} -tls-self-signed"},
		{dial.Framed4, "-framed-addr 127.0.0.1:{port} -frame-header 4"},
		{dial.Framed8, "-framed-addr 127.0.0.1:{port} -frame-header 8"},
		{dial.WS, "-ws-addr 127.0.0.1:{port}"},
	} {
		t.Run(string(tc.transport), func(t *testing.T) {
			d := dial.Dialer{Transport: tc.transport, TLS: &tls.Config{InsecureSkipVerify: true}}
			start, err := ExecServerOver(bin+" -addr none -db {dir}/chat.db "+tc.flags, 0, d)
			if err != nil {
				t.Fatal(err)
			}
			RunTests(t, Config{Start: start, Scripts: loadSuite(t), Run: sample, Dialer: d})
		})
	}
}

// buildReference builds cmd/chatd from this module, or skips the test.
func buildReference(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatd")
	cmd := exec.Command("go", "build", "-o", bin, "roomchat.dev/roomchat/cmd/chatd")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("the reference server cmd/chatd does not build:\n%s", out)
	}
	return bin
}

// referenceServer builds cmd/chatd from this module and returns a
// StartFunc that runs it with extra flags, or skips the test if it does not
// build.
func referenceServer(t *testing.T, extra string) StartFunc {
	t.Helper()
	start, err := ExecServer(buildChatd(t) + " -addr 127.0.0.1:{port} " + extra)
	if err != nil {
		t.Fatal(err)
	}
	return start
}

// buildChatd builds the reference server cmd/chatd into a temporary
// directory and returns the path of the binary.
func buildChatd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chatd")
	cmd := exec.Command("go", "build", "-o", bin, "roomchat.dev/roomchat/cmd/chatd")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("the reference server cmd/chatd does not build yet, so there is nothing to run the suite against "+
			"(give -args -addr=host:port or -exec='cmd {port}' to test another server):\n%s", out)
	}
	return bin
}

// clusterTags are the tags of the scripts a cluster of reference nodes
// runs: a node offers no accounts, history or durable storage (PROTOCOL.md
// 14).
var clusterTags = []string{"core", "ping", "input", "limits", "shutdown", "caps", "rooms", TagCluster}

// TestScriptsOnCluster runs the scripts of the cluster profile against
// clusters of three reference nodes that share one NATS server run by
// "chatd nats", started afresh for each script. With CHAT_CLUSTER=1 it
// runs every script that a node can serve, the others against node 1.
func TestScriptsOnCluster(t *testing.T) {
	bin := buildChatd(t)
	start, err := ExecCluster(ClusterConfig{
		Nodes: 3,
		Log:   bin + " nats -addr {addr} -store {dir}",
		Node:  bin + " -addr {addr} -cluster nats://{log} -cluster-node n{node} -node-timeout 1s",
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Start: start, ClusterNodes: 3, ClusterLog: true, Scripts: loadSuite(t), Tags: clusterTags,
		Run: regexp.MustCompile(`^cluster_`), Verbose: testing.Verbose()}
	if os.Getenv("CHAT_CLUSTER") != "" {
		cfg.Run = nil
	}
	RunTests(t, cfg)
}

// TestScriptsAgainstModel runs the scripts that the in-test model server
// can serve: the scripts and the model are two renderings of PROTOCOL.md,
// and they must agree.
func TestScriptsAgainstModel(t *testing.T) {
	RunTests(t, Config{
		Start:   startModelServer,
		Scripts: loadSuite(t),
		Tags:    []string{"core", "ping", "input", "shutdown", "caps", "accounts", "history", "durable", "rooms", TagRobustness},
		Verbose: testing.Verbose(),
	})
}

// TestScriptsAgainstSharedModel runs the suite against one model server
// shared by every script, as -addr does.
func TestScriptsAgainstSharedModel(t *testing.T) {
	RunTests(t, Config{
		Addr:    startModelServerT(t),
		Scripts: loadSuite(t),
		Tags:    []string{"core", "ping", "input", "caps", "accounts", "history", "rooms"},
	})
}

func readProtocol(t *testing.T) []Requirement {
	t.Helper()
	data, err := os.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	reqs := parseRequirements(string(data))
	if len(reqs) == 0 {
		t.Fatal("no requirements found in PROTOCOL.md")
	}
	return reqs
}

// TestCoverage fails if a requirement of PROTOCOL.md has no script, or
// fewer than two independent means (scripts, the model checker, the
// transcripts: means.go), or if a script names a rule that does not exist.
func TestCoverage(t *testing.T) {
	reqs := readProtocol(t)
	cov, unknown := coverage(reqs, loadSuite(t))
	for _, c := range cov {
		switch {
		case len(c.Scripts) == 0:
			t.Errorf("%s [%s] has no script", c.ID, c.Tag)
		case c.Means() < minMeans:
			t.Errorf("%s [%s] is checked by one means only, %s: add a script", c.ID, c.Tag, strings.Join(append(c.Scripts, c.Model...), ", "))
		}
	}
	for id, names := range unknown {
		t.Errorf("%s, named by %s, is not a requirement of PROTOCOL.md", id, strings.Join(names, " "))
	}
}

// TestRequirementsUpToDate checks requirements_gen.go against PROTOCOL.md;
// with -update it rewrites it.
func TestRequirementsUpToDate(t *testing.T) {
	reqs := readProtocol(t)
	var b bytes.Buffer
	b.WriteString("// Code generated by go test -run TestRequirementsUpToDate -update; DO NOT EDIT.\n\n")
	b.WriteString("package conformance\n\n")
	b.WriteString("// Requirements lists the requirements of PROTOCOL.md, in order, with their\n")
	b.WriteString("// text, so that the chatconform command can report coverage and quote the\n")
	b.WriteString("// rules without the document.\n")
	b.WriteString("var Requirements = []Requirement{\n")
	for _, r := range reqs {
		fmt.Fprintf(&b, "\t{ID: %q, Tag: %q, Strength: %s,\n\t\tSection: %q,\n\t\tText: %q},\n",
			r.ID, r.Tag, map[Strength]string{Must: "Must", Should: "Should"}[r.Strength], r.Section, r.Text)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if *flagUpdate {
		if err := os.WriteFile("requirements_gen.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !slices.Equal(reqs, Requirements) {
		t.Errorf("requirements_gen.go is out of date with PROTOCOL.md: run go generate ./conformance")
	}
}

// pingSend matches a script line that sends PING itself.
var pingSend = regexp.MustCompile(`(?m)^\s*(!\s*)?(send|sendlf|sendsplit|sendmany|sendeach|floodsend)\s+(-\w+\s+)*\S+\s+(\d+\s+)?'?PING\b`)

// capsSend matches a script line that sends CAPS, and recvmsgCommand one
// that uses recvmsg.
var (
	capsSend       = regexp.MustCompile(`(?m)^\s*(!\s*)?(send|sendlf|sendsplit|sendmany|sendeach|floodsend)\s+(-\w+\s+)*\S+\s+(\d+\s+)?'?CAPS\b`)
	recvmsgCommand = regexp.MustCompile(`(?m)^\s*recvmsg\b`)
)

// TestScriptHeaders checks that each script declares every extension it
// relies on: the tag of every rule it names, ping if it sends PING, caps
// if it sends CAPS, history if it uses recvmsg, and a "# server:" line if
// it uses shutdown (parseScript refuses a script that uses restart
// without one).
func TestScriptHeaders(t *testing.T) {
	tags := map[string]string{}
	for _, r := range readProtocol(t) {
		tags[r.ID] = r.Tag
	}
	for _, sc := range loadSuite(t) {
		for _, id := range sc.Rules {
			if tag, ok := tags[id]; ok && !slices.Contains(sc.Tags, tag) {
				t.Errorf("%s checks %s, tagged %s, but its tags are %v", sc.Name, id, tag, sc.Tags)
			}
		}
		if pingSend.Match(sc.Text) && !slices.Contains(sc.Tags, "ping") {
			t.Errorf("%s sends PING but is not tagged ping", sc.Name)
		}
		if capsSend.Match(sc.Text) && !slices.Contains(sc.Tags, "caps") {
			t.Errorf("%s sends CAPS but is not tagged caps", sc.Name)
		}
		if recvmsgCommand.Match(sc.Text) && !slices.Contains(sc.Tags, "history") {
			t.Errorf("%s uses recvmsg but is not tagged history", sc.Name)
		}
		if regexp.MustCompile(`(?m)^\s*shutdown\s*$`).Match(sc.Text) && !sc.Fresh {
			t.Errorf("%s uses shutdown but has no '# server:' header", sc.Name)
		}
		if !strings.Contains(sc.Name, "_") {
			t.Errorf("%s: a script name starts with its area, then _", sc.Name)
		}
	}
}
