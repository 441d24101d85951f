package impl

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestTurnBytes: a turn takes more lines from waiting readers only while
// the output it queued is under turnBytes. Sixty members of a room each
// have a line ready: short lines are all taken in one turn; long ones,
// which queue a copy for every member, only until the turn's output
// reaches turnBytes, and the rest wait for the next turn.
func TestTurnBytes(t *testing.T) {
	const n = 60
	for _, tc := range []struct {
		name string
		text int // bytes of each line's text
		all  bool
	}{
		{"short lines", 8, true},
		{"long lines", 400, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandLoop(t, Config{MaxQueueBytes: 64 << 20, CoalesceDelay: -1})
			members := make([]*pipeClient, n)
			for i := range members {
				p := h.connect()
				go io.Copy(io.Discard, p.peer)
				h.send(p, fmt.Sprintf("USERNAME m%d", i))
				h.send(p, "JOIN #r")
				members[i] = p
			}
			h.quiesce()

			events := make(chan readEvent, n)
			text := strings.Repeat("x", tc.text)
			for _, p := range members {
				events <- readEvent{c: p.client, line: []byte("MSG " + text)}
			}
			h.l.eventsIn = events
			start := h.l.mem.queued
			h.l.moreReads()
			taken, queued := n-len(events), h.l.mem.queued-start
			h.l.settle()
			if tc.all {
				if taken != n {
					t.Fatalf("the turn took %d of %d lines, %d bytes of output; want all", taken, n, queued)
				}
				return
			}
			perLine := queued / taken
			if taken == n || queued < turnBytes || queued-perLine >= turnBytes {
				t.Fatalf("the turn took %d of %d lines, %d bytes of output, %d a line; want it to stop at the first line that reaches %d", taken, n, queued, perLine, turnBytes)
			}
		})
	}
}
