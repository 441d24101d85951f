package store

import (
	"fmt"
	"sync"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Committed reports one batch that the [Writer] committed, or failed to.
type Committed struct {
	// Tokens are the tokens of the batch's operations, in the order they
	// were submitted. Empty for a failed trim or checkpoint (see Err).
	Tokens []uint64
	// Err is nil if every operation of the batch is committed, and
	// otherwise the reason none of them is. With no Tokens it reports a
	// failed trim or checkpoint: nothing that was submitted is lost, and
	// the retention rules still hold for every [DB.Fetch].
	Err error
}

// Writer commits the loop's changes from a goroutine of its own, so that the
// loop never waits on disk. The loop queues operations with the Try methods,
// which never block; the goroutine takes everything queued at once and
// commits it in one transaction (a group commit: under load a batch grows
// instead of the queue), then sends one [Committed] listing the tokens of
// the batch. Operations take effect in the order of submission, within a
// batch too, and batches are reported in that order. If a commit fails
// (Committed.Err), none of its batch's operations is stored; the Writer goes
// on with the next batch.
//
// Between batches the Writer keeps the file in shape (upkeep.go): it
// deletes what the retention rules exclude, in all rooms when it starts and
// then about once a second in the rooms written to since, which costs about
// what it deletes; and it copies the WAL into the database file about once
// a second (a checkpoint). It does either while no operation is queued,
// unless that has not happened for a second more. A second goroutine
// writes the WAL to disk (fsync) every 50 ms while commits add to it, so
// that a checkpoint, which must sync the WAL first, finds little left to
// sync. Neither changes what a commit promises (see [Options]).
type Writer struct {
	db    *DB           // immutable
	keep  Retention     // immutable
	every time.Duration // immutable: the least time between trims

	queue *queue[op]       // Try methods -> goroutine
	done  chan<- Committed // goroutine -> the loop
	stop  chan struct{}    // closed by Close
	exit  chan struct{}    // closed when the goroutines have returned
	wrote chan struct{}    // goroutine -> syncWAL: a commit added to the WAL; one pending at most
	once  sync.Once        // closes stop
	err   error            // first undelivered error; owned by the goroutine until exit is closed
}

// NewWriter starts a Writer on db that queues at most capacity operations
// (at least one) besides the batch being committed, trims with the
// retention rules r, and reports each batch on done.
//
// Sending on done blocks the Writer's goroutine, not the loop: while the
// loop is not receiving, operations pile up in the queue until the Try
// methods report it full.
func NewWriter(db *DB, capacity int, r Retention, done chan<- Committed) *Writer {
	return newWriter(db, capacity, r, done, trimEvery)
}

// newWriter is NewWriter with the least time between trims as a parameter,
// for tests.
func newWriter(db *DB, capacity int, r Retention, done chan<- Committed, every time.Duration) *Writer {
	w := &Writer{
		db:    db,
		keep:  r,
		every: every,
		queue: newQueue[op](capacity),
		done:  done,
		stop:  make(chan struct{}),
		exit:  make(chan struct{}),
		wrote: make(chan struct{}, 1),
	}
	go w.run()
	return w
}

// TryAppend queues the message m, reporting token when it is committed. It
// never blocks: it reports false, and queues nothing, if the queue is full
// or the Writer is closed.
func (w *Writer) TryAppend(m Message, token uint64) bool {
	return w.queue.push(op{kind: opAppend, msg: m, token: token})
}

// TryPut queues the insertion or replacement of the account a (keyed by its
// folded name), reporting token when it is committed. It never blocks: it
// reports false, and queues nothing, if the queue is full or the Writer is
// closed.
func (w *Writer) TryPut(a Account, token uint64) bool {
	return w.queue.push(op{kind: opPut, acct: a, token: token})
}

// TryDelete queues the deletion of the account name (any case; no account
// is not an error), reporting token when it is committed. It never blocks:
// it reports false, and queues nothing, if the queue is full or the Writer
// is closed.
func (w *Writer) TryDelete(name string, token uint64) bool {
	return w.queue.push(op{kind: opDelete, name: name, token: token})
}

// Close stops accepting operations, commits what is queued, stops the
// goroutines and returns. It does not close done.
//
// Once Close has been called the goroutine no longer waits for the reader
// of done: a Committed is delivered only if done has room or a receiver is
// waiting, so Close may be called from the goroutine that reads done. Every
// error is reported once: a Committed.Err that was not delivered is
// returned by Close (the first one, if several). Close may be called more
// than once.
func (w *Writer) Close() error {
	w.once.Do(func() {
		w.queue.close()
		close(w.stop)
	})
	<-w.exit
	return w.err
}

// run is the Writer's goroutine.
func (w *Writer) run() {
	defer close(w.exit)
	// A full trim first: the retention rules may have changed since the
	// last run, in any room.
	trimmed := w.trimAll(time.Now())
	if synced := w.startSyncWAL(); synced != nil {
		defer func() { <-synced }() // Close has closed stop
	}
	u := upkeep{lastTrim: time.Now(), lastCheckpoint: time.Now(), trimWait: w.every, dirty: map[string]struct{}{}, all: !trimmed}
	var batch []op
	for {
		var ok bool
		batch, ok = w.queue.take(batch[:0], 0)
		if !ok {
			return
		}
		err := w.db.commit(batch)
		if err != nil {
			err = fmt.Errorf("store: commit %d operations: %w", len(batch), err)
		}
		c := Committed{Tokens: make([]uint64, len(batch)), Err: err}
		for i, o := range batch {
			c.Tokens[i] = o.token
			if err == nil && o.kind == opAppend && w.keep.Keep > 0 {
				u.dirty[spec.Fold(o.msg.Room)] = struct{}{}
				u.appended++
			}
		}
		clear(batch) // drop the strings before waiting on done
		w.send(c)
		if err == nil {
			w.wroteWAL(&u)
		}
		if !w.stopping() {
			w.upkeep(&u)
		}
	}
}

// stopping reports whether Close has been called.
func (w *Writer) stopping() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// send delivers c on done, waiting for the loop to receive it until Close
// is called; after that it delivers c only if that needs no wait, and keeps
// an undelivered error for Close to return.
func (w *Writer) send(c Committed) {
	select {
	case w.done <- c:
		return
	case <-w.stop:
	}
	select {
	case w.done <- c:
	default:
		if c.Err != nil && w.err == nil {
			w.err = c.Err
		}
	}
}
