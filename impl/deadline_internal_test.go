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
	sets     int  // write deadlines set
	writes   int  // writes tried
	oneByte  bool // the first write gets one byte through before its deadline
}

func (s *stallConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline, s.sets = t, s.sets+1
	return nil
}

func (s *stallConn) Write([]byte) (int, error) {
	s.mu.Lock()
	s.writes++
	d, n := s.deadline, 0
	if s.oneByte && s.writes == 1 {
		n = 1
	}
	s.mu.Unlock()
	s.clock.advanceTo(d.Sub(epoch))
	return n, os.ErrDeadlineExceeded
}

// TestWriteDeadlineReused: a write deadline kept from an earlier write
// (writer.go) is kept only while it leaves at least seven eighths of
// WriteTimeout; one that passes before a whole WriteTimeout without
// progress is moved to the end of the full period, and one that passes
// after progress starts a new period. The write fails as a slow
// consumer's exactly when the socket has accepted no byte for
// WriteTimeout (LIMIT-4), never before. The clock is the test's: the
// connection moves it to each deadline, so nothing here depends on how
// fast the machine is.
func TestWriteDeadlineReused(t *testing.T) {
	const wt = 200 * time.Millisecond
	for _, tc := range []struct {
		name       string
		kept       time.Duration // the deadline left by an earlier write, from the start; 0: none
		oneByte    bool          // the socket accepts one byte at the first deadline
		wantSets   int           // deadlines set
		wantWrites int
		wantFail   time.Duration // when the write fails, from the start
	}{
		{"none", 0, false, 1, 1, wt},                               // set at once
		{"recent", wt - wt/16, false, 1, 2, wt},                    // kept; moved when it passes early
		{"edge", wt - wt/8, false, 1, 2, wt},                       // still kept
		{"near", wt - wt/8 - 1, false, 1, 1, wt},                   // too near to keep: replaced at once
		{"full", wt + wt/20, false, 0, 1, wt + wt/20},              // kept: it leaves a whole WriteTimeout
		{"progress", 0, true, 2, 2, 2 * wt},                        // a byte at the first deadline starts a new period
		{"progress-kept", wt - wt/16, true, 1, 2, wt - wt/16 + wt}, // likewise after a kept deadline
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
			err := c.write(net.Buffers{[]byte("PONG\r\n")}, nil, nil)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("write = %v, want the deadline exceeded", err)
			}
			if took := clock.now() - start; took != tc.wantFail {
				t.Errorf("the write failed after %v, want %v", took, tc.wantFail)
			}
			if conn.sets != tc.wantSets || conn.writes != tc.wantWrites {
				t.Errorf("%d deadlines set and %d writes, want %d and %d", conn.sets, conn.writes, tc.wantSets, tc.wantWrites)
			}
		})
	}
}
