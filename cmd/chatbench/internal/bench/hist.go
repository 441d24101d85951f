package bench

import (
	"math/bits"
	"sync"
)

// histogram counts non-negative values (latencies in nanoseconds) in
// log-linear buckets: values below 2*subBuckets exactly, larger ones in
// buckets whose width is at most 1/subBuckets of their value, so a
// percentile is off by less than 0.8 %. The minimum, maximum and sum are
// exact. The zero value is empty and ready to use; it is not safe for
// concurrent use (see sharedHistogram).
type histogram struct {
	counts   [bucketCount]uint64
	n        uint64
	sum      float64
	min, max int64
}

const (
	subBits     = 7
	subBuckets  = 1 << subBits // buckets per power of two
	bucketCount = (64 - subBits) * subBuckets
)

// bucketOf returns the bucket index of v >= 0.
func bucketOf(v int64) int {
	u := uint64(v)
	if u < 2*subBuckets {
		return int(u)
	}
	shift := bits.Len64(u) - subBits - 1
	return shift*subBuckets + int(u>>shift)
}

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) {
	if i < 2*subBuckets {
		return int64(i), int64(i)
	}
	shift := i/subBuckets - 1
	mant := int64(i - shift*subBuckets)
	lo = mant << shift
	return lo, lo + 1<<shift - 1
}

// record adds v; negative values count as 0.
func (h *histogram) record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
	h.counts[bucketOf(v)]++
}

// merge adds the values of o.
func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// count returns the number of values recorded.
func (h *histogram) count() uint64 { return h.n }

// mean returns the average value, or 0 if there is none.
func (h *histogram) mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n)
}

// quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method:
// the smallest recorded value v such that at least q of all values are <= v,
// up to the bucket width — it returns the top of v's bucket, capped by the
// exact maximum and raised to the exact minimum. It returns 0 when empty.
func (h *histogram) quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++ // ceil
	}
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return max(min(hi, h.max), h.min)
		}
	}
	return h.max
}

// sharedHistogram is a histogram that many receivers fill through local
// batches (latencyBatch), so they take its lock once per batch, not per
// value.
type sharedHistogram struct {
	mu sync.Mutex
	h  histogram
}

// latencyBatch collects values for a sharedHistogram. It belongs to one
// goroutine.
type latencyBatch struct {
	to   *sharedHistogram
	vals []int64
}

func newLatencyBatch(to *sharedHistogram) *latencyBatch {
	return &latencyBatch{to: to, vals: make([]int64, 0, 512)}
}

// add records v, flushing to the shared histogram when the batch is full.
func (b *latencyBatch) add(v int64) {
	b.vals = append(b.vals, v)
	if len(b.vals) == cap(b.vals) {
		b.flush()
	}
}

// flush moves the batch into the shared histogram.
func (b *latencyBatch) flush() {
	if len(b.vals) == 0 {
		return
	}
	b.to.mu.Lock()
	for _, v := range b.vals {
		b.to.h.record(v)
	}
	b.to.mu.Unlock()
	b.vals = b.vals[:0]
}
