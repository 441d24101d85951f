package commands

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The writing of floods (floodsend): COUNT rounds of lines written as fast
// as the server takes them, or paced by -rate, in the foreground or by a
// goroutine of their own (-bg). Every flood records when each of its rounds
// was sent, so that recvmany -from can time the lines it produced
// (timing.go).

// A flood is what one floodsend writes: COUNT rounds of one line per
// TEMPLATE, back to back.
type flood struct {
	data   []byte
	starts []int   // starts[i] is the offset in data of round i+1
	rate   float64 // rounds per second (-rate); 0 for as fast as the server reads
	rec    *floodRecord
}

// newFlood returns the flood of count rounds of one line per template, with
// %d = the round, written at rate rounds a second (0: as fast as possible).
func newFlood(count int, tmpls []string, rate float64) *flood {
	f := &flood{
		starts: make([]int, 0, count),
		rate:   rate,
		rec:    &floodRecord{rounds: count, lines: len(tmpls), rate: rate, sent: make([]time.Time, 0, count)},
	}
	// Sized once: a flood is often megabytes, and growing it by appends
	// took a third of a second, all of it before the first byte went out.
	size := 0
	digits := len(strconv.Itoa(count))
	for _, tmpl := range tmpls {
		size += len(tmpl) + len("\r\n") + strings.Count(tmpl, "%d")*(digits-len("%d"))
	}
	f.data = make([]byte, 0, count*size)
	for i := 1; i <= count; i++ {
		f.starts = append(f.starts, len(f.data))
		for _, tmpl := range tmpls {
			f.data = appendFill(f.data, tmpl, i)
			f.data = append(f.data, "\r\n"...)
		}
	}
	return f
}

// fill substitutes i for every %d in tmpl.
func fill(tmpl string, i int) string { return string(appendFill(nil, tmpl, i)) }

// appendFill appends fill(tmpl, i) to dst.
func appendFill(dst []byte, tmpl string, i int) []byte {
	for {
		before, after, found := strings.Cut(tmpl, "%d")
		dst = append(dst, before...)
		if !found {
			return dst
		}
		dst = strconv.AppendInt(dst, int64(i), 10)
		tmpl = after
	}
}

// end returns the offset in data just after round i+1.
func (f *flood) end(i int) int {
	if i+1 < len(f.starts) {
		return f.starts[i+1]
	}
	return len(f.data)
}

// A floodRecord says when each round of a client's latest flood was sent:
// with -rate, when the round was due; without, just before the write that
// holds its first byte began.
type floodRecord struct {
	rounds int     // COUNT
	lines  int     // lines a round: the number of TEMPLATEs
	rate   float64 // as the flood's

	mu sync.Mutex
	// Owned by mu: the flood's writer appends, recvmany -from reads, maybe
	// while a background flood is still being written.
	sent []time.Time // sent[i]: round i+1
}

// add records that the next n rounds were sent at t.
func (r *floodRecord) add(t time.Time, n int) {
	r.mu.Lock()
	for range n {
		r.sent = append(r.sent, t)
	}
	r.mu.Unlock()
}

// round returns when round i (from 1) was sent, and false if it has not
// been yet.
func (r *floodRecord) round(i int) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 1 || i > len(r.sent) {
		return time.Time{}, false
	}
	return r.sent[i-1], true
}

// sentWord says how the record's times were taken, for messages.
func (r *floodRecord) sentWord() string {
	if r.rate > 0 {
		return "was due to be sent"
	}
	return "was sent"
}

// backgroundFlood is a flood being written by its own goroutine
// (floodsend -bg).
type backgroundFlood struct {
	note string
	done chan struct{} // closed when the flood is written or failed
	err  error         // set before done is closed
}

// floodChunk is the most a flood writes at once.
const floodChunk = 16 << 10

// writeFlood writes a flood, paced if it has a rate. It holds the client's
// write lock throughout.
func (c *Client) writeFlood(f *flood, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeFloodLocked(f, timeout)
}

// writeFloodLocked is writeFlood for a caller that holds c.wmu. Without a
// rate it writes the flood in chunks of floodChunk bytes, so that timeout
// bounds the lack of progress rather than the whole flood, which a server
// may legitimately read slowly (LIMIT-6), and records each round as sent
// just before the write of the chunk that holds its first byte begins.
func (c *Client) writeFloodLocked(f *flood, timeout time.Duration) error {
	if f.rate > 0 {
		return c.writePacedLocked(f, timeout)
	}
	round := 0 // the first round whose send time is not recorded yet
	for off := 0; off < len(f.data); {
		n := min(floodChunk, len(f.data)-off)
		first := round
		for round < len(f.starts) && f.starts[round] < off+n {
			round++
		}
		f.rec.add(time.Now(), round-first)
		if err := c.writeChunk(f.data[off:off+n], timeout); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// errHungUp ends a paced flood whose client closed its connection.
var errHungUp = fmt.Errorf("the client closed its connection: %w", net.ErrClosed)

// writePacedLocked writes the rounds of f no faster than f.rate: round i
// (from 1) is written no earlier than start + (i-1)/rate, each round in one
// write. Rounds already due when the writer gets to them, because the
// server read slowly, go out at once, several to a write (up to
// floodChunk bytes); none is skipped. Each round is recorded as sent when
// it was due, so that a server that keeps the writer waiting is charged
// for the delay. The caller holds c.wmu.
func (c *Client) writePacedLocked(f *flood, timeout time.Duration) error {
	start := time.Now()
	due := func(i int) time.Time { // round i+1
		return start.Add(time.Duration(float64(i) * float64(time.Second) / f.rate))
	}
	for i := 0; i < len(f.starts); {
		if d := time.Until(due(i)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.hangup:
				t.Stop()
				return errHungUp
			}
		}
		now := time.Now()
		j := i + 1
		for j < len(f.starts) && !due(j).After(now) && f.end(j)-f.starts[i] <= floodChunk {
			j++
		}
		for k := i; k < j; k++ {
			f.rec.add(due(k), 1)
		}
		if err := c.writeChunk(f.data[f.starts[i]:f.end(j-1)], timeout); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// writeChunk writes one chunk of a flood, with a deadline of timeout.
func (c *Client) writeChunk(data []byte, timeout time.Duration) error {
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(data); err != nil {
		c.tr.add(event{client: c, kind: evNote, text: "write error: " + err.Error()})
		return err
	}
	return nil
}

// waitFlood waits for the client's background flood, if any, to end.
func (c *Client) waitFlood() {
	if c.flood != nil {
		<-c.flood.done
	}
}
