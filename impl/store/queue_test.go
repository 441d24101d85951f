package store

import (
	"math/rand/v2"
	"testing"
)

// TestQueue checks the queue's order and bound through many pushes and
// partial takes, which reuse its storage.
func TestQueue(t *testing.T) {
	const limit = 5
	q := newQueue[int](limit)
	rng := rand.New(rand.NewPCG(3, 4))
	pushed, taken := 0, 0
	var buf []int
	for range 2000 {
		if rng.IntN(2) == 0 {
			ok := q.push(pushed)
			if want := pushed-taken < limit; ok != want {
				t.Fatalf("push with %d queued = %v", pushed-taken, ok)
			}
			if ok {
				pushed++
			}
			continue
		}
		if pushed == taken {
			continue // take would wait
		}
		var ok bool
		buf, ok = q.take(buf[:0], rng.IntN(3))
		if !ok || len(buf) == 0 {
			t.Fatalf("take = %v, %v", buf, ok)
		}
		for _, v := range buf {
			if v != taken {
				t.Fatalf("took %d, want %d", v, taken)
			}
			taken++
		}
	}
	q.push(pushed)
	q.close()
	if q.push(pushed + 1) {
		t.Fatal("push after close succeeded")
	}
	rest, ok := q.take(nil, 0)
	if !ok || len(rest) != pushed+1-taken || rest[len(rest)-1] != pushed {
		t.Fatalf("after close: %v, %v", rest, ok)
	}
	if _, ok := q.take(nil, 0); ok {
		t.Fatal("take on a closed, empty queue succeeded")
	}
}
