package conformance

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"roomchat.dev/roomchat/conformance/dial"
	"roomchat.dev/roomchat/conformance/internal/commands"
)

// DefaultTimeout is how long a command waits for a line unless told
// otherwise: 5s.
const DefaultTimeout = commands.DefaultTimeout

// uLen is the length of $U. Scripts rely on it to build names of exact
// lengths (a 32-character username is 26 characters and $U).
const uLen = 6

// Config says what to run and against which server. Exactly one of Addr
// and Start names the target.
type Config struct {
	// Addr is a running server that every script shares. Scripts that need
	// a server of their own (a "# server:" header) are skipped.
	Addr string
	// Start starts a fresh server for each script.
	Start StartFunc
	// ClusterNodes is how many nodes the servers that Start starts have,
	// when they are Clusters (ExecCluster); 0 if they are not. The scripts
	// of the cluster tag run only when it is 2 or more, and as many as
	// they name.
	ClusterNodes int
	// ClusterLog is true when those clusters' log service is under the
	// suite's control (ClusterConfig.Log): the scripts that stop it run.
	ClusterLog bool

	Scripts []*Script      // the suite, from LoadScripts
	Run     *regexp.Regexp // if not nil, only scripts whose name matches
	Skip    *regexp.Regexp // if not nil, not the scripts whose name matches
	// Tags are the extensions to test, and TagRobustness for the
	// robustness scripts; nil means all. A script runs only if every one of
	// its tags is enabled here and, with a Manifest, every extension among
	// them is declared.
	Tags     []string
	Manifest *Manifest

	Timeout  time.Duration // how long a command, or Preflight, waits for a line; DefaultTimeout if 0
	Seed     uint64        // derives each script's $U
	Parallel int           // scripts at once; 0 means 2×GOMAXPROCS, at least 4
	Verbose  bool          // keep the log of passing scripts too
	// Strict counts a failed SHOULD as a failure (FAIL), not NON-STRICT.
	Strict bool
	// Wire keeps every script's wire log (Result.Wire), for an HTML report.
	Wire bool
	// Dialer reaches the server over the transport under test (PROTOCOL.md
	// 2.1); the zero value is lines over TCP. Scripts of another
	// transport's tag are skipped.
	Dialer dial.Dialer
}

// Status is the outcome of one script.
type Status string

// The outcomes.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL" // a MUST of PROTOCOL.md is broken
	// NonStrict: an assertion of a SHOULD failed (a "should" region of the
	// script): the server departs from a recommendation and still
	// conforms. Config.Strict makes it a Fail.
	NonStrict Status = "NON-STRICT"
	// Unimplemented: the script tests an extension that the manifest does
	// not declare, so it did not run.
	Unimplemented Status = "UNIMPLEMENTED"
	Skip          Status = "SKIP"  // not run, for another reason: -tags, -addr for a script that needs -exec
	XFail         Status = "XFAIL" // failed, as the manifest says it does
	XPass         Status = "XPASS" // passed, though the manifest says it fails: a failure
)

// Statuses lists every status, in the order reports count them.
var Statuses = []Status{Pass, Fail, NonStrict, Unimplemented, Skip, XFail, XPass}

// Failed reports whether the status counts as a failure.
func (s Status) Failed() bool { return s == Fail || s == XPass }

// A Result is what running one script produced.
type Result struct {
	Script   *Script
	Status   Status
	Duration time.Duration
	// Reason explains a skip, an XFAIL or an XPASS.
	Reason string
	// Log is testscript's log: the failing phase, its commands, and the
	// failure with the transcript of every client. Empty for a pass unless
	// Config.Verbose.
	Log string
	// ServerLog is the output of a server started for the script, kept
	// when the script failed.
	ServerLog string
	U         string // the script's $U
	// Should is the SHOULD rule whose assertion failed, for NON-STRICT (or
	// a FAIL under Config.Strict).
	Should string
	// Wire is the script's wire log, with Config.Wire: every client's lines
	// sent and received and its connection events, floods folded.
	Wire []WireEvent
}

// WireEvent is one row of a script's wire log: a line sent or received by
// a client, a connection event, or a note for rows not shown.
type WireEvent = commands.WireEvent

// WireKind says what a WireEvent is.
type WireKind = commands.WireKind

// The kinds of WireEvent.
const (
	WireSent     = commands.WireSent
	WireReceived = commands.WireReceived
	WireNote     = commands.WireNote
	WireElided   = commands.WireElided
)

// A Runner runs scripts under a Config.
type Runner struct {
	cfg  Config
	dir  string // the scripts, written out for testscript
	tags []string
}

