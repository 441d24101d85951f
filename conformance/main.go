package conformance

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
	"sync"
	"time"
)

// A ModelRun is a request to run the model-based checker against the target
// of a chatconform run.
type ModelRun struct {
	Addr    string    // a running server, or
	Start   StartFunc // a way to start a fresh one per sequence
	Checks  int       // sequences to try
	Seed    uint64
	SaveDir string // where to write a failing sequence as a script; "" for none
	Verbose bool
	NoPing  bool // the server lacks the ping extension
	Timeout time.Duration
	Log     io.Writer
}

// A ModelChecker runs the model-based checker; chatconform supplies
// modelcheck.Run through it, so that this package does not depend on it.
type ModelChecker func(ModelRun) error

// MainOptions are what the chatconform command passes to Main.
type MainOptions struct {
	Scripts      fs.FS         // the embedded suite
	Requirements []Requirement // for -coverage; Requirements if nil
	Model        ModelChecker  // for -model; nil if not built in
}

// Main is the chatconform command: it parses args (without the program
// name), runs the suite and returns the exit status: 0 if nothing failed, 1
// if something did, 2 for a usage error.
func Main(args []string, stdout, stderr io.Writer, opts MainOptions) int {
	fl := flag.NewFlagSet("chatconform", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var (
		addr     = fl.String("addr", "", "run against the server at `host:port`, shared by all scripts")
		execCmd  = fl.String("exec", "", "start a fresh server for each script with `command`; {port} in it is replaced by a free port")
		run      = fl.String("run", "", "run only the scripts whose name matches `regexp`")
		tags     = fl.String("tags", "", "test only these comma-separated `extensions` (core,ping,input,limits,shutdown) and robustness for the robustness scripts (default all)")
		verbose  = fl.Bool("v", false, "print the log of every script, not only of failures")
		timeout  = fl.Duration("timeout", DefaultTimeout, "how long a script waits for one line")
		seed     = fl.Uint64("seed", 0, "seed for the scripts' unique names and the model checker (0: random)")
		model    = fl.Int("model", 0, "also run the model-based checker for `n` random sequences")
		junit    = fl.String("junit", "", "write a JUnit XML report to `file`")
		jsonOut  = fl.Bool("json", false, "print one JSON object per script instead of text")
		manifest = fl.String("manifest", "", "read the server's declared extensions and known deviations from `file`")
		saveDir  = fl.String("save-failures", "", "write each failing script and its report into `dir`")
		coverage = fl.Bool("coverage", false, "print which scripts check each requirement of PROTOCOL.md")
		parallel = fl.Int("parallel", 0, "scripts to run at once (default 2×GOMAXPROCS, at least 4)")
		dir      = fl.String("dir", "", "run the *.txtar scripts in `dir` instead of the built-in suite")
	)
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: chatconform (-addr host:port | -exec 'command {port}') [flags]\n\n")
		fmt.Fprintf(stderr, "Runs the roomchat conformance suite against a server.\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "chatconform: unexpected arguments %q\n", fl.Args())
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "chatconform: %v\n", err)
		return 2
	}

	scriptFS := opts.Scripts
	if *dir != "" {
		scriptFS = os.DirFS(*dir)
	}
	if scriptFS == nil {
		return fail(errors.New("no scripts: use -dir"))
	}
	scripts, err := LoadScripts(scriptFS)
	if err != nil {
		return fail(err)
	}
	reqs := opts.Requirements
	if reqs == nil {
		reqs = Requirements
	}

	cfg := Config{Addr: *addr, Scripts: scripts, Timeout: *timeout, Seed: *seed, Parallel: *parallel, Verbose: *verbose}
	if *run != "" {
		if cfg.Run, err = regexp.Compile(*run); err != nil {
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
		names := make([]string, len(scripts))
		for i, sc := range scripts {
			names[i] = sc.Name
		}
		if cfg.Manifest, err = ParseManifest(data, names); err != nil {
			return fail(fmt.Errorf("%s: %v", *manifest, err))
		}
	}
	if *execCmd != "" {
		if *addr != "" {
			return fail(errors.New("give -addr or -exec, not both"))
		}
		if cfg.Start, err = ExecServer(*execCmd); err != nil {
			return fail(err)
		}
	}
	if *addr == "" && *execCmd == "" {
		if *coverage {
			if WriteCoverage(stdout, reqs, scripts, nil) > 0 {
				return 1
			}
			return 0
		}
		fl.Usage()
		return 2
	}
	if *model > 0 && opts.Model == nil {
		return fail(errors.New("-model: this build has no model checker"))
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}

	runner, err := NewRunner(cfg)
	if err != nil {
		return fail(err)
	}
	defer runner.Close()

	tty := isTerminal(stdout)
	if !*jsonOut {
		target := "-addr " + *addr
		if *execCmd != "" {
			target = "-exec " + *execCmd
		}
		fmt.Fprintf(stdout, "chatconform: %d scripts against %s (seed %d)\n", len(runner.Selected()), target, cfg.Seed)
	}
	var saveErrs []error
	results := runner.RunAll(func(done, total int, r Result) {
		if *jsonOut {
			WriteJSON(stdout, r)
		} else {
			line := ResultLine(r)
			if tty {
				line = fmt.Sprintf("[%d/%d] %s", done, total, line)
			}
			fmt.Fprintln(stdout, line)
			if r.Status == Fail || r.Status == XFail || (*verbose && r.Log != "") {
				fmt.Fprint(stdout, Details(r))
			}
		}
		if r.Status.Failed() && *saveDir != "" {
			if err := SaveFailure(*saveDir, r); err != nil {
				saveErrs = append(saveErrs, err)
			}
		}
	})
	if *model > 0 {
		r := runModel(opts.Model, runner, *model, *saveDir, *verbose, stdout, *jsonOut)
		results = append(results, r)
		if *jsonOut {
			WriteJSON(stdout, r)
		} else {
			fmt.Fprintln(stdout, ResultLine(r))
			if r.Status == Fail {
				fmt.Fprint(stdout, Details(r))
			}
		}
	}
	for _, err := range saveErrs {
		fmt.Fprintf(stderr, "chatconform: -save-failures: %v\n", err)
	}
	if *coverage && !*jsonOut {
		WriteCoverage(stdout, reqs, scripts, results)
	}
	if *junit != "" {
		if err := WriteJUnit(*junit, results); err != nil {
			fmt.Fprintf(stderr, "chatconform: -junit: %v\n", err)
		}
	}
	sum := Summarize(results)
	if *jsonOut {
		WriteJSONSummary(stdout, sum)
	} else {
		if sum.XFailed > 0 || sum.XPassed > 0 {
			fmt.Fprintf(stdout, "%d expected failures (XFAIL), %d unexpected passes (XPASS)\n", sum.XFailed, sum.XPassed)
		}
		if names := failedNames(results); names != "" {
			fmt.Fprintf(stdout, "to reproduce: -seed %d -run '^(%s)$'\n", cfg.Seed, names)
		} else if sum.Failed > 0 {
			fmt.Fprintf(stdout, "to reproduce: -seed %d\n", cfg.Seed)
		}
		fmt.Fprintln(stdout, sum)
	}
	if sum.Failed > 0 {
		return 1
	}
	return 0
}

// runModel runs the model checker and reports it as one more result.
func runModel(check ModelChecker, runner *Runner, n int, saveDir string, verbose bool, stdout io.Writer, quietLog bool) Result {
	cfg := runner.cfg
	sc := &Script{Name: "model", Tags: []string{"core", "ping", "input"}, Rules: []string{"ORDER-1"}}
	start := time.Now()
	var log io.Writer = stdout
	if quietLog {
		log = io.Discard
	}
	mr := ModelRun{
		Addr: cfg.Addr, Checks: n, Seed: cfg.Seed, SaveDir: saveDir, Verbose: verbose,
		Timeout: cfg.Timeout, Log: &syncWriter{w: log},
		NoPing: !slices.Contains(runner.tags, "ping"),
	}
	if cfg.Start != nil {
		mr.Start = cfg.Start
	}
	err := check(mr)
	r := Result{Script: sc, Status: Pass, Duration: time.Since(start), Reason: fmt.Sprintf("%d random sequences", n)}
	if err != nil {
		r.Status, r.Reason, r.Log = Fail, "", err.Error()
	}
	return r
}

func failedNames(results []Result) string {
	var names []string
	for _, r := range results {
		if r.Status.Failed() && r.Script.Name != "model" {
			names = append(names, regexp.QuoteMeta(r.Script.Name))
		}
	}
	return strings.Join(names, "|")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// syncWriter serializes writes from the model checker's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
