package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	var prevHi int64 = -1
	for i := 0; i < bucketCount; i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is [%d, %d] after one ending at %d", i, lo, hi, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if lo >= 2*subBuckets && float64(hi-lo+1)/float64(lo) > 1.0/subBuckets {
			t.Fatalf("bucket %d [%d, %d] is too wide", i, lo, hi)
		}
		prevHi = hi
		if hi == math.MaxInt64 {
			return
		}
	}
	t.Fatalf("buckets end at %d, not MaxInt64", prevHi)
}

func TestQuantileExactForSmallValues(t *testing.T) {
	var h histogram
	for v := int64(1); v <= 100; v++ {
		h.record(v)
	}
	for _, c := range []struct {
		q    float64
		want int64
	}{{0.01, 1}, {0.5, 50}, {0.99, 99}, {0.999, 100}, {1, 100}} {
		if got := h.quantile(c.q); got != c.want {
			t.Errorf("quantile(%v) = %d, want %d", c.q, got, c.want)
		}
	}
	if h.min != 1 || h.max != 100 || h.mean() != 50.5 || h.count() != 100 {
		t.Errorf("min %d max %d mean %v count %d", h.min, h.max, h.mean(), h.count())
	}
}

// Against the exact nearest-rank quantile of random latencies, the
// histogram is within its bucket width.
func TestQuantileWithinBucketWidth(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h histogram
	vals := make([]int64, 100000)
	for i := range vals {
		vals[i] = int64(r.ExpFloat64() * 2e6) // about 2 ms
		h.record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := vals[int(math.Ceil(q*float64(len(vals))))-1]
		got := h.quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subBuckets+1 {
			t.Errorf("quantile(%v) = %d, exact %d", q, got, exact)
		}
	}
	if h.quantile(1) != vals[len(vals)-1] {
		t.Errorf("quantile(1) = %d, want the maximum %d", h.quantile(1), vals[len(vals)-1])
	}
}

func TestHistogramMergeAndBatches(t *testing.T) {
	var shared sharedHistogram
	var want histogram
	b1, b2 := newLatencyBatch(&shared), newLatencyBatch(&shared)
	for v := range int64(2000) {
		want.record(v * 1000)
		if v%3 == 0 {
			b1.add(0, v*1000)
		} else {
			b2.add(0, v*1000)
		}
	}
	b1.flush()
	b2.flush()
	if shared.h != want {
		t.Errorf("batched histogram differs: count %d, want %d", shared.h.count(), want.count())
	}
	var merged, empty histogram
	merged.record(-5) // counts as 0
	merged.merge(&want)
	merged.merge(&empty)
	if merged.count() != want.count()+1 || merged.min != 0 || merged.max != want.max {
		t.Errorf("merge: count %d min %d max %d", merged.count(), merged.min, merged.max)
	}
	if empty.quantile(0.5) != 0 || empty.mean() != 0 {
		t.Error("an empty histogram should report 0")
	}
}
