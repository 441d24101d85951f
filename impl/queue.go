package impl

import (
	"net"
	"sync"
	"time"
)

// closeMode says whether, and how, a connection's output is ending: the
// writer's view of its client's phase (lifecycle.go). Only the loop's
// lifecycle transitions change it, through outQueue.close: doom and mute
// abort, closeClient flushes or aborts as closeRules say.
type closeMode uint8

const (
	queueOpen      closeMode = iota // lines are being queued
	flushThenClose                  // write what is queued, then close gracefully
	abort                           // drop what is queued and write nothing more; the loop closes the socket
)

// batch is a list of queued lines. Batches circulate through batchPool, so
// that a queue holds none while its connection is idle, and a slice grown
// by one client's burst serves the next burst of any client.
type batch struct {
	lines net.Buffers // shared, read-only bytes
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// getBatch returns an empty batch.
func getBatch() *batch { return batchPool.Get().(*batch) }

// putBatch gives back b, which must hold no line.
func putBatch(b *batch) {
	if b != nil {
		batchPool.Put(b)
	}
}

// outQueue is a client's bounded output queue (LIMIT-3). The loop pushes
// formatted lines; a writer takes everything pending at once and writes it
// with one system call (writer.go). There is a writer only while there is
// output: the loop starts one when push or close says so, and it exits as
// soon as the queue is empty (writer.go). The mutex guards only the queue,
// never chat state, and is never held during I/O.
type outQueue struct {
	mu        sync.Mutex
	fill      *batch // lines queued and not yet taken by the writer; nil when empty and idle
	pending   int    // bytes queued or taken but not yet written
	wantDrain bool   // pending went over high water: report when at low water
	mode      closeMode
	// writing: a writer is running, or starts at the end of the loop's
	// turn (loop.startWriter). It is set by whoever starts
	// one and cleared by the writer as it exits, so there is never more
	// than one.
	writing bool
	// lastWrite is when the writer last started a write, as a reading of
	// the server's clock (clock.go). The loop delays the start of a writer
	// for a queue written to recently (flush.go).
	lastWrite time.Duration
}

// wakeAction says what the loop must do about a queue's writer after a push.
type wakeAction uint8

const (
	writerBusy  wakeAction = iota // a writer runs, or the connection is ending: nothing
	writerStart                   // start a writer now
	writerLater                   // start one at the next flush (loop.flushLater)
)

// push queues line, which the caller must not modify afterwards. It
// returns ok=false, queuing nothing, if that would take the pending output
// over maxBytes (LIMIT-4). hot reports whether the pending output is now
// over highWater; if so the writer reports back once it is at low water.
//
// act says whether the caller must start a writer: at once if none is
// running and the line is urgent or the queue was last written at least
// window ago by clk; otherwise, if none is running, at the next flush, so
// that the lines that arrive meanwhile go out in the same write (flush.go).
func (q *outQueue) push(line []byte, maxBytes, highWater int, urgent bool, window time.Duration, clk clock) (hot, ok bool, act wakeAction) {
	q.mu.Lock()
	if q.mode != queueOpen {
		q.mu.Unlock()
		return false, true, writerBusy // the connection is ending: nothing more goes out (STATE-4)
	}
	if q.pending+len(line) > maxBytes {
		q.mu.Unlock()
		return false, false, writerBusy
	}
	if q.fill == nil {
		q.fill = getBatch()
	}
	q.fill.lines = append(q.fill.lines, line)
	q.pending += len(line)
	hot = q.pending > highWater
	if hot {
		q.wantDrain = true
	}
	switch {
	case q.writing:
		act = writerBusy
	case urgent || window <= 0 || clk.now()-q.lastWrite >= window:
		q.writing = true
		act = writerStart
	default:
		act = writerLater
	}
	q.mu.Unlock()
	return hot, true, act
}

// pendingBytes returns the bytes queued or taken but not yet written.
func (q *outQueue) pendingBytes() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.pending
}

// flush reports whether the caller must start a writer for lines that
// push left waiting: there are some, no writer runs and the connection is
// open. If so it records that one runs.
func (q *outQueue) flush() (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.writing || q.mode != queueOpen || q.fill == nil || len(q.fill.lines) == 0 {
		return false
	}
	q.writing = true
	return true
}

// stillHot reports whether the pending output is over highWater. If it is,
// the writer will report again when it is at low water.
func (q *outQueue) stillHot(highWater int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pending > highWater {
		q.wantDrain = true
		return true
	}
	return false
}

// take hands the writer everything queued, in exchange for done, the
// emptied batch it wrote last (or nil), and returns the close mode. With
// nothing queued it returns nil; if the connection is open the writer must
// then exit, and take records that none runs, so that the loop starts one
// for the next line.
func (q *outQueue) take(done *batch) (*batch, closeMode) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if b := q.fill; b != nil && len(b.lines) > 0 {
		q.fill = done
		return b, q.mode
	}
	putBatch(done)
	putBatch(q.fill)
	q.fill = nil
	if q.mode == queueOpen {
		q.writing = false
	}
	return nil, q.mode
}

// written records that n pending bytes reached the socket in a write
// started at start. It reports whether the loop asked to hear about the
// queue draining and it now has.
func (q *outQueue) written(n, lowWater int, start time.Duration) (drained bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending -= n
	q.lastWrite = start
	if q.wantDrain && q.pending <= lowWater {
		q.wantDrain = false
		return true
	}
	return false
}

// close ends the queue: with flushThenClose the writer writes what is queued
// and then closes; with abort the queue is dropped. abort overrides
// flushThenClose, never the other way round. start reports that a graceful
// close needs a writer and none is running: the caller must start one.
func (q *outQueue) close(mode closeMode) (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if mode > q.mode {
		q.mode = mode
		if mode == abort && q.fill != nil {
			clear(q.fill.lines)
			q.fill.lines = q.fill.lines[:0]
			putBatch(q.fill)
			q.fill = nil
		}
	}
	if q.mode == flushThenClose && !q.writing {
		q.writing = true
		return true
	}
	return false
}
