package impl

import (
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// stallConn is a connection whose socket never accepts a byte: a write
// waits for the write deadline and fails with os.ErrDeadlineExceeded.
type stallConn struct {
	net.Conn // not used beyond the methods below
	mu       sync.Mutex
	deadline time.Time
	sets     int
}

func (s *stallConn) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deadline, s.sets = t, s.sets+1
	return nil
}

func (s *stallConn) Write([]byte) (int, error) {
	s.mu.Lock()
	d := s.deadline
	s.mu.Unlock()
	time.Sleep(time.Until(d))
	return 0, os.ErrDeadlineExceeded
}

// TestWriteDeadlineReused: a write deadline kept from an earlier write
// (writer.go) that passes before a whole WriteTimeout without progress is
// moved to the end of the full period: the write fails as a slow consumer's
// only after WriteTimeout, and a fresh deadline is set only when needed.
func TestWriteDeadlineReused(t *testing.T) {
	const wt = 200 * time.Millisecond
	for _, tc := range []struct {
		name     string
		kept     time.Duration // the deadline left by an earlier write, from now; 0: none
		wantSets int
	}{
		{"none", 0, 1},                        // set at once
		{"recent", wt - wt/16, 1},             // kept, then moved when it passes early
		{"near", wt - wt/4, 1},                // too near to keep: replaced at once
		{"full", wt + 10*time.Millisecond, 0}, // kept: it leaves a whole WriteTimeout
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := New(Config{WriteTimeout: wt})
			conn := &stallConn{}
			c := newClient(srv, 1, conn)
			start := time.Now()
			if tc.kept > 0 {
				c.writeDeadline = now() + tc.kept
				conn.deadline = epoch.Add(c.writeDeadline)
			}
			err := c.write(net.Buffers{[]byte("PONG\r\n")}, nil, nil)
			took := time.Since(start)
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("write = %v, want the deadline exceeded", err)
			}
			if took < wt {
				t.Errorf("the write failed after %v, before WriteTimeout (%v)", took, wt)
			}
			if took > wt+tc.kept+wt/2 {
				t.Errorf("the write failed only after %v", took)
			}
			if conn.sets != tc.wantSets {
				t.Errorf("%d deadlines set, want %d", conn.sets, tc.wantSets)
			}
		})
	}
}
