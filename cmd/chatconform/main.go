// Command chatconform checks a roomchat server against PROTOCOL.md: it runs
// the conformance scripts (built in) against a running server (-addr) or a
// fresh server per script (-exec), and optionally the model-based checker
// (-model) and the concurrent checker (-concurrent N). Against a service
// of several nodes, such as a cluster whose nodes apply one log, -nodes
// spreads the concurrent checker's clients over the nodes (client i's
// connections go to node i mod the number of nodes), while the scripts and
// the model checker run against -addr, by default the first node:
//
//	chatconform -nodes 127.0.0.1:4001,127.0.0.1:4002,127.0.0.1:4003 -concurrent 8
//
// With -cluster-nodes N, -exec starts a cluster of N nodes for each script
// (and -cluster-log the service they share), and the scripts of the
// cluster profile run too: they connect to several nodes, stop or kill
// one, and make the shared log unreachable:
//
//	chatconform -cluster-nodes 3 -cluster-log 'chatd nats -addr {addr}' \
//	    -exec 'chatd -addr {addr} -cluster nats://{log} -cluster-node n{node} -node-timeout 1s'
//
// Run it with -h for the flags; package conformance documents the script
// commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"roomchat.dev/roomchat/cmd/internal/buildinfo"
	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/testscripts"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// The exit statuses of chatconform.
const (
	exitPass       = 0 // nothing failed
	exitFail       = 1 // the server failed a script (FAIL or XPASS)
	exitUsage      = 2 // bad flags, arguments, scripts or manifest
	exitUntestable = 3 // the pre-flight failed: the server could not be tested at all
)

// exitStatuses is the end of the usage text.
const exitStatuses = `
Before any script, chatconform checks that the server can be tested: it
starts it once (-exec), connects, sends PING x (or USERNAME, if ping is not
tested) and waits -timeout for a line of the protocol's grammar.

Scripts tagged durable (HIST-5) restart the server, gracefully and with
SIGKILL, and check what survives: they run only with -exec, whose command
must keep the server's state in {dir}, which each script's server gets
afresh and keeps across its restarts:

  chatconform -exec 'chatd -addr {addr} -db {dir}/chat.db'

Against a server without durable storage, leave them out:

  chatconform -skip-tags durable -exec 'chatd -addr {addr}'

Exit status:
  0  nothing failed (expected failures declared by -manifest included)
  1  the server failed the suite: a script failed, or passed despite a
     declared deviation (XPASS)
  2  usage error: bad flags, address, scripts or manifest
  3  the server could not be tested: no connection, no answer in the
     protocol's grammar, or the -exec server exited or never listened
`

// options are chatconform's flags.
type options struct {
	addr, execCmd, runRE, tags string
	skipRE                     string
	skipTags                   string
	verbose, jsonOut, coverage bool
	timeout, startTimeout      time.Duration
	seed                       uint64
	model, parallel            int
	concurrent, histories      int
	junit, manifest, saveDir   string
	dir, htmlDir, servers      string
	expect, writeExpect        string
	strict, list, version      bool
	transport, tlsCA           string
	tlsInsecure                bool
	nodes                      string
	nodeAddrs                  []string // -nodes, parsed
	clusterNodes               int
	clusterLog                 string
}

