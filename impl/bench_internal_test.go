package impl

import (
	"fmt"
	"net"
	"testing"
)

// BenchmarkBroadcast measures the loop's work for one room message, alone:
// the framing checks, parsing, the flow-control gate, formatting the ROOM
// line once and pushing the same bytes to each member's queue. No socket
// is written: every queue behaves as if its writer were busy, and is
// emptied, untimed, every so often. One op is one message to every member;
// allocs/op must not grow with the members (the line is shared).
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			srv := New(Config{})
			l := srv.loop
			members := make([]*client, n)
			for i := range members {
				server, client := net.Pipe()
				b.Cleanup(func() { server.Close(); client.Close() })
				c := newClient(srv, uint64(i+1), server)
				c.out.writing = true // as if its writer were busy: none is started
				l.clients[c] = struct{}{}
				c.idleElem = l.idle.PushBack(c)
				c.name, c.fold = fmt.Sprintf("m%d", i), fmt.Sprintf("m%d", i)
				l.users[c.fold] = c
				l.joinRoom(c, "#bench")
				members[i] = c
			}
			drain := func() {
				l.startWriters() // hands the turns' lines over; no writer starts, as each "runs"
				for _, c := range members {
					if done, _ := c.out.take(nil); done != nil {
						n := 0
						for _, line := range done.lines {
							n += len(line)
						}
						c.out.written(n, 0, 0)
						clear(done.lines)
						done.lines = done.lines[:0]
						putBatch(done)
					}
					c.out.writing = true
				}
			}
			drain()
			sender := members[0]
			line := []byte("MSG hello, everybody in this room, this is a message of a typical length")
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				l.onRead(readEvent{c: sender, line: line})
				<-sender.resumeIn
				if i%64 == 63 {
					b.StopTimer()
					drain()
					b.StartTimer()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/delivery")
		})
	}
}
