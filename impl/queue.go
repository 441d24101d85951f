package impl

import (
	"net"
	"sync"
)

// closeMode says whether, and how, a connection's output is ending.
type closeMode uint8

const (
	open           closeMode = iota // lines are being queued
	flushThenClose                  // write what is queued, then close gracefully
	abort                           // drop what is queued; the socket is being closed
)

// outQueue is a client's bounded output queue (LIMIT-3). The loop pushes
// formatted lines; the connection's writer goroutine takes everything
// pending at once and writes it with one vectored write. The mutex guards
// only the queue, never chat state, and is never held during I/O.
type outQueue struct {
	// wakeIn is loop -> writer (capacity 1): there is something to do.
	wakeIn chan struct{}

	mu        sync.Mutex
	bufs      net.Buffers // queued lines not yet taken by the writer; shared, read-only bytes
	pending   int         // bytes queued or taken but not yet written
	wantDrain bool        // pending went over high water: report when at low water
	mode      closeMode
}

func (q *outQueue) init() { q.wakeIn = make(chan struct{}, 1) }

// wake tells the writer there is work, without ever blocking.
func (q *outQueue) wake() {
	select {
	case q.wakeIn <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// push queues b, which the caller must not modify afterwards. It returns
// ok=false, queuing nothing, if that would take the pending output over
// maxBytes (LIMIT-4). hot reports whether the pending output is now over
// highWater; if so the writer reports back once it is at low water.
func (q *outQueue) push(b []byte, maxBytes, highWater int) (hot, ok bool) {
	q.mu.Lock()
	if q.mode != open {
		q.mu.Unlock()
		return false, true // the connection is ending: nothing more goes out (STATE-4)
	}
	if q.pending+len(b) > maxBytes {
		q.mu.Unlock()
		return false, false
	}
	first := len(q.bufs) == 0
	q.bufs = append(q.bufs, b)
	q.pending += len(b)
	hot = q.pending > highWater
	if hot {
		q.wantDrain = true
	}
	q.mu.Unlock()
	if first {
		// Otherwise the writer has not yet taken the earlier lines and a
		// wake-up is pending already.
		q.wake()
	}
	return hot, true
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

// take hands the writer everything queued, in exchange for an empty slice
// to queue into next, and the close mode.
func (q *outQueue) take(spare net.Buffers) (net.Buffers, closeMode) {
	q.mu.Lock()
	defer q.mu.Unlock()
	batch := q.bufs
	q.bufs = spare[:0]
	return batch, q.mode
}

// written records that n pending bytes reached the socket. It reports
// whether the loop asked to hear about the queue draining and it now has.
func (q *outQueue) written(n, lowWater int) (drained bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending -= n
	if q.wantDrain && q.pending <= lowWater {
		q.wantDrain = false
		return true
	}
	return false
}

// close ends the queue: with flushThenClose the writer writes what is queued
// and then closes; with abort the queue is dropped. abort overrides
// flushThenClose, never the other way round.
func (q *outQueue) close(mode closeMode) {
	q.mu.Lock()
	if mode > q.mode {
		q.mode = mode
		if mode == abort {
			clear(q.bufs)
			q.bufs = nil
		}
	}
	q.mu.Unlock()
	q.wake()
}