// flags defines the flags of chatconform on fl.
func (o *options) flags(fl *flag.FlagSet) {
	fl.StringVar(&o.addr, "addr", "", "run against the server at `host:port`, shared by all scripts")
	fl.StringVar(&o.execCmd, "exec", "", "start a fresh server for each script with `command`; {port} in it is replaced by a free port, {addr} by 127.0.0.1:{port}, and {dir} by a new empty directory for that script's server, which its restarts keep and which is removed afterwards: give the server its durable state there (-db {dir}/chat.db) to run the durable scripts")
	fl.StringVar(&o.runRE, "run", "", "run only the scripts whose name matches `regexp`")
	fl.StringVar(&o.skipRE, "skip", "", "leave out the scripts whose name matches `regexp` (after -run)")
	fl.StringVar(&o.tags, "tags", "", "test only these comma-separated `extensions` ("+strings.Join(extensionTags(), ",")+") and robustness for the robustness scripts (default all)")
	fl.StringVar(&o.skipTags, "skip-tags", "", "leave out the scripts of these comma-separated `tags`, from all or from -tags: -skip-tags durable against a server without durable storage")
	fl.BoolVar(&o.verbose, "v", false, "print the log of every script, not only of failures")
	fl.DurationVar(&o.timeout, "timeout", conformance.DefaultTimeout, "how long a script, or the pre-flight, waits for one line")
	fl.Uint64Var(&o.seed, "seed", 0, "seed for the scripts' unique names and the model checker (0: random)")
	fl.IntVar(&o.model, "model", 0, "also run the model-based checker for `n` random sequences (sequence i has the seed -seed+i)")
	fl.IntVar(&o.concurrent, "concurrent", 0, "also run the concurrent checker with `n` clients at once (2 to 16), no barrier between their lines: it finds races that the scripts and -model cannot see")
	fl.IntVar(&o.histories, "histories", 100, "concurrent histories to run and check with -concurrent")
	fl.StringVar(&o.nodes, "nodes", "", "with -concurrent, spread its clients over the running nodes of one service at these comma-separated `host:port,...` addresses (a cluster's nodes): client i's connections go to node i mod their number; the scripts and -model run against -addr, by default the first node; not with -exec")
	fl.IntVar(&o.clusterNodes, "cluster-nodes", 0, "with -exec, start a cluster of `n` nodes (2 or more) for each script instead of one server: -exec is each node's command, with {node} replaced by its number 1..n and {log} by the address of -cluster-log's service; the scripts of the cluster tag (PROTOCOL.md 14) run, the others run against node 1, and -concurrent spreads its clients over the nodes")
	fl.StringVar(&o.clusterLog, "cluster-log", "", "with -cluster-nodes, start the service the nodes share (for chatd, its NATS server) with `command` before them, {port}, {addr} and {dir} as in -exec; the scripts that make the cluster's log unreachable (stoplog) run only with it")
	fl.StringVar(&o.junit, "junit", "", "write a JUnit XML report to `file`")
	fl.BoolVar(&o.jsonOut, "json", false, "print one JSON object per script instead of text")
	fl.StringVar(&o.manifest, "manifest", "", "read the server's declared extensions and known deviations from `file`")
	fl.StringVar(&o.saveDir, "save-failures", "", "write each failing script and its report into `dir`")
	fl.BoolVar(&o.coverage, "coverage", false, "print how many means check each requirement of PROTOCOL.md (each script, the model checker, the transcripts) and which scripts; exit 1 if one has fewer than two")
	fl.IntVar(&o.parallel, "parallel", 0, "scripts to run at once (default 2×GOMAXPROCS, at least 4)")
	fl.StringVar(&o.dir, "dir", "", "run the *.txtar scripts in `dir` instead of the built-in suite")
	fl.DurationVar(&o.startTimeout, "start-timeout", conformance.DefaultStartTimeout, "how long a server started by -exec may take to accept connections")
	fl.StringVar(&o.htmlDir, "html", "", "write a self-contained HTML report into `dir`: index.html, a table per section of PROTOCOL.md, a page per script with its wire log")
	fl.StringVar(&o.servers, "servers", "", "run the suite against every server listed in `file` (NAME -exec 'COMMAND' | NAME -addr HOST:PORT, then optionally -manifest FILE, one a line) and write a matrix into the -html directory, as index.html and matrix.json")
	fl.BoolVar(&o.strict, "strict", false, "count a missed SHOULD (NON-STRICT) as a failure")
	fl.BoolVar(&o.list, "list", false, "list the scripts, with their strength, tags and rules, without running anything")
	fl.StringVar(&o.expect, "expect", "", "compare the verdicts with those committed in `file` (see -write-expect) and fail only if one changed, naming each change")
	fl.StringVar(&o.writeExpect, "write-expect", "", "write the verdicts of this run to `file`, for -expect")
	fl.StringVar(&o.transport, "transport", "lines", "the `transport` to test over (PROTOCOL.md 2.1): lines, tls, framed4, framed8 or ws; with -exec, {port} is that transport's listener")
	fl.StringVar(&o.tlsCA, "tls-ca", "", "with -transport tls, trust the certificates signed by the PEM `file` (a self-signed certificate itself)")
	fl.BoolVar(&o.tlsInsecure, "tls-insecure", false, "with -transport tls, do not verify the server's certificate")
	fl.BoolVar(&o.version, "version", false, "print the version and exit")
}

