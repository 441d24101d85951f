package modelcheck

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// Target is how to reach the server under test: a running server's address,
// or a function that starts a fresh one (and returns how to stop it) for
// every test case. A server at a fixed Addr must not be used by anyone else
// during the run: ROOMS lists every room on the server.
type Target struct {
	Addr  string
	Start func() (addr string, stop func(), err error)
}

// Options tune a run. Zero values take the defaults.
type Options struct {
	Checks  int           // test cases (rapid's -rapid.checks when 0)
	Seed    uint64        // rapid seed; 0 for a random one
	SaveDir string        // where to write a failing sequence as a script
	Verbose bool          // log every case's transcript
	Log     io.Writer     // progress output of Run (nil: none)
	Timeout time.Duration // how long to wait for one expected line (5 s)
	NoPing  bool          // the server lacks the ping extension: use Quiet instead
	Quiet   time.Duration // the quiet period that stands in for PING (200 ms)
	Clients int           // client slots in a sequence (4)
	Steps   int           // average actions per case (rapid's -rapid.steps when 0)
	// ShrinkTime bounds the time rapid spends shrinking a failure (30 s);
	// every shrinking attempt replays a sequence against the server.
	ShrinkTime time.Duration
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

// Property returns the rapid property that checks target against the model.
func Property(target Target, opts Options) func(*rapid.T) {
	opts = opts.withDefaults()
	return func(t *rapid.T) {
		addr, stop := target.Addr, func() {}
		if target.Start != nil {
			var err error
			if addr, stop, err = target.Start(); err != nil {
				t.Fatalf("start the server: %v", err)
			}
		}
		defer stop()
		m := newMachine(opts, addr, nextSuffix())
		defer m.d.Quit()
		t.Repeat(map[string]func(*rapid.T){
			// rapid picks actions uniformly; repeating a key weights it.
			"connect":  m.connect,
			"send1":    m.send,
			"send2":    m.send,
			"send3":    m.send,
			"send4":    m.send,
			"send5":    m.send,
			"sendLong": m.sendLong,
			"drop":     m.drop,
			"": func(t *rapid.T) {
				if err := m.d.Model().Check(); err != nil {
					t.Fatalf("model invariant: %v", err)
				}
			},
		})
		if opts.Verbose {
			t.Logf("%s", m.d.Transcript())
		}
	}
}

// Check runs the model check inside a Go test. Unless -rapid.checks is
// given, it runs opts.Checks cases.
func Check(t *testing.T, target Target, opts Options) {
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
	start, steps0 := time.Now(), stepCounter.Load()
	rapid.Check(t, Property(target, opts))
	steps := stepCounter.Load() - steps0
	t.Logf("model check: %d steps in %v (%.0f steps/s)", steps, time.Since(start).Round(time.Millisecond), float64(steps)/time.Since(start).Seconds())
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

// Run checks target against the model outside `go test`, for opts.Checks
// cases (100 by default), and returns an error holding the shrunk failing
// transcript if the server departs from the model.
func Run(target Target, opts Options) error {
	initOnce.Do(func() {
		testing.Init()
		if !flag.Parsed() {
			flag.CommandLine.Parse(nil)
		}
	})
	if opts.Checks <= 0 {
		opts.Checks = 100
	}
	flag.Set("rapid.checks", strconv.Itoa(opts.Checks))
	flag.Set("rapid.seed", strconv.FormatUint(opts.Seed, 10))
	flag.Set("rapid.nofailfile", "true")
	if opts.ShrinkTime > 0 {
		flag.Set("rapid.shrinktime", opts.ShrinkTime.String())
	}
	if opts.Steps > 0 {
		flag.Set("rapid.steps", strconv.Itoa(opts.Steps))
	}
	tb := &runTB{log: opts.Log}
	done := make(chan struct{})
	go func() { // FailNow ends this goroutine, as in package testing
		defer close(done)
		rapid.Check(tb, Property(target, opts))
	}()
	<-done
	if tb.Failed() {
		return errors.New(strings.Join(append(tb.errors, tb.logs...), "\n"))
	}
	return nil
}

var initOnce sync.Once

// runTB is the rapid.TB of Run: it records failures and prints logs.
type runTB struct {
	mu     sync.Mutex
	log    io.Writer
	failed bool
	errors []string
	logs   []string // after the first failure: the shrunk case's output
}

func (tb *runTB) Helper()      {}
func (tb *runTB) Name() string { return "modelcheck" }
func (tb *runTB) Logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if tb.log != nil {
		fmt.Fprintln(tb.log, msg)
	}
	if tb.Failed() && !strings.HasPrefix(msg, "[rapid] draw") {
		tb.mu.Lock()
		tb.logs = append(tb.logs, msg)
		tb.mu.Unlock()
	}
}
func (tb *runTB) Log(args ...any)                  { tb.Logf("%s", fmt.Sprint(args...)) }
func (tb *runTB) Skipf(format string, args ...any) { tb.Logf(format, args...); runtime.Goexit() }
func (tb *runTB) Skip(args ...any)                 { tb.Log(args...); runtime.Goexit() }
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
