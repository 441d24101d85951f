// Command chatconform checks a roomchat server against PROTOCOL.md: it runs
// the conformance scripts (built in) against a running server (-addr) or a
// fresh server per script (-exec), and optionally the model-based checker
// (-model). Run it with -h for the flags; package conformance documents the
// script commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"regexp"
	"slices"
	"strings"

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

Exit status:
  0  nothing failed (expected failures declared by -manifest included)
  1  the server failed the suite: a script failed, or passed despite a
     declared deviation (XPASS)
  2  usage error: bad flags, address, scripts or manifest
  3  the server could not be tested: no connection, no answer in the
     protocol's grammar, or the -exec server exited or never listened
`

// run is the chatconform command: it parses args (without the program
// name), runs the suite and returns the exit status (exitPass, exitFail,
// exitUsage or exitUntestable).
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("chatconform", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var (
		addr     = fl.String("addr", "", "run against the server at `host:port`, shared by all scripts")
		execCmd  = fl.String("exec", "", "start a fresh server for each script with `command`; {port} in it is replaced by a free port")
		runRE    = fl.String("run", "", "run only the scripts whose name matches `regexp`")
		tags     = fl.String("tags", "", "test only these comma-separated `extensions` (core,ping,input,limits,shutdown) and robustness for the robustness scripts (default all)")
		verbose  = fl.Bool("v", false, "print the log of every script, not only of failures")
		timeout  = fl.Duration("timeout", conformance.DefaultTimeout, "how long a script, or the pre-flight, waits for one line")
		seed     = fl.Uint64("seed", 0, "seed for the scripts' unique names and the model checker (0: random)")
		model    = fl.Int("model", 0, "also run the model-based checker for `n` random sequences (sequence i has the seed -seed+i)")
		junit    = fl.String("junit", "", "write a JUnit XML report to `file`")
		jsonOut  = fl.Bool("json", false, "print one JSON object per script instead of text")
		manifest = fl.String("manifest", "", "read the server's declared extensions and known deviations from `file`")
		saveDir  = fl.String("save-failures", "", "write each failing script and its report into `dir`")
		coverage = fl.Bool("coverage", false, "print how many means check each requirement of PROTOCOL.md (each script, the model checker, the transcripts) and which scripts; exit 1 if one has fewer than two")
		parallel = fl.Int("parallel", 0, "scripts to run at once (default 2×GOMAXPROCS, at least 4)")
		dir      = fl.String("dir", "", "run the *.txtar scripts in `dir` instead of the built-in suite")
		startTO  = fl.Duration("start-timeout", conformance.DefaultStartTimeout, "how long a server started by -exec may take to accept connections")
		version  = fl.Bool("version", false, "print the version and exit")
	)
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: chatconform (-addr host:port | -exec 'command {port}') [flags]\n\n")
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
	if *version {
		fmt.Fprintln(stdout, buildinfo.String("chatconform"))
		return exitPass
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "chatconform: %v\n", err)
		return exitUsage
	}

	var scriptFS fs.FS = testscripts.FS
	if *dir != "" {
		scriptFS = os.DirFS(*dir)
	}
	scripts, err := conformance.LoadScripts(scriptFS)
	if err != nil {
		return fail(err)
	}
	reqs := conformance.Requirements

	cfg := conformance.Config{Addr: *addr, Scripts: scripts, Timeout: *timeout, Seed: *seed, Parallel: *parallel, Verbose: *verbose}
	if *runRE != "" {
		if cfg.Run, err = regexp.Compile(*runRE); err != nil {
			return fail(fmt.Errorf("-run: %v", err))
		}
	}
	if *tags != "" {
		cfg.Tags = strings.FieldsFunc(*tags, isListSep)
	}
	if *manifest != "" {
		data, err := os.ReadFile(*manifest)
		if err != nil {
			return fail(err)
		}
		if cfg.Manifest, err = conformance.ParseManifest(data, scripts); err != nil {
			return fail(fmt.Errorf("%s: %v", *manifest, err))
		}
	}
	if *execCmd != "" {
		if *addr != "" {
			return fail(errors.New("give -addr or -exec, not both"))
		}
		if cfg.Start, err = conformance.ExecServerTimeout(*execCmd, *startTO); err != nil {
			return fail(err)
		}
	}
	if *addr == "" && *execCmd == "" {
		if *coverage {
			if conformance.WriteCoverage(stdout, reqs, scripts, nil) > 0 {
				return exitFail
			}
			return exitPass
		}
		fl.Usage()
		return exitUsage
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}

	runner, err := conformance.NewRunner(cfg)
	if err != nil {
		return fail(err)
	}
	defer runner.Close()

	target := "-addr " + *addr
	if *execCmd != "" {
		target = "-exec " + *execCmd
	}
	if err := runner.Preflight(); err != nil {
		fmt.Fprintf(stderr, "chatconform: cannot test %s: %v\n", target, err)
		return exitUntestable
	}
	tty := isTerminal(stdout)
	if !*jsonOut {
		fmt.Fprintf(stdout, "chatconform: %d scripts against %s (seed %d)\n", len(runner.Selected()), target, cfg.Seed)
	}
	var saveErrs []error
	results := runner.RunAll(func(done, total int, r conformance.Result) {
		if *jsonOut {
			conformance.WriteJSON(stdout, r)
		} else {
			line := conformance.ResultLine(r)
			if tty {
				line = fmt.Sprintf("[%d/%d] %s", done, total, line)
			}
			fmt.Fprintln(stdout, line)
			if r.Status == conformance.Fail || r.Status == conformance.XFail || (*verbose && r.Log != "") {
				fmt.Fprint(stdout, conformance.Details(r))
			}
		}
		if r.Status.Failed() && *saveDir != "" {
			if err := conformance.SaveFailure(*saveDir, r); err != nil {
				saveErrs = append(saveErrs, err)
			}
		}
	})
	if *model > 0 {
		log := stdout
		if *jsonOut {
			log = io.Discard
		}
		r := runModel(modelRun{
			cfg: cfg, exec: *execCmd, checks: *model, saveDir: *saveDir, verbose: *verbose, log: log,
			noPing: !slices.Contains(runner.Tags(), "ping"),
		})
		results = append(results, r)
		if *jsonOut {
			conformance.WriteJSON(stdout, r)
		} else {
			fmt.Fprintln(stdout, conformance.ResultLine(r))
			if r.Status == conformance.Fail || *verbose && r.Log != "" {
				fmt.Fprint(stdout, conformance.Details(r))
			}
		}
	}
	for _, err := range saveErrs {
		fmt.Fprintf(stderr, "chatconform: -save-failures: %v\n", err)
	}
	if *coverage && !*jsonOut {
		conformance.WriteCoverage(stdout, reqs, scripts, results)
	}
	sum := conformance.Summarize(cfg.Seed, results)
	if *junit != "" {
		if err := conformance.WriteJUnit(*junit, sum, results); err != nil {
			fmt.Fprintf(stderr, "chatconform: -junit: %v\n", err)
		}
	}
	if *jsonOut {
		conformance.WriteJSONSummary(stdout, sum)
	} else {
		switch {
		case sum.XPassed == 1:
			fmt.Fprintln(stdout, "1 unexpected pass (XPASS): update the manifest")
		case sum.XPassed > 1:
			fmt.Fprintf(stdout, "%d unexpected passes (XPASS): update the manifest\n", sum.XPassed)
		}
		if sum.Reproduce != "" {
			fmt.Fprintf(stdout, "to reproduce: %s\n", sum.Reproduce)
		}
		fmt.Fprintln(stdout, sum)
	}
	if sum.Failed > 0 {
		return exitFail
	}
	return exitPass
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