// run is the chatconform command: it parses args (without the program
// name), runs the suite and returns the exit status (exitPass, exitFail,
// exitUsage or exitUntestable).
func run(args []string, stdout, stderr io.Writer) int {
	if status, ok := serveModel(args, stdout, stderr); ok {
		return status
	}
	fl := flag.NewFlagSet("chatconform", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var o options
	o.flags(fl)
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: chatconform (-addr host:port | -exec 'command {port}' | -servers file -html dir | -list) [flags]\n")
		fmt.Fprintf(stderr, "       chatconform -nodes host:port,host:port,... -concurrent N [-addr host:port] [flags]   (a service of several nodes)\n")
		fmt.Fprintf(stderr, "       chatconform -serve-model [-addr host:port] [-bug NAME]   (the model as a server; -serve-model -h)\n\n")
		fmt.Fprintf(stderr, "Runs the roomchat conformance suite against a server.\n\n")
		fl.PrintDefaults()
		fmt.Fprint(stderr, exitStatuses)
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "chatconform: unexpected arguments %q\n", fl.Args())
		return exitUsage
	}
	if o.version {
		fmt.Fprintln(stdout, buildinfo.String("chatconform"))
		return exitPass
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "chatconform: %v\n", err)
		return exitUsage
	}

	var scriptFS fs.FS = testscripts.FS
	if o.dir != "" {
		scriptFS = os.DirFS(o.dir)
	}
	scripts, err := conformance.LoadScripts(scriptFS)
	if err != nil {
		return fail(err)
	}
	base := conformance.Config{Scripts: scripts, Timeout: o.timeout, Seed: o.seed, Parallel: o.parallel,
		Verbose: o.verbose, Strict: o.strict, Wire: o.htmlDir != ""}
	if base.Dialer, err = o.dialer(); err != nil {
		return fail(err)
	}
	if o.runRE != "" {
		if base.Run, err = regexp.Compile(o.runRE); err != nil {
			return fail(fmt.Errorf("-run: %v", err))
		}
	}
	if o.skipRE != "" {
		if base.Skip, err = regexp.Compile(o.skipRE); err != nil {
			return fail(fmt.Errorf("-skip: %v", err))
		}
	}
	if o.tags != "" {
		base.Tags = strings.FieldsFunc(o.tags, isListSep)
	}
	if o.skipTags != "" {
		if base.Tags, err = skipTags(base.Tags, strings.FieldsFunc(o.skipTags, isListSep)); err != nil {
			return fail(err)
		}
	}
	var want conformance.Expectations
	if o.expect != "" {
		data, err := os.ReadFile(o.expect)
		if err != nil {
			return fail(err)
		}
		if want, err = conformance.ParseExpectations(data); err != nil {
			return fail(fmt.Errorf("%s: %v", o.expect, err))
		}
	}
	switch {
	case o.list:
		if err := writeList(stdout, base); err != nil {
			return fail(err)
		}
		return exitPass
	case o.servers != "":
		if o.addr != "" || o.execCmd != "" || o.manifest != "" || o.nodes != "" {
			return fail(errors.New("-servers names the servers: give no -addr, -exec, -nodes or -manifest with it"))
		}
		if o.htmlDir == "" {
			return fail(errors.New("-servers writes its matrix into the -html directory: give -html too"))
		}
		if o.jsonOut || o.junit != "" {
			return fail(errors.New("-json and -junit report one server: not with -servers"))
		}
		if base.Seed == 0 {
			base.Seed = rand.Uint64()
		}
		return runMatrix(o, base, want, stdout, stderr)
	}
	if o.manifest != "" {
		data, err := os.ReadFile(o.manifest)
		if err != nil {
			return fail(err)
		}
		if base.Manifest, err = conformance.ParseManifest(data, scripts); err != nil {
			return fail(fmt.Errorf("%s: %v", o.manifest, err))
		}
	}
	if o.nodes != "" {
		if o.nodeAddrs, err = parseNodes(o.nodes); err != nil {
			return fail(err)
		}
		switch {
		case o.concurrent == 0:
			return fail(errors.New("-nodes spreads the clients of -concurrent over the nodes: give -concurrent N too"))
		case o.execCmd != "":
			return fail(errors.New("-nodes names running nodes, and -exec starts a server per script: give -addr with -nodes (by default the first node), not -exec"))
		case o.addr == "":
			o.addr = o.nodeAddrs[0]
		}
	}
	target := server{name: "server", addr: o.addr, exec: o.execCmd, clusterNodes: o.clusterNodes, clusterLog: o.clusterLog}
	if o.execCmd != "" && o.addr != "" {
		return fail(errors.New("give -addr or -exec, not both"))
	}
	switch {
	case o.clusterNodes != 0 && o.execCmd == "":
		return fail(errors.New("-cluster-nodes starts a cluster for each script from -exec: give -exec too"))
	case o.clusterNodes != 0 && o.clusterNodes < 2:
		return fail(errors.New("-cluster-nodes: a cluster has 2 nodes or more"))
	case o.clusterLog != "" && o.clusterNodes == 0:
		return fail(errors.New("-cluster-log starts the service of a cluster: give -cluster-nodes too"))
	}
	if o.addr == "" && o.execCmd == "" {
		if o.coverage {
			if conformance.WriteCoverage(stdout, conformance.Requirements, scripts, nil) > 0 {
				return exitFail
			}
			return exitPass
		}
		fl.Usage()
		return exitUsage
	}
	if base.Seed == 0 {
		base.Seed = rand.Uint64()
	}
	cfg, err := target.config(base, o.startTimeout)
	if err != nil {
		return fail(err)
	}
	rep, status := runSuite(o, cfg, target, "", stdout, stderr)
	if status != exitPass {
		return status
	}
	if o.coverage && !o.jsonOut {
		conformance.WriteCoverage(stdout, conformance.Requirements, scripts, rep.results)
	}
	if o.junit != "" {
		if err := conformance.WriteJUnit(o.junit, rep.sum, rep.results); err != nil {
			fmt.Fprintf(stderr, "chatconform: -junit: %v\n", err)
		}
	}
	if o.htmlDir != "" {
		if err := writeReport(o.htmlDir, rep); err != nil {
			fmt.Fprintf(stderr, "chatconform: -html: %v\n", err)
		} else if !o.jsonOut {
			fmt.Fprintf(stdout, "HTML report: %s\n", filepath.Join(o.htmlDir, "index.html"))
		}
	}
	if o.jsonOut {
		conformance.WriteJSONSummary(stdout, rep.sum)
	} else {
		printSummary(stdout, rep.sum)
	}
	return verdict(o, want, conformance.ResultExpectations("", rep.results), rep.sum.Failed > 0, stdout, stderr)
}

