package impl

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// stallConn is a connection whose socket never accepts a byte, save one
// if asked: a write waits for the write deadline, which on a testClock
// means the clock jumps to it, and fails with os.ErrDeadlineExceeded.
type stallConn struct {
	net.Conn // not used beyond the methods below
	clock    *testClock
	mu       sync.Mutex
	deadline time.Time
	sets     int             // write deadlines set
	writes   []time.Duration // for each write tried, how long it blocked
	oneByte  bool            // the first write gets one byte through before its deadline
}

func (s *stallConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline, s.sets = t, s.sets+1
	return nil
}

func (s *stallConn) Write([]byte) (int, error) {
	s.mu.Lock()
	d, n := s.deadline, 0
	if s.oneByte && len(s.writes) == 0 {
		n = 1
	}
	from := s.clock.now()
	s.mu.Unlock()
	s.clock.advanceTo(d.Sub(epoch))
	s.mu.Lock()
	s.writes = append(s.writes, s.clock.now()-from)
	s.mu.Unlock()
	return n, os.ErrDeadlineExceeded
}

// TestWriteDeadline: a write blocks for at most a slice of WriteTimeout
// (writer.go), so that a byte the socket accepts while it blocks is noticed
// within a slice; a deadline kept from an earlier write is kept while it
// leaves half a slice and does not pass the end of the period. The write
// fails as a slow consumer's exactly when the socket has accepted no byte
// for WriteTimeout since the write that last got a byte through returned
// (LIMIT-4), never before, and so at most a slice after the last byte
// went. The clock is the test's: the connection moves it to each deadline,
// so nothing here depends on how fast the machine is.
func TestWriteDeadline(t *testing.T) {
	const wt = 200 * time.Millisecond
	slice := deadlineSlice(wt)
	for _, tc := range []struct {
		name      string
		kept      time.Duration // the deadline left by an earlier write, from the start; 0: none
		oneByte   bool          // the socket accepts one byte at the first deadline
		wantFirst time.Duration // how long the first write blocks
		wantFail  time.Duration // when the write fails, from the start
	}{
		{"none", 0, false, slice, wt},                               // set at once
		{"recent", slice * 3 / 4, false, slice * 3 / 4, wt},         // kept
		{"edge", slice / 2, false, slice / 2, wt},                   // still kept
		{"near", slice/2 - 1, false, slice, wt},                     // too near to keep: replaced at once
		{"far", wt + wt/20, false, slice, wt},                       // past the end of the period: replaced
		{"progress", 0, true, slice, slice + wt},                    // a byte in the first write starts a new period
		{"progress-kept", slice / 2, true, slice / 2, slice/2 + wt}, // likewise after a kept deadline
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := New(Config{WriteTimeout: wt})
			clock := newTestClock()
			srv.useClock(clock)
			conn := &stallConn{clock: clock, oneByte: tc.oneByte}
			c := newClient(srv, 1, conn)
			start := clock.now()
			if tc.kept > 0 {
				c.writeDeadline = start + tc.kept
				conn.deadline = epoch.Add(c.writeDeadline)
			}
			err := c.write(net.Buffers{[]byte("PONG\r\n")}, nil)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("write = %v, want the deadline exceeded", err)
			}
			if took := clock.now() - start; took != tc.wantFail {
				t.Errorf("the write failed after %v, want %v", took, tc.wantFail)
			}
			if conn.writes[0] != tc.wantFirst {
				t.Errorf("the first write blocked for %v, want %v", conn.writes[0], tc.wantFirst)
			}
			for i, d := range conn.writes {
				if d > slice {
					t.Errorf("write %d blocked for %v, more than a slice (%v)", i+1, d, slice)
				}
			}
			if sets := len(conn.writes); tc.wantFirst != slice && conn.sets != sets-1 || tc.wantFirst == slice && conn.sets != sets {
				t.Errorf("%d deadlines set for %d writes", conn.sets, len(conn.writes))
			}
		})
	}
}
