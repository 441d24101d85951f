package passwd

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

func TestPool(t *testing.T) {
	done := make(chan Result)
	p := NewPool(3, 20, done)
	defer p.Close()
	stored, err := Hash("pw7", Cheap)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range uint64(n) {
		var ok bool
		switch i % 3 {
		case 0:
			ok = p.TryHash(fmt.Sprint("pw", i), Cheap, i)
		case 1:
			ok = p.TryVerify(stored, fmt.Sprint("pw", i), i) // matches for i == 7
		case 2:
			ok = p.TryVerify("$argon2id$bad", "x", i)
		}
		if !ok {
			t.Fatalf("job %d: queue full", i)
		}
	}
	seen := map[uint64]bool{}
	for range n {
		r := <-done
		if seen[r.Token] {
			t.Fatalf("token %d twice", r.Token)
		}
		seen[r.Token] = true
		i := r.Token
		switch i % 3 {
		case 0:
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if ok, err := Verify(r.Hash, fmt.Sprint("pw", i)); !ok || err != nil {
				t.Errorf("hash of job %d does not verify: %v, %v", i, ok, err)
			}
		case 1:
			if r.OK != (i == 7) || r.Err != nil {
				t.Errorf("verify job %d: OK %v, Err %v", i, r.OK, r.Err)
			}
		case 2:
			if r.OK || !errors.Is(r.Err, ErrMalformed) {
				t.Errorf("verify of a bad hash: OK %v, Err %v", r.OK, r.Err)
			}
		}
	}
}

func TestPoolQueueFull(t *testing.T) {
	done := make(chan Result) // not read until the queue is full
	const workers, capacity = 2, 5
	p := NewPool(workers, capacity, done)
	defer p.Close()
	// Each worker takes one job and then waits on done, so the pool holds
	// workers+capacity jobs once the workers have taken theirs: a TryHash
	// refused before that (the workers not yet running) is tried again.
	var n uint64
	deadline := time.Now().Add(10 * time.Second)
	for n < capacity+workers {
		if p.TryHash("pw", Cheap, n) {
			n++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pool took only %d jobs", n)
		}
		runtime.Gosched()
	}
	if p.TryHash("pw", Cheap, n) || p.TryVerify(DummyHash(Cheap), "pw", n) {
		t.Fatal("TryVerify accepted into a full queue")
	}
	for range n {
		if r := <-done; r.Err != nil || r.Hash == "" {
			t.Fatalf("result %+v", r)
		}
	}
	if !p.TryHash("pw", Cheap, n) {
		t.Fatal("TryHash after draining: queue full")
	}
	<-done
}

func TestPoolCloseFinishesQueued(t *testing.T) {
	const n = 10
	done := make(chan Result, n)
	p := NewPool(2, n, done)
	for i := range uint64(n) {
		if !p.TryHash("pw", Cheap, i) {
			t.Fatal("queue full")
		}
	}
	p.Close()
	p.Close()
	if p.TryHash("pw", Cheap, n) || p.TryVerify(DummyHash(Cheap), "pw", n) {
		t.Fatal("Try succeeded after Close")
	}
	if len(done) != n {
		t.Fatalf("%d results after Close, want %d", len(done), n)
	}
}

// TestPoolCloseWithoutReader checks that Close, called by the goroutine
// that would read done, returns.
func TestPoolCloseWithoutReader(t *testing.T) {
	done := make(chan Result)
	p := NewPool(2, 10, done)
	for i := range uint64(10) {
		p.TryHash("pw", Cheap, i)
	}
	p.Close()
}
