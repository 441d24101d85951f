package impl

import (
	"net"
	"sync"
	"sync/atomic"
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
// formatted lines into a batch of its own during a turn, and hands the
// batch over once, when the turn ends (handOver); a writer takes everything
// handed over at once and writes it with one system call (writer.go). There
// is a writer only while there is output: the loop starts one when
// handOver or close says so, and it exits as soon as the queue is empty
// (writer.go). The mutex guards only what the writer shares, never chat
// state, and is taken once a client a turn, never for a line, and never
// held during I/O.
type outQueue struct {
	// Owned by the loop: the lines of the current turn, not yet handed
	// over, and their bytes. The last entry is kept apart in tail, where
	// the room messages that follow it in their room's buffer extend it
	// (follows), so that queuing one to a member touches the member's
	// struct alone, not its batch; local holds the entries before it, and
	// is nil until there are any. urgent: one of the lines answers the
	// client's own line (flush.go). listed: the client is on
	// loop.handing.
	tail       []byte
	local      *batch
	localBytes int
	urgent     bool
	listed     bool

	// pending counts the bytes handed over and not yet written. It
	// changes only under mu, and the loop reads it without the lock.
	pending atomic.Int64

	mu        sync.Mutex
	fill      *batch // lines handed over and not yet taken by the writer; nil when empty and idle
	wantDrain bool   // pending went over high water: report when at low water
	// mode changes only in the loop (close), under mu; the loop reads it
	// without the lock.
	mode closeMode
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

// push queues line, which the caller must not modify afterwards, for the
// end of the loop's turn (handOver). It returns ok=false, queuing nothing,
// if that would take the pending output over maxBytes (LIMIT-4). hot
// reports whether the pending output is now over highWater; if so the
// writer reports back once it is at low water. over says that the caller
// already knows the queue is over high water and awaits that report: push
// then does not look again, which would take the queue's lock for every
// line to a slow reader. urgent marks the line as an answer to the
// client's own line. first reports that the line is the first of the
// turn: the caller must hand the queue over when the turn ends. Only the
// loop calls push.
func (q *outQueue) push(line []byte, maxBytes, highWater int, over, urgent bool) (hot, ok, first bool) {
	if q.mode != queueOpen {
		return false, true, false // the connection is ending: nothing more goes out (STATE-4)
	}
	total := int(q.pending.Load()) + q.localBytes + len(line)
	if total > maxBytes {
		return false, false, false
	}
	if n := len(q.tail); n > 0 && follows(q.tail, line) {
		q.tail = q.tail[:n+len(line)]
	} else {
		q.closeTail()
		q.tail = line
	}
	q.localBytes += len(line)
	q.urgent = q.urgent || urgent
	if total > highWater && !over {
		hot = q.stillHot(highWater)
	}
	first = !q.listed
	q.listed = true
	return hot, true, first
}

// closeTail moves the open entry of the turn, if any, to the end of the
// turn's batch.
func (q *outQueue) closeTail() {
	if q.tail == nil {
		return
	}
	if q.local == nil {
		q.local = getBatch()
	}
	q.local.lines = append(q.local.lines, q.tail)
	q.tail = nil
}

// follows reports whether b begins where a ends, in the same array, as the
// messages of a room queued one after another do (room.queue): a and b
// can then be one entry of a batch.
func follows(a, b []byte) bool {
	return len(a) < cap(a) && len(b) > 0 && &a[:len(a)+1][len(a)] == &b[0]
}

// handOver gives the writer the lines the turn pushed, and says whether the
// caller must start a writer: at once if none is running and a line is
// urgent or the queue was last written at least window before now, by the
// server's clock; otherwise, if none is running, at the next flush, so that
// the lines that come meanwhile go out in the same write (flush.go). Only
// the loop calls it, once a turn for a queue that push listed.
func (q *outQueue) handOver(window, now time.Duration) wakeAction {
	q.listed = false
	if q.local == nil && q.tail == nil {
		return writerBusy // closed meanwhile: close took them, or dropped them
	}
	urgent := q.urgent
	q.mu.Lock()
	defer q.mu.Unlock()
	q.mergeLocked()
	switch {
	case q.writing:
		return writerBusy
	case urgent || window <= 0 || now-q.lastWrite >= window:
		q.writing = true
		return writerStart
	default:
		return writerLater
	}
}

// mergeLocked moves the lines of the turn behind those handed over
// already. q.mu must be held, by the loop.
func (q *outQueue) mergeLocked() {
	q.urgent = false
	if q.local == nil && q.tail == nil {
		return
	}
	switch {
	case q.fill == nil && q.local != nil:
		q.fill, q.local = q.local, nil
	case q.fill == nil:
		q.fill = getBatch()
	case q.local != nil:
		q.fill.lines = append(q.fill.lines, q.local.lines...)
		clear(q.local.lines)
		q.local.lines = q.local.lines[:0]
		putBatch(q.local)
		q.local = nil
	}
	if q.tail != nil {
		q.fill.lines = append(q.fill.lines, q.tail)
		q.tail = nil
	}
	q.pending.Add(int64(q.localBytes))
	q.localBytes = 0
}

// pendingBytes returns the bytes queued and not yet written. Only the loop
// calls it.
func (q *outQueue) pendingBytes() int {
	return int(q.pending.Load()) + q.localBytes
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
// the writer will report again when it is at low water. Only the loop
// calls it.
func (q *outQueue) stillHot(highWater int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if int(q.pending.Load())+q.localBytes > highWater {
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
	p := q.pending.Add(int64(-n))
	q.lastWrite = start
	if q.wantDrain && p <= int64(lowWater) {
		q.wantDrain = false
		return true
	}
	return false
}

// close ends the queue: with flushThenClose the writer writes what is queued
// and then closes; with abort the queue is dropped. abort overrides
// flushThenClose, never the other way round. start reports that a graceful
// close needs a writer and none is running: the caller must start one.
// Only the loop calls it.
func (q *outQueue) close(mode closeMode) (start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.mergeLocked() // the turn's lines go first, or are dropped with the rest
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
