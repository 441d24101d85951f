package store

import "sync"

// Fetched is the result of one [Reader.TryFetch].
type Fetched struct {
	// Token is the token given to TryFetch.
	Token uint64
	// Messages are the messages found, oldest first (see [DB.Fetch]).
	Messages []Message
	// Err is why the fetch failed, if it did.
	Err error
}

// fetchJob is one queued TryFetch.
type fetchJob struct {
	q     Query
	token uint64
}

// Reader runs the loop's history fetches from a goroutine of its own, one
// at a time, so that the loop never waits on disk. It shares the DB's one
// connection with the [Writer]: a fetch waits while a batch is being
// committed, and a batch while a fetch runs.
type Reader struct {
	db   *DB       // immutable
	keep Retention // immutable

	queue *queue[fetchJob] // TryFetch -> goroutine
	done  chan<- Fetched   // goroutine -> the loop
	stop  chan struct{}    // closed by Close
	exit  chan struct{}    // closed when the goroutine has returned
	once  sync.Once        // closes stop
}

// NewReader starts a Reader on db that queues at most capacity fetches (at
// least one) besides the one running, applies the retention rules r to
// every fetch (see [DB.Fetch]), and reports each result on done.
func NewReader(db *DB, capacity int, r Retention, done chan<- Fetched) *Reader {
	rd := &Reader{
		db:    db,
		keep:  r,
		queue: newQueue[fetchJob](capacity),
		done:  done,
		stop:  make(chan struct{}),
		exit:  make(chan struct{}),
	}
	go rd.run()
	return rd
}

// TryFetch queues the fetch q, whose result will carry token. It never
// blocks: it reports false, and queues nothing, if the queue is full or the
// Reader is closed.
func (rd *Reader) TryFetch(q Query, token uint64) bool {
	return rd.queue.push(fetchJob{q: q, token: token})
}

// Close stops the Reader: fetches still queued are dropped without a
// result, a fetch that is running finishes, and its result is delivered
// only if done has room or a receiver is waiting (so Close may be called
// from the goroutine that reads done). It does not close done. Close may be
// called more than once.
func (rd *Reader) Close() {
	rd.once.Do(func() {
		rd.queue.close()
		close(rd.stop)
	})
	<-rd.exit
}

// run is the Reader's goroutine.
func (rd *Reader) run() {
	defer close(rd.exit)
	var job []fetchJob
	for {
		var ok bool
		job, ok = rd.queue.take(job[:0], 1)
		if !ok {
			return
		}
		select {
		case <-rd.stop:
			return
		default:
		}
		ms, err := rd.db.Fetch(job[0].q, rd.keep)
		f := Fetched{Token: job[0].token, Messages: ms, Err: err}
		select {
		case rd.done <- f:
			continue
		case <-rd.stop:
		}
		select {
		case rd.done <- f:
		default:
		}
		return
	}
}
