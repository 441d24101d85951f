//go:build unix

package store

import (
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPaced runs a Writer the way the server does under chatbench's
// paced target (50 senders in one room, one 32-byte line each every 20 ms):
// messages arrive one at a time at a steady 2,500 a second, so each batch
// holds one or two of them and the cost of a commit, not of a message,
// decides. "fresh" starts from an empty room, as chatbench does; "full"
// starts with Keep messages in it, so that every trim deletes what was
// appended since the last one, as a server does in the long run.
//
// It reports the process's CPU time per message (the Writer's, mostly),
// the messages per batch, and the time from TryAppend to the receipt of
// its Committed, which is what a sender's echo waits for (HIST-5).
// b.N is the number of messages, so use -benchtime with an x: at 2,500
// messages a second, -benchtime 10000x takes four seconds.
func BenchmarkPaced(b *testing.B) {
	const (
		rate = 2500
		keep = 10000
	)
	for _, full := range []bool{false, true} {
		name := "fresh"
		if full {
			name = "full"
		}
		b.Run(name, func(b *testing.B) {
			db, err := Open(b.TempDir() + "/bench.db")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			now := time.Now()
			m := Message{Time: now, Room: "#bench0", User: "c00", Text: "00000000 0000000000000 xxxxxxxxx"}
			var id uint64
			if full {
				var batch Batch
				for range keep {
					id++
					m.ID = id
					batch.Messages = append(batch.Messages, m)
				}
				if err := db.Apply(batch); err != nil {
					b.Fatal(err)
				}
			}
			done := make(chan Committed, 16)
			w := NewWriter(db, 4096, Retention{Keep: keep}, done)
			defer w.Close()

			sent := make([]time.Time, b.N)
			lat := make([]time.Duration, 0, b.N)
			batches := 0
			cpu0 := cpuTime(b)
			b.ResetTimer()
			go func() { // the senders, paced
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
						time.Sleep(d)
					}
					m := m
					m.ID = id + uint64(i) + 1
					m.Time = time.Now()
					m.User = fmt.Sprintf("c%02d", i%50)
					sent[i] = time.Now()
					for !w.TryAppend(m, uint64(i)) {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}()
			for len(lat) < b.N { // the loop
				c := <-done
				if c.Err != nil {
					b.Fatal(c.Err)
				}
				if len(c.Tokens) == 0 {
					continue
				}
				at := time.Now()
				for _, tok := range c.Tokens {
					lat = append(lat, at.Sub(sent[tok]))
				}
				batches++
			}
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/msg")
			b.ReportMetric(float64(b.N)/float64(batches), "msgs/batch")
			b.ReportMetric(q(0.5), "p50-µs")
			b.ReportMetric(q(0.99), "p99-µs")
			b.ReportMetric(q(1), "max-µs")
		})
	}
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
