package store

import "sync"

// queue is a bounded FIFO between the goroutines that push (the loop, with
// the Try methods) and the one worker goroutine that takes. push never
// blocks; take waits until there is something to take.
type queue[T any] struct {
	ready chan struct{} // push and close -> take; one pending wake-up at most

	mu     sync.Mutex
	items  []T // queued are items[head:]
	head   int
	limit  int // most items queued at once
	closed bool
}

// newQueue returns a queue that holds at most limit items (at least one).
func newQueue[T any](limit int) *queue[T] {
	return &queue[T]{ready: make(chan struct{}, 1), limit: max(limit, 1)}
}

// push queues v and reports true, or reports false if the queue is full or
// closed.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	if q.closed || len(q.items)-q.head >= q.limit {
		q.mu.Unlock()
		return false
	}
	if len(q.items) == cap(q.items) && q.head > 0 { // reuse the taken prefix
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.wake()
	return true
}

// close makes every later push fail; take still returns what is queued.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.wake()
}

// wake leaves a wake-up for take unless one is pending already.
func (q *queue[T]) wake() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// len returns how many items are queued.
func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// take waits until items are queued or the queue is closed, and appends to
// dst the oldest queued items, at most n of them (all if n is 0). ok is
// false once the queue is closed and empty.
func (q *queue[T]) take(dst []T, n int) (_ []T, ok bool) {
	for {
		q.mu.Lock()
		if avail := q.items[q.head:]; len(avail) > 0 {
			if n <= 0 || n > len(avail) {
				n = len(avail)
			}
			dst = append(dst, avail[:n]...)
			clear(avail[:n]) // let the collector have what was taken
			q.head += n
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			}
			q.mu.Unlock()
			return dst, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return dst, false
		}
		<-q.ready
	}
}
