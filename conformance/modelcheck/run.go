package modelcheck

import (
	"crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"roomchat.dev/roomchat/conformance/dial"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// Target is how to reach the server under test: a running server's address,
// or a function that starts a fresh one (and returns how to stop it) for
// every test case. A server at a fixed Addr must not be used by anyone else
// during the run: ROOMS lists every room on the server.
type Target struct {
	Addr  string
	Start func() (addr string, stop func(), err error)
	// Dialer reaches the server over the transport under test; the zero
	// value is lines over TCP.
	Dialer dial.Dialer
	// Restart, if not nil, restarts the server listening at addr (Addr,
	// or the one Start started for the case) keeping its storage: it shuts
	// the server down gracefully, as SIGTERM does (SHUT-1: every client
	// receives the notice, then the end of its connection), starts it
	// again with the same settings and storage, and returns once it
	// accepts connections, with the address it listens on then. With
	// Options.Durable, the checker restarts the server now and then and
	// checks that accounts, stored messages and IDs survive (HIST-5).
	Restart func(addr string) (newAddr string, err error)
}

// Options tune a run. Zero values take the defaults.
type Options struct {
	Checks  int           // test cases (rapid's -rapid.checks when 0)
	Seed    uint64        // rapid seed; 0 for a random one
	SaveDir string        // where to write a failing sequence as a script
	Verbose bool          // log every case's transcript
	Log     io.Writer     // where Run writes the transcripts of Verbose (nil: none)
	Timeout time.Duration // how long to wait for one expected line (5 s)
	NoPing  bool          // the server lacks the ping extension: use Quiet instead
	Quiet   time.Duration // the quiet period that stands in for PING (200 ms)
	Clients int           // client slots in a sequence (4)
	Steps   int           // average actions per case (rapid's -rapid.steps when 0)
	// ShrinkTime bounds the time rapid spends shrinking a failure (30 s);
	// every shrinking attempt replays a sequence against the server.
	ShrinkTime time.Duration
	// Ext are the extensions of PROTOCOL.md section 13 the server
	// implements and offers, exactly (CAPS lists them): with any, the
	// checker's clients say CAPS, register, log in, fetch history, and
	// share rooms with core clients (the tags caps, accounts and history
	// of a manifest: see Extensions). With none, the server is checked as
	// a core server, as before section 13 existed, whatever it offers.
	Ext spec.Ext
	// Durable: the server keeps accounts, stored messages and its IDs
	// across a restart (the tag durable, HIST-5), and tells its clients
	// when it shuts down (the tag shutdown, SHUT-1). With Target.Restart
	// and Ext not empty, sequences then restart the server now and then.
	Durable bool
}

// Extensions returns the Options.Ext and Options.Durable of a server that
// implements the tags of PROTOCOL.md 1.1 (a manifest's implements line):
// the extensions of section 13 among them, if caps is among them too (a
// client enables them with CAPS only); and whether durable and shutdown
// are, as the checker restarts a server as PROTOCOL.md's "server:
// restart" does, which tells every client as SHUT-1 says.
func Extensions(tags []string) (ext spec.Ext, durable bool) {
	if !slices.Contains(tags, "caps") {
		return 0, false
	}
	for _, t := range tags {
		if x, ok := spec.ParseExt(t); ok {
			ext |= x
		}
	}
	return ext, ext != 0 && slices.Contains(tags, "durable") && slices.Contains(tags, "shutdown")
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Quiet <= 0 {
		o.Quiet = 200 * time.Millisecond
	}
	if o.Clients <= 0 {
		o.Clients = 4
	}
	return o
}

// caseCounter and runTag make each case's name suffix unique on a shared
// server.
var (
	caseCounter atomic.Uint64
	runTag      = func() string {
		var b [2]byte
		rand.Read(b[:])
		s := strconv.FormatUint((uint64(b[0])<<8|uint64(b[1]))%(36*36), 36)
		return strings.Repeat("0", 2-len(s)) + s
	}()
)

// nextSuffix returns a name suffix of six lower-case letters and digits,
// the form of the conformance scripts' $U, so that a saved failure keeps
// every name's length when its suffix becomes $U.
func nextSuffix() string {
	s := strconv.FormatUint(caseCounter.Add(1)%(36*36*36*36), 36)
	return runTag + strings.Repeat("0", 4-len(s)) + s
}

// checker is one run of the model check: the property rapid checks, the
// coverage of the sequences that passed, and the failures recorded.
type checker struct {
	target Target
	opts   Options
	cov    Coverage
	fails  failures

	mu   sync.Mutex
	addr string // the address of Target.Addr's server, which a restart may change
}

func newChecker(target Target, opts Options) *checker {
	c := &checker{target: target, opts: opts.withDefaults(), addr: target.Addr}
	c.cov.scope = scopeOf(c.opts.Ext, c.opts.Durable && c.target.Restart != nil)
	return c
}

// Property returns the rapid property that checks target against the model.
func Property(target Target, opts Options) func(*rapid.T) {
	return newChecker(target, opts).property
}

func (c *checker) property(t *rapid.T) {
	c.mu.Lock()
	addr, stop := c.addr, func() {}
	c.mu.Unlock()
	if c.target.Start != nil {
		var err error
		if addr, stop, err = c.target.Start(); err != nil {
			t.Fatalf("start the server: %v", err)
		}
	}
	defer stop()
	var restart func(string) (string, error)
	if c.opts.Ext != 0 && c.opts.Durable {
		restart = c.target.Restart
	}
	m := newMachine(c.opts, c.target.Dialer, addr, nextSuffix(), &c.fails, restart)
	defer m.d.Quit()
	if c.target.Start == nil && restart != nil {
		defer func() { // a restart may have moved the server
			c.mu.Lock()
			c.addr = m.d.Addr()
			c.mu.Unlock()
		}()
	}
	if c.opts.Ext.Has(spec.ExtAccounts) && failLoginsGen.Draw(t, "may fail logins") {
		m.maxLoginFails = maxFailedLogins
		m.p.failing = true
		m.steps = m.p.stepGen(c.opts.Clients, avgSteps(), restart != nil)
	}
	for range 10 * avgSteps() {
		st := m.steps.Draw(t, "step")
		if st.end {
			break
		}
		m.run(t, st)
		if err := m.d.Model().Check(); err != nil {
			t.Fatalf("model invariant: %v", err)
		}
	}
	c.cov.add(&m.trk.counts, m.step, m.loginFails)
	if c.opts.Verbose {
		if c.opts.Log != nil {
			fmt.Fprint(c.opts.Log, m.transcript())
		} else {
			t.Logf("%s", m.transcript())
		}
	}
}

// failure is what a failing case recorded of itself.
type failure struct {
	rule, summary, report, script string
	steps                         int
	at                            time.Time
}

// failures records the failures of a case: the first, as found, and the
// last, which rapid's final replay of the shrunk case makes.
type failures struct {
	mu          sync.Mutex
	first, last *failure
}

func (fs *failures) record(f failure) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f.at = time.Now()
	if fs.first == nil {
		fs.first = &f
	}
	fs.last = &f
}

