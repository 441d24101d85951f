package cluster

import "sync"

// queue is the bounded FIFO between TryPublish (any goroutine, usually the
// loop) and the publisher goroutine. push never blocks; take waits. It is
// bounded both in items and in bytes of data.
type queue struct {
	ready chan struct{} // push and close -> take; one pending wake-up at most

	mu       sync.Mutex
	items    [][]byte // queued are items[head:]
	head     int
	bytes    int // sum of len over the queued items
	maxItems int
	maxBytes int
	closed   bool
}

func newQueue(maxItems, maxBytes int) *queue {
	return &queue{ready: make(chan struct{}, 1), maxItems: max(maxItems, 1), maxBytes: max(maxBytes, 1)}
}

// push queues data and reports true, or reports false if the queue is
// closed or full: maxItems items queued, or data would take the bytes past
// maxBytes (an item larger than maxBytes fits only in an empty queue).
func (q *queue) push(data []byte) bool {
	q.mu.Lock()
	n := len(q.items) - q.head
	if q.closed || n >= q.maxItems || n > 0 && q.bytes+len(data) > q.maxBytes {
		q.mu.Unlock()
		return false
	}
	if len(q.items) == cap(q.items) && q.head > 0 { // reuse the taken prefix
		k := copy(q.items, q.items[q.head:])
		clear(q.items[k:])
		q.items, q.head = q.items[:k], 0
	}
	q.items = append(q.items, data)
	q.bytes += len(data)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
}

// close makes every later push fail and wakes take, which then returns
// false at once: what is queued is dropped.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits until an item is queued and returns the oldest, or returns
// false once the queue is closed.
func (q *queue) take() ([]byte, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		if q.head < len(q.items) {
			data := q.items[q.head]
			q.items[q.head] = nil
			q.head++
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			}
			q.bytes -= len(data)
			q.mu.Unlock()
			return data, true
		}
		q.mu.Unlock()
		<-q.ready
	}
}

// len returns how many items are queued.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}
