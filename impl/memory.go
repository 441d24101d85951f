package impl

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// Giving memory back after a burst.
//
// A burst of output — a join storm, where every member receives a JOIN
// note per newcomer and each newcomer a roster, or a flood into a big room
// — allocates as it goes: queued batches, formatted lines, rosters, the
// stacks of the writers that run meanwhile. Once it has drained, the live
// heap is what it was before, and no client keeps what it used (batches
// and line readers go back to their pools, writers exit). But the Go
// runtime keeps the pages the heap grew into, up to its next collection's
// goal (about twice the live heap plus the stacks), and returns them to the
// operating system only down to that goal: without more, an idle member of
// a room that once was busy costs several KiB of RSS more than a
// connection that never joined one.
//
// So the loop watches the output it queues (O(1) a line: a sum), with one
// timer that fires releasePeriod after the first line queued since it last
// fired. When a period queued less than quietBytes and the heap holds at
// least releaseMinFree bytes of free pages, the loop has them returned to
// the operating system (releaseMemory) in a goroutine of its own, so that
// it never waits for it. Only after the process has allocated, since the
// last release, at least half of its live heap: a forced collection then
// costs no more than one the runtime would have run anyway, whatever the
// pattern of bursts and pauses.

const (
	// releasePeriod is how often the loop looks at its output while
	// there is some, and so how long a burst must have been over before
	// its memory is returned.
	releasePeriod = time.Second
	// quietBytes is the output of a period below which the server is
	// quiet: the keepalives of many idle clients stay well below it.
	quietBytes = 64 << 10
	// releaseMinFree is the free, unreturned heap below which nothing is
	// returned: not worth a collection.
	releaseMinFree = 1 << 20
)

// releasing is set while a release runs, so that the loops of several
// servers in one process never run two at once.
var releasing atomic.Bool

// memWatch is the loop's watch of its output for the release. Owned by the
// loop goroutine.
type memWatch struct {
	timer  *time.Timer
	armed  bool
	queued int    // bytes queued for output since the timer last fired
	allocs uint64 // the heap's cumulative allocations at the last release
	// stats reads the heap's figures, and release returns free memory to
	// the operating system in a goroutine of the server: readHeapStats
	// and debug.FreeOSMemory, unless a test stands in for them.
	stats   func() heapStats
	release func()
}

// newMemWatch returns the loop's watch, its timer stopped.
func newMemWatch() memWatch {
	return memWatch{timer: newStoppedTimer(), stats: readHeapStats, release: releaseMemory}
}

// releaseMemory returns the free heap to the operating system: two
// collections, since what the sync.Pools hold (a burst's batches and
// buffers) survives the first in their victim caches and is freed by the
// second, then a scavenge of every free page (debug.FreeOSMemory runs the
// second collection and the scavenge).
func releaseMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// noteOutput counts n bytes queued for output, arming the timer if they
// are the first since it last fired.
func (l *loop) noteOutput(n int) {
	l.mem.queued += n
	if !l.mem.armed {
		l.mem.armed = true
		l.mem.timer.Reset(releasePeriod)
	}
}

// onMemTimer ends a period of output: if it was busy, it watches the next
// one; if it was quiet, it has memory returned if that is worth it
// (maybeRelease).
func (l *loop) onMemTimer() {
	l.mem.armed = false
	n := l.mem.queued
	l.mem.queued = 0
	if n >= quietBytes {
		l.mem.armed = true
		l.mem.timer.Reset(releasePeriod) // see whether the next one is quiet
		return
	}
	l.dropRoomBuffers()
	l.maybeRelease()
}

// heapStats are the figures of the heap that decide a release.
type heapStats struct {
	allocs uint64 // bytes allocated since the process started
	live   uint64 // bytes live at the end of the last collection
	// free is what a release would return: free pages the runtime has
	// not returned yet, and the garbage allocated since the last
	// collection, as far as it can tell.
	free uint64
}

// The samples of runtime/metrics that readHeapStats reads.
var heapMetrics = [...]string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes", // live and dead objects not yet swept
	"/memory/classes/heap/free:bytes",    // free pages not returned
}

// readHeapStats reads the heap's figures from runtime/metrics.
func readHeapStats() heapStats {
	var s [len(heapMetrics)]metrics.Sample
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	metrics.Read(s[:])
	h := heapStats{allocs: s[0].Value.Uint64(), live: s[1].Value.Uint64(), free: s[3].Value.Uint64()}
	if objects := s[2].Value.Uint64(); objects > h.live {
		h.free += objects - h.live
	}
	return h
}

// maybeRelease starts a release if a release would return at least
// releaseMinFree bytes, the process has allocated at least half its live
// heap since the last release, and none runs. It reports whether it
// started one.
func (l *loop) maybeRelease() bool {
	h := l.mem.stats()
	if h.free < releaseMinFree || h.allocs-l.mem.allocs < h.live/2 {
		return false
	}
	if !releasing.CompareAndSwap(false, true) {
		return false
	}
	l.mem.allocs = h.allocs
	release := l.mem.release
	l.srv.wg.Add(1)
	go func() {
		defer l.srv.wg.Done()
		defer releasing.Store(false)
		release()
	}()
	return true
}