func (fs *failures) reset() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.first, fs.last = nil, nil
}

// Check runs the model check inside a Go test. Unless -rapid.checks is
// given, it runs opts.Checks cases. It returns the coverage of the cases
// that passed. A failure is reported once: rapid's line with the flags
// that reproduce it, then the shrunk case's report.
func Check(t *testing.T, target Target, opts Options) *Coverage {
	if opts.Checks > 0 && !flagGiven("rapid.checks") {
		setFlag(t, "rapid.checks", strconv.Itoa(opts.Checks))
	}
	if opts.Seed != 0 && !flagGiven("rapid.seed") {
		setFlag(t, "rapid.seed", strconv.FormatUint(opts.Seed, 10))
	}
	if opts.Steps > 0 && !flagGiven("rapid.steps") {
		setFlag(t, "rapid.steps", strconv.Itoa(opts.Steps))
	}
	if opts.ShrinkTime > 0 && !flagGiven("rapid.shrinktime") {
		setFlag(t, "rapid.shrinktime", opts.ShrinkTime.String())
	}
	c := newChecker(target, opts)
	start, steps0 := time.Now(), stepCounter.Load()
	rapid.Check(quietTB{t}, c.property)
	steps := stepCounter.Load() - steps0
	t.Logf("model check: %d steps in %v (%.0f steps/s); %s", steps, time.Since(start).Round(time.Millisecond), float64(steps)/time.Since(start).Seconds(), c.cov.Summary())
	return &c.cov
}

// quietTB is a test's T without rapid's log of every draw, which a
// report of the steps and the transcript make redundant.
type quietTB struct{ *testing.T }

func (q quietTB) Logf(format string, args ...any) {
	if !strings.HasPrefix(format, "[rapid] draw") {
		q.T.Helper()
		q.T.Logf(format, args...)
	}
}

// stepCounter counts the steps executed by every machine, shrinking included.
var stepCounter atomic.Uint64

func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func setFlag(t *testing.T, name, value string) {
	old := flag.Lookup(name).Value.String()
	flag.Set(name, value)
	t.Cleanup(func() { flag.Set(name, old) })
}

// Result is the outcome of Run.
type Result struct {
	Sequences int       // sequences run, a failing one included
	Coverage  *Coverage // of the sequences that passed
	Failure   *Failure  // nil if the server agreed with the model throughout
}

// Failure is a sequence on which the server departed from the model,
// shrunk by rapid to as few steps as still fail.
type Failure struct {
	Rule    string // the rule the first differing line belongs to ("" if none)
	Summary string // one line: the rule and the difference
	Report  string // the difference in full and the transcript of every client
	// Seed is the failing sequence's own seed: a Run with this Seed and
	// Checks 1 runs it first.
	Seed       uint64
	Sequence   int           // which of the run's sequences failed, from 1
	Steps      int           // steps of the shrunk sequence
	FoundSteps int           // steps of the sequence as found
	ShrinkTime time.Duration // the time rapid took to shrink it
	Script     string        // the saved script, if Options.SaveDir was set
}

func (f *Failure) Error() string { return f.Summary + "\n" + f.Details() }

