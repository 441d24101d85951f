package impl

import (
	"runtime"
	"testing"
)

// fakeHeap stands in for the runtime in a loop's memWatch: the figures it
// reports, and the releases started.
type fakeHeap struct {
	h        heapStats
	released chan struct{}
}

func watchHeap(h *handLoop, stats heapStats) *fakeHeap {
	f := &fakeHeap{h: stats, released: make(chan struct{}, 8)}
	h.l.mem.stats = func() heapStats { return f.h }
	h.l.mem.release = func() { f.released <- struct{}{} }
	return f
}

// releases waits for the releases the loop has started (they run in
// goroutines of the server) and counts them.
func (f *fakeHeap) releases(h *handLoop) int {
	h.quiesce()
	n := 0
	for {
		select {
		case <-f.released:
			n++
		default:
			return n
		}
	}
}

// TestReleaseAfterBurst: the output the loop queues is counted, one sum a
// line; a period of it at quietBytes or more is busy and watched by the
// next; the first quiet period after it has the heap's free memory
// returned, if there is at least releaseMinFree of it and the process has
// allocated at least half its live heap since the last release — so that
// an idle member costs the same after a burst as before it (memory.go).
func TestReleaseAfterBurst(t *testing.T) {
	h := newHandLoop(t, Config{CoalesceDelay: -1})
	alice, bob := twoInRoom(h)
	heap := watchHeap(h, heapStats{allocs: 100 << 20, live: 10 << 20, free: 30 << 20})

	// Every line queued counts: a ROOM line to each member.
	h.l.onMemTimer() // the joins' period, quiet: a first release
	if n := heap.releases(h); n != 1 {
		t.Fatalf("%d releases after a quiet period with 30 MiB free, want 1", n)
	}
	if h.l.mem.armed || h.l.mem.queued != 0 {
		t.Fatalf("the watch is armed (%v) or counts %d bytes after a quiet period", h.l.mem.armed, h.l.mem.queued)
	}
	h.send(alice, "MSG hi")
	alice.expect("ROOM #r alice hi")
	bob.expect("ROOM #r alice hi")
	if want := 2 * len("ROOM #r alice hi\r\n"); h.l.mem.queued != want || !h.l.mem.armed {
		t.Fatalf("after one message the watch counts %d bytes (armed %v), want %d, armed", h.l.mem.queued, h.l.mem.armed, want)
	}

	// A burst: busy periods release nothing and keep the watch armed.
	heap.h.allocs += 200 << 20
	for range 3 {
		h.l.noteOutput(quietBytes)
		h.l.onMemTimer()
		if !h.l.mem.armed {
			t.Fatal("a busy period did not arm the watch for the next")
		}
	}
	if n := heap.releases(h); n != 0 {
		t.Fatalf("%d releases during a burst", n)
	}
	// The first quiet period after it releases, once.
	h.l.noteOutput(quietBytes - 1)
	h.l.onMemTimer()
	if n := heap.releases(h); n != 1 {
		t.Fatalf("%d releases after the burst, want 1", n)
	}
	if h.l.mem.allocs != heap.h.allocs {
		t.Errorf("the release recorded allocations at %d, want %d", h.l.mem.allocs, heap.h.allocs)
	}

	// Quiet again, with as much free but little allocated since: a
	// collection would not pay for itself.
	heap.h.allocs += 4 << 20 // less than half the live heap
	h.l.noteOutput(100)
	h.l.onMemTimer()
	if n := heap.releases(h); n != 0 {
		t.Fatalf("%d releases with only 4 MiB allocated since the last (live heap 10 MiB)", n)
	}
	// Enough allocated, too little to return.
	heap.h.allocs += 8 << 20
	heap.h.free = releaseMinFree - 1
	h.l.noteOutput(100)
	h.l.onMemTimer()
	if n := heap.releases(h); n != 0 {
		t.Fatalf("%d releases with less than releaseMinFree to return", n)
	}
	// Both: released.
	heap.h.free = releaseMinFree
	h.l.noteOutput(100)
	h.l.onMemTimer()
	if n := heap.releases(h); n != 1 {
		t.Fatalf("%d releases with enough allocated and free, want 1", n)
	}
}

// TestReleaseOneAtATime: a release never starts while another runs, in
// this server or another of the process.
func TestReleaseOneAtATime(t *testing.T) {
	h := newHandLoop(t, Config{})
	heap := watchHeap(h, heapStats{allocs: 100 << 20, live: 10 << 20, free: 30 << 20})
	block := make(chan struct{})
	h.l.mem.release = func() { <-block; heap.released <- struct{}{} }
	if !h.l.maybeRelease() {
		t.Fatal("no release started")
	}
	heap.h.allocs += 100 << 20
	if h.l.maybeRelease() {
		t.Fatal("a release started while one runs")
	}
	close(block)
	if n := heap.releases(h); n != 1 {
		t.Fatalf("%d releases ran, want 1", n)
	}
	if !h.l.maybeRelease() {
		t.Fatal("no release started after the first ended")
	}
	if n := heap.releases(h); n != 1 {
		t.Fatalf("%d more releases ran, want 1", n)
	}
}

// TestReadHeapStats: the figures come from the runtime and make sense.
func TestReadHeapStats(t *testing.T) {
	runtime.GC() // the live heap is known after a collection
	h := readHeapStats()
	if h.allocs == 0 || h.live == 0 || h.allocs < h.live {
		t.Fatalf("heap stats %+v: want allocations at least the live heap, both above 0", h)
	}
}
