package cluster

import (
	"slices"
	"testing"
	"time"
)

// benchEntry is the size of an entry in the benchmarks: a chat line.
const benchEntry = 100

// BenchmarkLatency measures publish-to-delivery latency through an embedded
// server on loopback, one entry at a time: TryPublish on node a, then wait
// for the entry on Entries of a (own) or of b (another node). ns/op is the
// mean; p50 and p99 are reported too.
func BenchmarkLatency(b *testing.B) {
	for _, to := range []string{"own", "other"} {
		b.Run(to, func(b *testing.B) {
			e := startServer(b, "")
			a := link(b, e, "a", hooks{}, nil)
			recv := a
			if to == "other" {
				recv = link(b, e, "b", hooks{}, nil)
				stop := make(chan struct{})
				defer close(stop)
				go drain(a, stop)
			}
			data := make([]byte, benchEntry)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if !a.TryPublish(data) {
					b.Fatal("queue full")
				}
				<-recv.Entries()
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)*999/1000].Microseconds()), "p99.9-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

// BenchmarkThroughput measures how many entries per second one node gets
// through: b.N entries queued at once on a, received on a's and b's
// Entries.
func BenchmarkThroughput(b *testing.B) {
	e := startServer(b, "")
	edit := func(c *Config) {
		c.QueueLen = b.N + 1
		c.QueueBytes = (b.N + 1) * benchEntry
	}
	a := link(b, e, "a", hooks{}, edit)
	other := link(b, e, "b", hooks{}, nil)
	data := make([]byte, benchEntry)
	b.SetBytes(benchEntry)
	b.ResetTimer()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			<-other.Entries()
		}
	}()
	for range b.N {
		if !a.TryPublish(data) {
			b.Fatal("queue full")
		}
	}
	for range b.N {
		<-a.Entries()
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "entries/s")
}

// drain receives l's entries until stop is closed.
func drain(l *Link, stop <-chan struct{}) {
	for {
		select {
		case <-l.Entries():
		case <-stop:
			return
		}
	}
}
