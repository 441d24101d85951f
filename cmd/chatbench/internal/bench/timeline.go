package bench

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// The -timeline file is CSV with a header row and two kinds of row:
//
//	kind,t_s,n,p50_ms,p99_ms,max_ms,client
//	latency,0.120,75,0.412,1.203,1.380,
//	leave,1.2345,,,,,stalled0
//	socket,1.2401,,,,,stalled0
//
// A latency row is a timelineStep bucket of the lines delivered to healthy
// members, by when they were sent: t_s is the bucket's start in seconds
// since the start of sending, n the deliveries in it, then their latency
// quantiles (within 1/16, timelineBits) and the exact maximum in
// milliseconds. Buckets without a delivery have no row. An event row
// marks a stalled member's disconnect, seen as its LEAVE note at the first
// healthy member (leave) or as its own socket failing (socket). Latency
// rows come first, in time order, then event rows in time order.

// timelineStep is the width of a timeline bucket.
const timelineStep = 10 * time.Millisecond

// timelineBits sets the resolution of a bucket's quantiles: 1<<timelineBits
// sub-buckets per power of two, so within 1/16 (6 %), which keeps the
// buckets small for long runs.
const timelineBits = 4

// timeline sorts latencies into buckets by when their line was sent. Its
// buckets are guarded by the lock of the sharedHistogram that feeds it.
type timeline struct {
	t0      atomic.Int64 // start of sending, Unix ns; set before any line is sent
	buckets []tlBucket
}

// tlBucket is one step of the timeline.
type tlBucket struct {
	n      int
	max    int64
	counts map[uint16]int // by bucketOfBits(latency, timelineBits)
}

// record adds the latency v (ns) of a line sent at sent (Unix ns).
func (tl *timeline) record(sent, v int64) {
	v = max(v, 0)
	i := int(max(sent-tl.t0.Load(), 0) / int64(timelineStep))
	if i >= len(tl.buckets) {
		tl.buckets = slices.Grow(tl.buckets, i+1-len(tl.buckets))[:i+1]
	}
	b := &tl.buckets[i]
	if b.counts == nil {
		b.counts = map[uint16]int{}
	}
	b.n++
	b.max = max(b.max, v)
	b.counts[uint16(bucketOfBits(v, timelineBits))]++
}

// quantile returns the q-quantile of the bucket by the nearest-rank
// method, as histogram.quantile does.
func (b *tlBucket) quantile(q float64) int64 {
	keys := make([]uint16, 0, len(b.counts))
	for k := range b.counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	rank := int(q * float64(b.n))
	if float64(rank) < q*float64(b.n) {
		rank++ // ceil
	}
	rank = min(max(rank, 1), b.n)
	seen := 0
	for _, k := range keys {
		seen += b.counts[k]
		if seen >= rank {
			_, hi := bucketRangeBits(int(k), timelineBits)
			return min(hi, b.max)
		}
	}
	return b.max
}

// tlEvent is an event row of the timeline.
type tlEvent struct {
	kind   string  // "leave" or "socket"
	at     float64 // seconds since the start of sending
	client string
}

// writeCSV writes the timeline and events to w in the format above.
func (tl *timeline) writeCSV(w io.Writer, events []tlEvent) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("kind,t_s,n,p50_ms,p99_ms,max_ms,client\n")
	ms := func(ns int64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', 3, 64) }
	for i := range tl.buckets {
		b := &tl.buckets[i]
		if b.n == 0 {
			continue
		}
		fmt.Fprintf(bw, "latency,%.3f,%d,%s,%s,%s,\n", (time.Duration(i) * timelineStep).Seconds(), b.n,
			ms(b.quantile(0.5)), ms(b.quantile(0.99)), ms(b.max))
	}
	events = slices.Clone(events)
	slices.SortStableFunc(events, func(a, b tlEvent) int { return cmp.Compare(a.at, b.at) })
	for _, e := range events {
		fmt.Fprintf(bw, "%s,%.4f,,,,,%s\n", e.kind, e.at, e.client)
	}
	return bw.Flush()
}
