package conformance

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptT is the testscript.T of one script: it records the log and the
// outcome instead of reporting to a *testing.T, so that the same runner
// serves the chatconform command and go test. testscript calls FailNow and
// Skip on the script's goroutine, which they end with runtime.Goexit, like
// the testing package does.
type scriptT struct {
	verbose bool

	mu         sync.Mutex
	log        strings.Builder
	failed     bool
	skipped    bool
	skipReason string
}

var _ testscript.T = (*scriptT)(nil)

func (t *scriptT) Skip(args ...any) {
	t.mu.Lock()
	t.skipped = true
	t.skipReason = strings.TrimSpace(fmt.Sprint(args...))
	t.mu.Unlock()
	runtime.Goexit()
}

func (t *scriptT) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

func (t *scriptT) Parallel() {} // the runner schedules scripts itself

func (t *scriptT) Log(args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.log.WriteString(fmt.Sprintln(args...))
}

func (t *scriptT) FailNow() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	runtime.Goexit()
}

// Run runs the one script of a RunT call on the caller's goroutine.
func (t *scriptT) Run(name string, f func(testscript.T)) { f(t) }

func (t *scriptT) Verbose() bool { return t.verbose }

// run calls f on a new goroutine, so that FailNow and Skip can end it, and
// waits for it.
func (t *scriptT) run(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.mu.Lock()
				t.failed = true
				fmt.Fprintf(&t.log, "panic: %v\n", r)
				t.mu.Unlock()
			}
		}()
		f()
	}()
	<-done
}
