package concurrent

import (
	"cmp"
	"slices"
	"time"
)

// A Recorded is one connection as something other than Run recorded it:
// a conformance script, for its serializable command.
type Recorded struct {
	Label    string
	Opened   time.Duration // when it was dialled
	Sent     []Sent        // its complete lines, in order
	Received []Arrival     // its lines received, and its close by the server
}

// Sent is one line a connection wrote, and when its write began.
type Sent struct {
	Line string
	At   time.Duration
}

// NewHistory makes the history of recorded connections, each a lane of
// its own, complete at end: every line they sent was processed before
// end, and everything caused by it arrived. Its bounds on when each line
// was processed come from PONGs and replies only: the lines of a script
// need not carry unique texts.
func NewHistory(conns []Recorded, end time.Duration) *History {
	h := &History{End: end}
	for k, c := range conns {
		h.Conns = append(h.Conns, Conn{Lane: k, Label: c.Label, Received: slices.Clone(c.Received)})
		h.Ops = append(h.Ops, Op{Conn: k, Kind: OpConnect, Call: c.Opened})
		for _, s := range c.Sent {
			h.Ops = append(h.Ops, Op{Conn: k, Kind: OpLine, Line: s.Line, Call: s.At})
		}
	}
	slices.SortStableFunc(h.Ops, func(a, b Op) int { return cmp.Compare(a.Call, b.Call) })
	bound(h, false)
	return h
}