// printSummary prints the closing lines of one server's run.
func printSummary(w io.Writer, sum conformance.Summary) {
	switch {
	case sum.XPassed == 1:
		fmt.Fprintln(w, "1 unexpected pass (XPASS): update the manifest")
	case sum.XPassed > 1:
		fmt.Fprintf(w, "%d unexpected passes (XPASS): update the manifest\n", sum.XPassed)
	}
	if sum.Reproduce != "" {
		fmt.Fprintf(w, "to reproduce: %s\n", sum.Reproduce)
	}
	fmt.Fprintln(w, sum)
}

// verdict writes the verdicts for -write-expect and returns the exit
// status: with -expect, exitFail if a verdict changed, naming each change,
// whatever failed; without, exitFail if something failed.
func verdict(o options, want, got conformance.Expectations, failed bool, stdout, stderr io.Writer) int {
	if o.writeExpect != "" {
		if err := os.WriteFile(o.writeExpect, got.Format(), 0o644); err != nil {
			fmt.Fprintf(stderr, "chatconform: -write-expect: %v\n", err)
			return exitUsage
		}
	}
	if want == nil {
		if failed {
			return exitFail
		}
		return exitPass
	}
	changes := want.Compare(got)
	for _, c := range changes {
		fmt.Fprintln(stdout, c)
	}
	if len(changes) > 0 {
		fmt.Fprintf(stdout, "%d verdicts differ from %s: update it with -write-expect if the change is meant\n", len(changes), o.expect)
		return exitFail
	}
	fmt.Fprintf(stdout, "every verdict is as %s expects\n", o.expect)
	return exitPass
}

// extensionTags returns the tags of PROTOCOL.md 1.1, robustness left out.
func extensionTags() []string {
	return slices.DeleteFunc(slices.Clone(conformance.Tags), func(t string) bool { return t == conformance.TagRobustness })
}

// skipTags returns the tags of -tags (every tag if nil) without those of
// -skip-tags, each of which must be a tag.
func skipTags(tags, skip []string) ([]string, error) {
	if tags == nil {
		tags = slices.Clone(conformance.Tags)
	}
	for _, t := range skip {
		if !slices.Contains(conformance.Tags, t) {
			return nil, fmt.Errorf("-skip-tags: unknown tag %q (known: %s)", t, strings.Join(conformance.Tags, ", "))
		}
	}
	return slices.DeleteFunc(tags, func(t string) bool { return slices.Contains(skip, t) }), nil
}

// isListSep separates the tags of -tags, as they separate those of a
// script's header.
func isListSep(r rune) bool { return r == ',' || r == ' ' || r == '\t' }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