// Details is the report of a failure without its summary line: how it was
// found and shrunk, the difference, and the transcript.
func (f *Failure) Details() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sequence %d (seed %d) failed after %d steps; shrunk to %d steps in %v\n",
		f.Sequence, f.Seed, f.FoundSteps, f.Steps, f.ShrinkTime.Round(10*time.Millisecond))
	b.WriteString(f.Report)
	if f.Script != "" {
		fmt.Fprintf(&b, "the shrunk sequence is saved as the script %s\n", f.Script)
	}
	return b.String()
}

// Run checks target against the model outside `go test`, for opts.Checks
// sequences (100 by default). Sequence i (from 0) has the seed opts.Seed+i
// (a random one if opts.Seed is 0), so that a failing sequence can be run
// again on its own. If the server departs from the model, Run shrinks the
// failing sequence and returns it as a *Failure, which is also the error.
func Run(target Target, opts Options) (Result, error) {
	initOnce.Do(func() {
		testing.Init()
		if !flag.Parsed() {
			flag.CommandLine.Parse(nil)
		}
	})
	checks := opts.Checks
	if checks <= 0 {
		checks = 100
	}
	seed := opts.Seed
	for seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	set := map[string]string{"rapid.checks": "1", "rapid.nofailfile": "true"}
	if opts.ShrinkTime > 0 {
		set["rapid.shrinktime"] = opts.ShrinkTime.String()
	}
	if opts.Steps > 0 {
		set["rapid.steps"] = strconv.Itoa(opts.Steps)
	}
	defer setFlags(set)()

	c := newChecker(target, opts)
	res := Result{Coverage: &c.cov}
	for i := range checks {
		s := seed + uint64(i)
		if s == 0 { // rapid's "random"
			continue
		}
		flag.Set("rapid.seed", strconv.FormatUint(s, 10))
		c.fails.reset()
		tb := &runTB{}
		done := make(chan struct{})
		go func() { // FailNow ends this goroutine, as in package testing
			defer close(done)
			rapid.Check(tb, c.property)
		}()
		<-done
		res.Sequences++
		if tb.Failed() {
			f := c.failure(tb, s, i+1)
			res.Failure = f
			return res, f
		}
	}
	return res, nil
}

// failure makes the report of a failed sequence from what its machines
// recorded, or from rapid's error if they recorded nothing.
func (c *checker) failure(tb *runTB, seed uint64, seq int) *Failure {
	c.fails.mu.Lock()
	first, last := c.fails.first, c.fails.last
	c.fails.mu.Unlock()
	f := &Failure{Seed: seed, Sequence: seq}
	if last == nil {
		msg := strings.Join(tb.errors, "\n")
		f.Summary, f.Report = firstLine(msg), msg+"\n"
		return f
	}
	f.Rule, f.Summary, f.Report, f.Script = last.rule, last.summary, last.report, last.script
	f.Steps, f.FoundSteps, f.ShrinkTime = last.steps, first.steps, last.at.Sub(first.at)
	if msg := strings.Join(tb.errors, "\n"); strings.Contains(msg, "[rapid] flaky") {
		f.Report += "rapid could not reproduce the failure as found: the server's answers vary from one replay to the next\n"
	}
	return f
}

// setFlags sets rapid's flags and returns how to restore them.
func setFlags(set map[string]string) (restore func()) {
	old := map[string]string{}
	for name, v := range set {
		old[name] = flag.Lookup(name).Value.String()
		flag.Set(name, v)
	}
	old["rapid.seed"] = flag.Lookup("rapid.seed").Value.String()
	return func() {
		for name, v := range old {
			flag.Set(name, v)
		}
	}
}

var initOnce sync.Once

// runTB is the rapid.TB of Run: it records failures and drops the logs,
// which the machine's report replaces.
type runTB struct {
	mu     sync.Mutex
	failed bool
	errors []string
}

func (tb *runTB) Helper()                          {}
func (tb *runTB) Name() string                     { return "modelcheck" }
func (tb *runTB) Logf(format string, args ...any)  {}
func (tb *runTB) Log(args ...any)                  {}
func (tb *runTB) Skipf(format string, args ...any) { runtime.Goexit() }
func (tb *runTB) Skip(args ...any)                 { runtime.Goexit() }
func (tb *runTB) SkipNow()                         { runtime.Goexit() }
func (tb *runTB) Errorf(format string, args ...any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.failed = true
	tb.errors = append(tb.errors, fmt.Sprintf(format, args...))
}
func (tb *runTB) Error(args ...any)                 { tb.Errorf("%s", fmt.Sprint(args...)) }
func (tb *runTB) Fatalf(format string, args ...any) { tb.Errorf(format, args...); runtime.Goexit() }
func (tb *runTB) Fatal(args ...any)                 { tb.Error(args...); runtime.Goexit() }
func (tb *runTB) FailNow()                          { tb.Fail(); runtime.Goexit() }
func (tb *runTB) Fail()                             { tb.mu.Lock(); tb.failed = true; tb.mu.Unlock() }
func (tb *runTB) Failed() bool                      { tb.mu.Lock(); defer tb.mu.Unlock(); return tb.failed }
