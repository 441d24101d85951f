package impl_test

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// The robustness tests (robust_*_test.go) play hostile clients against the
// server beside well-behaved ones, and check three things each: the server
// stays up (a newcomer is served afterwards), its memory and goroutines stay
// within a stated bound per connection and come back to where they were
// once the attackers have gone, and every well-behaved client in the same
// room receives every line, in order. Those that measure the heap of the
// whole process are not parallel, so that each runs alone. Their sizes are
// modest by default; CHAT_SOAK=1 multiplies them (see docs/robustness.md).

// soak reports whether the long variants were asked for.
func soak() bool { return os.Getenv("CHAT_SOAK") == "1" }

// size returns def, or big under CHAT_SOAK=1.
func size(def, big int) int {
	if soak() {
		return big
	}
	return def
}

// MiB and KiB, for bounds.
const (
	KiB = 1 << 10
	MiB = 1 << 20
)

// resources is what the process uses, measured after a garbage collection.
type resources struct {
	heap       uint64 // bytes of live heap objects
	stack      uint64 // bytes of goroutine stacks
	goroutines int
}

func sample() resources {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return resources{heap: m.HeapAlloc, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// delta returns a-b in bytes, which may be negative.
func delta(a, b uint64) int64 { return int64(a) - int64(b) }

// bounds measures the process before, during and after an attack.
type bounds struct {
	t      testing.TB
	attack string
	base   resources
}

// Slack allowed on top of the per-connection bounds, for the test's own
// buffers, the runtime's caches and the noise of the garbage collector.
const (
	heapSlack      = 4 * MiB
	goroutineSlack = 20
	stackPerConn   = 32 * KiB // the stacks of the two goroutines of a connection
	// retainedPerConn is what the process may keep for each connection of
	// the peak after all have gone: the Go runtime keeps the descriptor of
	// every goroutine it ever ran for reuse (about 400 bytes each, two per
	// connection), and maps do not shrink. A leak shows as growth from one
	// round of an attack to the next instead (see TestRobustChurn).
	retainedPerConn = 2 * KiB
)

// newBounds takes the baseline. Call it once the server and the
// well-behaved clients are up, before the attack.
func newBounds(t testing.TB, attack string) *bounds {
	return &bounds{t: t, attack: attack, base: sample()}
}

// peak measures while conns attacking connections are open and checks that
// the heap grew by at most heapPerConn bytes a connection, and the
// goroutines by at most goroutinesPerConn (the server runs two for each, a
// reader and a writer; the attacking clients, none), both with slack.
func (b *bounds) peak(conns int, heapPerConn int64, goroutinesPerConn float64) resources {
	b.t.Helper()
	r := sample()
	dh, ds, dg := delta(r.heap, b.base.heap), delta(r.stack, b.base.stack), r.goroutines-b.base.goroutines
	b.t.Logf("bounds %s: %d connections: heap %+d KiB (%d B/conn), stacks %+d KiB (%d B/conn), goroutines %+d (%.2f/conn)",
		b.attack, conns, dh/KiB, dh/int64(max(conns, 1)), ds/KiB, ds/int64(max(conns, 1)), dg, float64(dg)/float64(max(conns, 1)))
	if limit := int64(conns)*heapPerConn + heapSlack; dh > limit {
		b.t.Errorf("bounds %s: the heap grew by %d KiB for %d connections, more than %d B each (+%d KiB)", b.attack, dh/KiB, conns, heapPerConn, heapSlack/KiB)
	}
	if limit := int64(conns)*stackPerConn + heapSlack; ds > limit {
		b.t.Errorf("bounds %s: the stacks grew by %d KiB for %d connections, more than %d B each (+%d KiB)", b.attack, ds/KiB, conns, stackPerConn, heapSlack/KiB)
	}
	if limit := int(float64(conns)*goroutinesPerConn) + goroutineSlack; dg > limit {
		b.t.Errorf("bounds %s: %d more goroutines for %d connections, more than %.1f each (+%d)", b.attack, dg, conns, goroutinesPerConn, goroutineSlack)
	}
	return r
}

// after waits for the goroutines of the attack to end and checks that the
// process is back where it was: no goroutine left, and the heap within
// what the server's maps may keep after peakConns connections.
func (b *bounds) after(peakConns int) {
	b.t.Helper()
	r := waitGoroutines(b.t, b.base.goroutines+goroutineSlack/4)
	dh := delta(r.heap, b.base.heap)
	b.t.Logf("bounds %s: after the attackers left: heap %+d KiB, goroutines %+d", b.attack, dh/KiB, r.goroutines-b.base.goroutines)
	if limit := int64(peakConns)*retainedPerConn + heapSlack; dh > limit {
		b.t.Errorf("bounds %s: the heap is still %d KiB above its baseline after the attackers left (limit %d KiB): a leak?", b.attack, dh/KiB, limit/KiB)
	}
}

// waitGoroutines waits until at most n goroutines run, for the server's
// reader and writer goroutines to finish after their connections were
// processed as closed. The goroutines are internal, so there is no line to
// wait for: this polls, with a deadline, and dumps the stacks on failure.
func waitGoroutines(t testing.TB, n int) resources {
	t.Helper()
	deadline := time.Now().Add(failAfter)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		r := sample()
		if r.goroutines <= n {
			return r
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines still run %v after the attack, want at most %d:\n%s", r.goroutines, failAfter, n, buf)
		}
		time.Sleep(pause)
	}
}