// NewRunner checks cfg (Addr must be host:port) and writes the scripts to
// a temporary directory, which Close removes. It does not contact the
// server: Preflight does.
func NewRunner(cfg Config) (*Runner, error) {
	if (cfg.Addr == "") == (cfg.Start == nil) {
		return nil, fmt.Errorf("conformance: give exactly one of an address or a way to start a server")
	}
	if cfg.Addr != "" {
		if err := checkAddr(cfg.Addr); err != nil {
			return nil, fmt.Errorf("conformance: %w", err)
		}
	}
	if cfg.ClusterNodes > 0 && cfg.Start == nil {
		return nil, fmt.Errorf("conformance: a cluster (ClusterNodes) is started by Start: give Start")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = max(4, 2*runtime.GOMAXPROCS(0))
	}
	for _, t := range cfg.Tags {
		if !slices.Contains(Tags, t) {
			return nil, fmt.Errorf("conformance: unknown tag %q (known: %s)", t, strings.Join(Tags, ", "))
		}
	}
	r := &Runner{cfg: cfg}
	r.tags = slices.Clone(Tags)
	if cfg.Tags != nil {
		r.tags = slices.Clone(cfg.Tags)
	}
	if cfg.Manifest != nil && cfg.Manifest.Implements != nil {
		r.tags = slices.DeleteFunc(r.tags, func(t string) bool {
			return isExtension(t) && !slices.Contains(cfg.Manifest.Implements, t)
		})
	}
	dir, err := os.MkdirTemp("", "chatconform-")
	if err != nil {
		return nil, err
	}
	r.dir = dir
	for _, sc := range cfg.Scripts {
		if err := os.WriteFile(filepath.Join(dir, sc.Name+".txtar"), sc.Text, 0o644); err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Close removes the runner's temporary files.
func (r *Runner) Close() error { return os.RemoveAll(r.dir) }

// Tags returns the tags whose scripts can run: Config.Tags (every tag if
// nil), less the extensions that the manifest does not declare.
func (r *Runner) Tags() []string { return slices.Clone(r.tags) }

// Selected returns the scripts that Config.Run selects and Config.Skip
// does not, in name order.
func (r *Runner) Selected() []*Script {
	var out []*Script
	for _, sc := range r.cfg.Scripts {
		if (r.cfg.Run == nil || r.cfg.Run.MatchString(sc.Name)) && (r.cfg.Skip == nil || !r.cfg.Skip.MatchString(sc.Name)) {
			out = append(out, sc)
		}
	}
	return out
}

// RunAll runs the selected scripts, Config.Parallel at a time, calling
// report (if not nil) as each finishes, from one goroutine at a time. It
// returns the results in script order.
func (r *Runner) RunAll(report func(done, total int, res Result)) []Result {
	scripts := r.Selected()
	results := make([]Result, len(scripts))
	jobs := make(chan int)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for w := 0; w < min(r.cfg.Parallel, len(scripts)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				res := r.RunScript(scripts[i])
				mu.Lock()
				results[i] = res
				done++
				if report != nil {
					report(done, len(scripts), res)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range scripts {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return results
}

// skipReason says why sc cannot run under this configuration, and whether
// that makes it UNIMPLEMENTED (an extension the manifest does not declare)
// or SKIP; "" if it can run.
func (r *Runner) skipReason(sc *Script) (Status, string) {
	for _, t := range sc.Tags {
		if isTransport(t) && t != r.cfg.Dialer.Transport.Tag() {
			return Skip, fmt.Sprintf("is a script of the %s transport (-transport)", t)
		}
		if !slices.Contains(r.tags, t) {
			if m := r.cfg.Manifest; m != nil && m.Implements != nil && isExtension(t) && !slices.Contains(m.Implements, t) {
				return Unimplemented, fmt.Sprintf("needs the %s extension, which the manifest does not declare", t)
			}
			if !isExtension(t) {
				return Skip, fmt.Sprintf("is a %s script, not selected by -tags or -skip-tags", t)
			}
			return Skip, fmt.Sprintf("needs the %s extension, not selected by -tags or -skip-tags", t)
		}
	}
	if slices.Contains(sc.Tags, TagCluster) {
		switch nodes := max(sc.Nodes, 2); {
		case r.cfg.ClusterNodes == 0:
			return Skip, "is a script of the cluster profile, which needs a cluster that the suite starts for it (-cluster-nodes)"
		case r.cfg.ClusterNodes < nodes:
			return Skip, fmt.Sprintf("needs a cluster of %d nodes, and -cluster-nodes is %d", nodes, r.cfg.ClusterNodes)
		case sc.StopsLog && !r.cfg.ClusterLog:
			return Skip, "stops the cluster's log, which needs a log service that the suite starts (-cluster-log)"
		}
	}
	if sc.Restarts && r.cfg.Start == nil {
		return Skip, "restarts its server, which needs a server of its own that the suite starts and can restart (-exec)"
	}
	if sc.Fresh && r.cfg.Start == nil {
		what := "a server of its own"
		if len(sc.ServerFlags) > 0 {
			what += " started with " + strings.Join(sc.ServerFlags, " ")
		}
		return Skip, "needs " + what + " (-exec)"
	}
	return "", ""
}

// suffix returns the $U of a script: 6 lower-case letters and digits drawn
// from the seed and the script's name.
func (r *Runner) suffix(name string) string {
	h := fnv.New64a()
	h.Write([]byte(name))
	rng := rand.New(rand.NewPCG(r.cfg.Seed, h.Sum64()))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, uLen)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// RunScript runs one script and returns its result.
func (r *Runner) RunScript(sc *Script) Result {
	start := time.Now()
	res := r.runScript(sc)
	res.Duration = time.Since(start)
	if reason, ok := r.deviation(sc); ok {
		switch res.Status {
		case Fail, NonStrict:
			res.Status, res.Reason = XFail, reason
		case Pass:
			res.Status, res.Reason = XPass, "passes although the manifest declares a deviation ("+reason+"): update the manifest"
		}
	}
	return res
}

// deviation returns the reason the manifest gives for sc to fail: that of
// the script itself, or else those of the rules it checks.
func (r *Runner) deviation(sc *Script) (string, bool) {
	m := r.cfg.Manifest
	if m == nil {
		return "", false
	}
	if reason, ok := m.Deviations[sc.Name]; ok {
		return reason, true
	}
	var reasons []string
	for _, id := range sc.Rules {
		if reason, ok := m.RuleDeviations[strings.ToUpper(id)]; ok {
			reasons = append(reasons, id+": "+reason)
		}
	}
	return strings.Join(reasons, "; "), len(reasons) > 0
}

func (r *Runner) runScript(sc *Script) Result {
	res := Result{Script: sc, U: r.suffix(sc.Name)}
	if status, reason := r.skipReason(sc); reason != "" {
		res.Status, res.Reason = status, reason
		return res
	}
	addr := r.cfg.Addr
	var srv Server
	if r.cfg.Start != nil {
		var err error
		srv, err = r.cfg.Start(sc.ServerFlags)
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				res.Status, res.Reason = Skip, err.Error()
			} else {
				res.Status, res.Log = Fail, "cannot start the server: "+err.Error()
			}
			return res
		}
		addr = srv.Addr()
		if _, ok := srv.(Restarter); sc.Restarts && !ok {
			srv.Stop()
			res.Status, res.Reason = Skip, "restarts its server, but the servers that Config.Start starts cannot be restarted (they are no Restarter)"
			return res
		}
		if _, ok := srv.(Cluster); slices.Contains(sc.Tags, TagCluster) && !ok {
			srv.Stop()
			res.Status, res.Reason = Skip, "is a script of the cluster profile, but the servers that Config.Start starts are no Cluster"
			return res
		}
	}
	st := &scriptT{verbose: r.cfg.Verbose}
	var tr *commands.Transcript
	params := testscript.Params{
		Files: []string{filepath.Join(r.dir, sc.Name+".txtar")},
		Setup: func(env *testscript.Env) error {
			tr = commands.Setup(env, commands.Config{
				Addr:    addr,
				U:       res.U,
				Timeout: r.cfg.Timeout,
				Ping:    slices.Contains(r.tags, "ping"),
				Server:  srv,
				Dialer:  r.cfg.Dialer,
			})
			return nil
		},
		Cmds: commands.Cmds(),
		Condition: func(cond string) (bool, error) {
			if cond == "fresh" {
				return srv != nil, nil
			}
			if slices.Contains(Tags, cond) {
				return slices.Contains(r.tags, cond), nil
			}
			return false, fmt.Errorf("unknown condition %q (known: fresh and the tags %s)", cond, strings.Join(Tags, ", "))
		},
	}
	st.run(func() { testscript.RunT(st, params) })
	var stopErr error
	if srv != nil {
		stopErr = srv.Stop()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	log := strings.ReplaceAll(st.log.String(), r.dir+string(filepath.Separator), "")
	switch {
	case st.failed && tr != nil && tr.FailedShould() != "":
		res.Should = tr.FailedShould()
		res.Status, res.Reason = NonStrict, "a SHOULD failed: "+res.Should
		if r.cfg.Strict {
			res.Status, res.Reason = Fail, "a SHOULD failed: "+res.Should+" (-strict)"
		}
	case st.failed:
		res.Status = Fail
	case st.skipped:
		res.Status, res.Reason = Skip, st.skipReason
	default:
		res.Status = Pass
	}
	if r.cfg.Wire && tr != nil {
		res.Wire = tr.Events()
	}
	if res.Status == Fail || res.Status == NonStrict || r.cfg.Verbose {
		res.Log = log
		if stopErr != nil {
			res.Log += "\nnote: " + stopErr.Error() + "\n"
		}
		if srv != nil {
			res.ServerLog = srv.Log()
		}
	}
	return res
}
