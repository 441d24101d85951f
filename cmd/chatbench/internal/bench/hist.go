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
func bucketOf(v int64) int { return bucketOfBits(v, subBits) }

// bucketRange returns the smallest and largest value of bucket i.
func bucketRange(i int) (lo, hi int64) { return bucketRangeBits(i, subBits) }

// bucketOfBits returns the bucket index of v >= 0 for 1<<sb buckets per
// power of two.
func bucketOfBits(v int64, sb int) int {
	u := uint64(v)
	if u < 2<<sb {
		return int(u)
	}
	shift := bits.Len64(u) - sb - 1
	return shift<<sb + int(u>>shift)
}

// bucketRangeBits returns the smallest and largest value of bucket i of
// bucketOfBits(_, sb).
func bucketRangeBits(i, sb int) (lo, hi int64) {
	if i < 2<<sb {
		return int64(i), int64(i)
	}
	shift := i>>sb - 1
	mant := int64(i - shift<<sb)
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
// value. If tl is not nil, the values go to it too. If split is set (a
// cluster), each value also goes to same or cross, by whether its line came
// from a sender on the receiver's node or on another.
type sharedHistogram struct {
	mu          sync.Mutex
	h           histogram
	tl          *timeline // immutable; guarded by mu like h
	split       bool      // immutable
	same, cross histogram // guarded by mu, if split
}

// latencyBatch collects values for a sharedHistogram. It belongs to one
// goroutine.
type latencyBatch struct {
	to    *sharedHistogram
	vals  []int64
	sent  []int64 // the send time of each value, if to.tl is not nil
	cross []bool  // whether each value's sender was on another node, if to.split
}

func newLatencyBatch(to *sharedHistogram) *latencyBatch {
	b := &latencyBatch{to: to, vals: make([]int64, 0, 512)}
	if to.tl != nil {
		b.sent = make([]int64, 0, 512)
	}
	if to.split {
		b.cross = make([]bool, 0, 512)
	}
	return b
}

// add records latency v of a line sent at sent (Unix nanoseconds),
// flushing to the shared histogram when the batch is full.
func (b *latencyBatch) add(sent, v int64) { b.addFrom(sent, v, false) }

// addFrom records latency v of a line sent at sent, whose sender was on
// another node of a cluster than the receiver if cross is set.
func (b *latencyBatch) addFrom(sent, v int64, cross bool) {
	b.vals = append(b.vals, v)
	if b.sent != nil {
		b.sent = append(b.sent, sent)
	}
	if b.cross != nil {
		b.cross = append(b.cross, cross)
	}
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
	if tl := b.to.tl; tl != nil {
		for i, v := range b.vals {
			tl.record(b.sent[i], v)
		}
	}
	if b.cross != nil {
		for i, v := range b.vals {
			if b.cross[i] {
				b.to.cross.record(v)
			} else {
				b.to.same.record(v)
			}
		}
	}
	b.to.mu.Unlock()
	b.vals = b.vals[:0]
	if b.sent != nil {
		b.sent = b.sent[:0]
	}
	if b.cross != nil {
		b.cross = b.cross[:0]
	}
}
