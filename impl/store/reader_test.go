package store

import (
	"slices"
	"testing"
)

func TestReader(t *testing.T) {
	db, _ := openTemp(t)
	fill(t, db, 30, "#a", "#B", "#c")
	r := Retention{Keep: 8}
	done := make(chan Fetched)
	rd := NewReader(db, 10, r, done)
	defer rd.Close()
	queries := []Query{
		{Room: "#A"},
		{Room: "#b", Limit: 3},
		{Room: "#c", Before: 20, Limit: 2},
		{Room: "#none"},
	}
	for i, q := range queries {
		if !rd.TryFetch(q, uint64(i)) {
			t.Fatal("queue full")
		}
	}
	for i, q := range queries {
		f := <-done
		if f.Token != uint64(i) || f.Err != nil {
			t.Fatalf("result %d: %+v", i, f)
		}
		want, _ := db.Fetch(q, r)
		if !slices.Equal(f.Messages, want) {
			t.Errorf("TryFetch(%+v) = %v, want %v", q, ids(f.Messages), ids(want))
		}
	}
}

func TestReaderQueueFull(t *testing.T) {
	db, _ := openTemp(t)
	fill(t, db, 3, "#a")
	done := make(chan Fetched) // not read until the queue is full
	const capacity = 4
	rd := NewReader(db, capacity, Retention{}, done)
	defer rd.Close()
	// The goroutine takes one fetch and then waits on done.
	var n uint64
	for rd.TryFetch(Query{Room: "#a"}, n) {
		n++
		if n > capacity+1 {
			t.Fatalf("queue of %d took %d fetches", capacity, n)
		}
	}
	if n < capacity {
		t.Fatalf("queue of %d full after %d fetches", capacity, n)
	}
	for i := range n {
		if f := <-done; f.Token != i || len(f.Messages) != 3 {
			t.Fatalf("result %d: %+v", i, f)
		}
	}
}

func TestReaderClose(t *testing.T) {
	db, _ := openTemp(t)
	fill(t, db, 3, "#a")
	done := make(chan Fetched) // never read
	rd := NewReader(db, 10, Retention{}, done)
	for i := range uint64(5) {
		rd.TryFetch(Query{Room: "#a"}, i)
	}
	rd.Close() // does not wait for the reader of done
	rd.Close()
	if rd.TryFetch(Query{Room: "#a"}, 9) {
		t.Fatal("TryFetch succeeded after Close")
	}
}

// TestReaderWhileWriterWaits checks that a Writer blocked on the loop does
// not hold up the Reader: it waits between transactions.
func TestReaderWhileWriterWaits(t *testing.T) {
	db, _ := openTemp(t)
	committed := make(chan Committed) // not read
	w := NewWriter(db, 10, Retention{}, committed)
	w.TryAppend(msg(1, "#a"), 1)
	fetched := make(chan Fetched)
	rd := NewReader(db, 10, Retention{}, fetched)
	defer rd.Close()
	// Fetch until the message is there: then the Writer has committed it
	// and waits on committed, which nobody reads yet.
	for {
		rd.TryFetch(Query{Room: "#a"}, 0)
		f := <-fetched
		if f.Err != nil {
			t.Fatal(f.Err)
		}
		if len(f.Messages) == 1 {
			break
		}
	}
	for i := range uint64(3) {
		rd.TryFetch(Query{Room: "#a"}, i)
		if f := <-fetched; f.Err != nil || len(f.Messages) != 1 {
			t.Fatalf("fetch %d: %+v", i, f)
		}
	}
	<-committed
	w.Close()
}

// TestReaderWriterInterleaved runs a Writer and a Reader on one DB the way
// the loop does, fetching after every commit: each fetch sees a consistent
// state that holds at least what was committed when it was asked for.
func TestReaderWriterInterleaved(t *testing.T) {
	db, _ := openTemp(t)
	committed := make(chan Committed)
	fetched := make(chan Fetched)
	w := NewWriter(db, 8, Retention{}, committed)
	defer w.Close()
	rd := NewReader(db, 8, Retention{}, fetched)
	defer rd.Close()
	const n = 400
	next, last := uint64(1), uint64(0) // next to send, last committed
	pending := 0                       // fetches asked for and not answered
	for last < n || pending > 0 {
		if next <= n && w.TryAppend(msg(next, "#a"), next) {
			next++
			continue
		}
		select {
		case c := <-committed:
			if c.Err != nil {
				t.Fatal(c.Err)
			}
			last = c.Tokens[len(c.Tokens)-1]
			if rd.TryFetch(Query{Room: "#a"}, last) {
				pending++
			}
			if rd.TryFetch(Query{Room: "#a", Upto: last}, 1<<32|last) {
				pending++
			}
		case f := <-fetched:
			pending--
			if f.Err != nil {
				t.Fatal(f.Err)
			}
			got, upto := ids(f.Messages), f.Token&(1<<32-1)
			if len(got) < int(upto) || !slices.Equal(got, seq(1, uint64(len(got)))) {
				t.Fatalf("fetch after commit %d: %v", upto, got)
			}
			if f.Token>>32 == 1 && len(got) != int(upto) {
				t.Fatalf("fetch up to %d: %v", upto, got)
			}
		}
	}
}
