package store

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// collect receives Committed values from done until n tokens have come,
// failing on any error, and returns the tokens and how many batches there
// were.
func collect(t *testing.T, done <-chan Committed, n int) (tokens []uint64, batches int) {
	t.Helper()
	for len(tokens) < n {
		c := <-done
		if c.Err != nil {
			t.Fatalf("Committed.Err: %v", c.Err)
		}
		tokens = append(tokens, c.Tokens...)
		batches++
	}
	return tokens, batches
}

// count returns how many messages of the folded room are stored.
func count(t *testing.T, db *DB, room string) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow("SELECT count(*) FROM messages WHERE room_fold = ?", room).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWriterGroupCommit(t *testing.T) {
	db, _ := openTemp(t)
	// Hold the DB's one connection, so that the Writer is stuck in the trim
	// it starts with (it has a Keep rule) until everything is queued.
	conn, err := db.sql.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan Committed)
	w := NewWriter(db, 1000, Retention{Keep: 1000}, done)
	defer w.Close()
	const n = 500
	for i := range uint64(n) {
		if !w.TryAppend(msg(i+1, "#a"), i) {
			t.Fatalf("TryAppend %d: queue full", i)
		}
	}
	if !w.TryPut(Account{Name: "alice", Hash: "h"}, n) || !w.TryDelete("bob", n+1) {
		t.Fatal("queue full")
	}
	conn.Close()
	c := <-done
	if c.Err != nil {
		t.Fatal(c.Err)
	}
	if want := seq(0, n+1); !slices.Equal(c.Tokens, want) {
		t.Fatalf("one batch with tokens %v, want 0..%d", c.Tokens, n+1)
	}
	if got := count(t, db, "#a"); got != n {
		t.Errorf("%d messages stored, want %d", got, n)
	}
}

// TestWriterOrder runs the Writer the way the loop does: submit while the
// queue takes it, otherwise receive a result.
func TestWriterOrder(t *testing.T) {
	db, _ := openTemp(t)
	done := make(chan Committed)
	w := NewWriter(db, 16, Retention{}, done)
	defer w.Close()
	const n = 2000
	submit := func(i uint64) bool {
		switch i % 4 {
		case 1:
			return w.TryPut(Account{Name: fmt.Sprint("User", i%7), Hash: fmt.Sprint(i)}, i)
		case 3:
			return w.TryDelete(fmt.Sprint("user", i%5), i)
		default:
			return w.TryAppend(msg(i+1, "#a"), i)
		}
	}
	var got []uint64
	batches := 0
	for next := uint64(0); len(got) < n; {
		if next < n && submit(next) {
			next++
			continue
		}
		c := <-done
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		got = append(got, c.Tokens...)
		batches++
	}
	if !slices.Equal(got, seq(0, n-1)) {
		t.Fatalf("tokens out of order: %v", got)
	}
	t.Logf("%d operations in %d batches", n, batches)
	// The account operations took effect in submission order.
	accounts := map[string]string{}
	for i := uint64(0); i < n; i++ {
		switch i % 4 {
		case 1:
			accounts[fmt.Sprint("user", i%7)] = fmt.Sprint("User", i%7, " ", i)
		case 3:
			delete(accounts, fmt.Sprint("user", i%5))
		}
	}
	var want []string
	for _, v := range accounts {
		want = append(want, v)
	}
	slices.Sort(want)
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	var have []string
	for _, a := range s.Accounts {
		have = append(have, a.Name+" "+a.Hash)
	}
	if !slices.Equal(have, want) {
		t.Errorf("accounts %v, want %v", have, want)
	}
}

