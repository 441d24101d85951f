package impl

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestTurnBytes: a turn takes more lines from waiting readers only until
// the output it queued is full (turnFull): at least turnBytes, and at
// least turnWrite for each client it queued output for. Members of a room
// each have a line ready: in a room of 60, short lines are all taken in
// one turn, and long ones, which queue a copy for every member, only
// until the turn's output reaches turnBytes; in a room of 600, short
// lines reach turnBytes before they give each member turnWrite bytes, and
// the turn goes on until they do.
func TestTurnBytes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members int
		text    int // bytes of each line's text
		lines   int // lines ready, one from each of as many members
		all     bool
	}{
		{"short lines", 60, 8, 60, true},
		{"long lines", 60, 400, 60, false},
		{"a big room", 600, 8, turnReads + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHandLoop(t, Config{MaxQueueBytes: 64 << 20, CoalesceDelay: -1})
			// The members are put in the room as JOIN would, without the
			// JOIN notes, which would take a big room long to write.
			r := &room{name: "#r", fold: "#r"}
			h.l.rooms[r.fold] = r
			members := make([]*pipeClient, tc.members)
			for i := range members {
				p := h.connect()
				go io.Copy(io.Discard, p.peer)
				p.name, p.fold = fmt.Sprintf("m%d", i), fmt.Sprintf("m%d", i)
				h.l.users[p.fold] = p.client
				r.add(p.client)
				p.rooms = append(p.rooms, r)
				members[i] = p
			}

			events := make(chan readEvent, tc.lines)
			text := strings.Repeat("x", tc.text)
			for _, p := range members[:tc.lines] {
				events <- readEvent{c: p.client, line: []byte("MSG " + text)}
			}
			h.l.eventsIn = events
			start := h.l.mem.queued
			h.l.moreReads()
			taken, queued := tc.lines-len(events), h.l.mem.queued-start
			h.l.settle()
			if tc.all {
				if taken != tc.lines {
					t.Fatalf("the turn took %d of %d lines, %d bytes of output; want all", taken, tc.lines, queued)
				}
				return
			}
			full := max(turnBytes, tc.members*turnWrite)
			perLine := queued / taken
			if taken == tc.lines || queued < full || queued-perLine >= full {
				t.Fatalf("the turn took %d of %d lines, %d bytes of output, %d a line; want it to stop at the first line that reaches %d", taken, tc.lines, queued, perLine, full)
			}
		})
	}
}