func TestWriterQueueFull(t *testing.T) {
	db, _ := openTemp(t)
	done := make(chan Committed) // not read until the queue is full
	const capacity = 8
	w := NewWriter(db, capacity, Retention{}, done)
	defer w.Close()
	// The goroutine takes at most one batch and then waits on done, so the
	// queue fills after capacity to 2*capacity operations.
	var n uint64
	for w.TryAppend(msg(n+1, "#a"), n) {
		n++
		if n > 2*capacity {
			t.Fatalf("queue of %d took %d operations", capacity, n)
		}
	}
	if n < capacity {
		t.Fatalf("queue of %d full after %d operations", capacity, n)
	}
	if w.TryPut(Account{Name: "a"}, 99) || w.TryDelete("a", 99) {
		t.Fatal("TryPut or TryDelete accepted into a full queue")
	}
	tokens, _ := collect(t, done, int(n))
	if !slices.Equal(tokens, seq(0, n-1)) {
		t.Fatalf("tokens %v", tokens)
	}
	if !w.TryAppend(msg(n+1, "#a"), n) {
		t.Fatal("TryAppend after draining: queue full")
	}
	collect(t, done, 1)
}

func TestWriterCloseDrains(t *testing.T) {
	db, _ := openTemp(t)
	const n = 100
	done := make(chan Committed, n)
	w := NewWriter(db, n, Retention{}, done)
	for i := range uint64(n) {
		if !w.TryAppend(msg(i+1, "#a"), i) {
			t.Fatal("queue full")
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.TryAppend(msg(n+1, "#a"), n) || w.TryPut(Account{Name: "a"}, n) || w.TryDelete("a", n) {
		t.Fatal("Try succeeded after Close")
	}
	if err := w.Close(); err != nil { // again: no effect
		t.Fatal(err)
	}
	close(done)
	var tokens []uint64
	for c := range done {
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		tokens = append(tokens, c.Tokens...)
	}
	if !slices.Equal(tokens, seq(0, n-1)) {
		t.Fatalf("tokens %v", tokens)
	}
	if got := count(t, db, "#a"); got != n {
		t.Errorf("%d messages stored, want %d", got, n)
	}
}

// TestWriterCloseWithoutReader checks that Close, called by the goroutine
// that would read done, commits what is queued and returns.
func TestWriterCloseWithoutReader(t *testing.T) {
	db, _ := openTemp(t)
	done := make(chan Committed)
	w := NewWriter(db, 100, Retention{}, done)
	for i := range uint64(50) {
		if !w.TryAppend(msg(i+1, "#a"), i) {
			t.Fatal("queue full")
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := count(t, db, "#a"); got != 50 {
		t.Errorf("%d messages stored, want 50", got)
	}
}

func TestWriterErrors(t *testing.T) {
	db, _ := openTemp(t)
	done := make(chan Committed)
	w := NewWriter(db, 100, Retention{}, done)
	defer w.Close()
	w.TryAppend(msg(1, "#a"), 1)
	collect(t, done, 1)
	w.TryAppend(msg(1, "#a"), 2) // the ID is taken
	c := <-done
	if c.Err == nil || !slices.Equal(c.Tokens, []uint64{2}) {
		t.Fatalf("Committed %+v, want an error for token 2", c)
	}
	t.Logf("error: %v", c.Err)
	w.TryAppend(msg(2, "#a"), 3) // and the Writer goes on
	collect(t, done, 1)

	// An error that cannot be delivered once Close is called is Close's.
	w.TryAppend(msg(2, "#a"), 4)
	if err := w.Close(); err == nil {
		t.Fatal("Close = nil after an undelivered error")
	} else {
		t.Logf("Close: %v", err)
	}
}

func TestWriterTrims(t *testing.T) {
	db, _ := openTemp(t)
	done := make(chan Committed)
	w := newWriter(db, 100, Retention{Keep: 3, MaxAge: time.Hour}, done, 0) // trims after every commit
	defer w.Close()
	now := time.Now()
	sync := func() {
		// The trim after a batch is done before the next batch.
		t.Helper()
		if !w.TryPut(Account{Name: "sync"}, 0) {
			t.Fatal("queue full")
		}
		collect(t, done, 1)
	}
	for id := uint64(1); id <= 6; id++ {
		m := Message{ID: id, Time: now, Room: "#A"}
		if id%2 == 0 {
			m.Room = "#a"
		}
		if !w.TryAppend(m, id) {
			t.Fatal("queue full")
		}
		collect(t, done, 1)
		sync()
		if got, want := count(t, db, "#a"), min(int(id), 3); got != want {
			t.Errorf("after message %d: %d kept, want %d", id, got, want)
		}
	}
	w.TryAppend(Message{ID: 7, Time: now.Add(-2 * time.Hour), Room: "#b"}, 7)
	collect(t, done, 1)
	sync()
	if got := count(t, db, "#b"); got != 0 {
		t.Errorf("a message 2h old was kept with MaxAge 1h")
	}
}

// BenchmarkAppend measures messages per second through a Writer: "burst"
// keeps the queue full, so that batches grow (group commit); "serial" waits
// for each message's commit before sending the next, so every message pays
// for a commit. "full" is synchronous=FULL: an fsync per commit.
func BenchmarkAppend(b *testing.B) {
	for _, sync := range []struct {
		name string
		o    Options
	}{{"normal", Options{}}, {"full", Options{SyncFull: true}}} {
		for _, serial := range []bool{false, true} {
			name := sync.name + "/burst"
			if serial {
				name = sync.name + "/serial"
			}
			b.Run(name, func(b *testing.B) {
				db, err := OpenWith(b.TempDir()+"/bench.db", sync.o)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				done := make(chan Committed, 16)
				w := NewWriter(db, 1024, Retention{Keep: 1000}, done)
				defer w.Close()
				m := Message{Time: time.Now(), Room: "#bench", User: "alice", Text: "a message of a typical length, some sixty bytes long"}
				committed, batches := 0, 0
				receive := func() {
					c := <-done
					if c.Err != nil {
						b.Fatal(c.Err)
					}
					committed += len(c.Tokens)
					batches++
				}
				b.ResetTimer()
				for i := 0; i < b.N; {
					m.ID = uint64(i + 1)
					if (!serial || committed == i) && w.TryAppend(m, uint64(i)) {
						i++
						continue
					}
					receive()
				}
				for committed < b.N {
					receive()
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
				b.ReportMetric(float64(b.N)/float64(batches), "msgs/batch")
			})
		}
	}
}

// TestWriterTrimCatchesUp checks that the Writer's trims, each of a bounded
// number of messages, keep up with a room that grows by more than that
// between two of them, and then catch up.
func TestWriterTrimCatchesUp(t *testing.T) {
	db, _ := openTemp(t)
	done := make(chan Committed)
	const keep, batch = 10, 2 * trimLimit
	w := newWriter(db, 2*batch, Retention{Keep: keep}, done, 0) // trims after every commit
	defer w.Close()
	taken := func() {
		for w.queue.len() > 0 {
			runtime.Gosched()
		}
	}
	id := uint64(1)
	w.TryAppend(msg(id, "#a"), id) // the Writer waits to deliver it
	taken()
	for range 10 {
		// Queue a batch while the Writer waits, then let it go on: it
		// trims, and then takes the whole batch and commits it in one.
		for range batch {
			id++
			if !w.TryAppend(msg(id, "#a"), id) {
				t.Fatal("queue full")
			}
		}
		if c := <-done; c.Err != nil {
			t.Fatal(c.Err)
		}
		taken()
	}
	collect(t, done, batch)
	sync := func() {
		// The trim after a batch is done before the next batch.
		t.Helper()
		if !w.TryPut(Account{Name: "sync"}, 0) {
			t.Fatal("queue full")
		}
		collect(t, done, 1)
	}
	sync()
	if n := count(t, db, "#a"); n > keep+batch {
		t.Fatalf("%d messages kept after 10 batches of %d, Keep is %d", n, batch, keep)
	}
	for i := 0; count(t, db, "#a") > keep; i++ {
		if i == 5 {
			t.Fatalf("%d messages kept after %d more batches, want %d", count(t, db, "#a"), i, keep)
		}
		sync()
	}
}
