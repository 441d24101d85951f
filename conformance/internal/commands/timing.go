package commands

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// The timing of floods: every floodsend records when each of its rounds
// was sent (flood.go), and recvmany -from judges the arrival of the lines a
// flood produced against those times (-within: no line held back too long;
// -spread: the lines not delivered too soon). Arrival times are those the
// reader goroutine recorded (Client.NextAt), not the times the script got
// round to the lines.

// rateArg parses the N of floodsend -rate N: rounds per second, a positive
// number, which may be fractional, slow enough for count rounds to fit in a
// time.Duration.
func rateArg(ts *testscript.TestScript, a string, count int) float64 {
	r, err := strconv.ParseFloat(a, 64)
	if err != nil || !(r > 0) || math.IsInf(r, 0) {
		ts.Fatalf("floodsend: bad rate %q: want a positive number of rounds per second", a)
	}
	if float64(count)/r*float64(time.Second) >= math.MaxInt64 {
		ts.Fatalf("floodsend: %d rounds at %s a second would take centuries", count, a)
	}
	return r
}

// durationArg parses the DURATION of option opt: a positive Go duration.
func durationArg(ts *testscript.TestScript, opt, a string) time.Duration {
	d, err := time.ParseDuration(a)
	if err != nil || d <= 0 {
		ts.Fatalf("%s: bad duration %q: want a positive duration such as 500ms", opt, a)
	}
	return d
}

// A floodTiming is what recvmany -from, -within and -spread check: the
// arrival of each expected line against the recorded send time of its
// round in the flood of client from.
type floodTiming struct {
	from      *Client
	rec       *floodRecord
	within    time.Duration   // 0: no bound
	spread    time.Duration   // 0: no bound
	latencies []time.Duration // of the lines checked so far, in order
	worst     int             // the line of the largest latency, from 1
	spreadGot time.Duration   // -spread: from round 1 to the last line
}

// newFloodTiming checks that from's latest flood is the one recvmany
// expects: rounds rounds of lines lines each. A mismatch is a script error.
func newFloodTiming(ts *testscript.TestScript, from *Client, rounds, lines int, within, spread time.Duration) *floodTiming {
	rec := from.sent
	if rec == nil {
		ts.Fatalf("recvmany -from %s: %s has sent no flood (floodsend) to time the lines by", from.name, from.name)
	}
	if rec.rounds != rounds || rec.lines != lines {
		ts.Fatalf("recvmany -from %s: the latest flood of %s has %d rounds of %d lines, not %d rounds of %d as recvmany expects",
			from.name, from.name, rec.rounds, rec.lines, rounds, lines)
	}
	if spread > 0 && rounds == 0 {
		ts.Fatalf("recvmany -spread: no line to time with COUNT 0")
	}
	return &floodTiming{from: from, rec: rec, within: within, spread: spread}
}

// check judges expected line k of total, got, of round round, which arrived
// at at on client c.
func (t *floodTiming) check(ts *testscript.TestScript, s *session, c *Client, k, total, round int, got string, at time.Time) {
	sent, ok := t.rec.round(round)
	if !ok {
		s.fatalf(ts, "recvmany %s: line %d of %d, %q, arrived at %s, before round %d of the flood of %s was sent: it cannot have come from that flood",
			c.name, k, total, got, s.tr.stamp(at), round, t.from.name)
	}
	lat := at.Sub(sent)
	if t.within > 0 && lat > t.within {
		s.fatalf(ts, "recvmany %s: line %d of %d, %q, arrived %v after round %d of the flood of %s %s, more than the -within bound of %v\n"+
			"  sent %s, arrived %s (transcript times)\n"+
			"  likely cause: the server holds back its room, for instance while a member has stopped reading (LIMIT-3, LIMIT-9)",
			c.name, k, total, got, lat.Round(time.Microsecond), round, t.from.name, t.rec.sentWord(), t.within,
			s.tr.stamp(sent), s.tr.stamp(at))
	}
	if t.worst == 0 || lat > t.latencies[t.worst-1] {
		t.worst = len(t.latencies) + 1
	}
	t.latencies = append(t.latencies, lat)
	if t.spread > 0 && k == total {
		first, _ := t.rec.round(1)
		t.spreadGot = at.Sub(first)
		if t.spreadGot < t.spread {
			s.fatalf(ts, "recvmany %s: the last line (line %d of %d, %q) arrived %v after round 1 of the flood of %s %s, sooner than the -spread of %v: the server did not spread the lines out, as one that paces a client's reading would (such as the token bucket of LIMIT-11)\n"+
				"  round 1 sent %s, last line arrived %s (transcript times)",
				c.name, k, total, got, t.spreadGot.Round(time.Microsecond), t.from.name, t.rec.sentWord(), t.spread,
				s.tr.stamp(first), s.tr.stamp(at))
		}
	}
}

// report logs the latencies of a recvmany that passed.
func (t *floodTiming) report(ts *testscript.TestScript, c *Client) {
	n := len(t.latencies)
	if n == 0 {
		return
	}
	sorted := slices.Clone(t.latencies)
	slices.Sort(sorted)
	p99 := sorted[int(math.Ceil(0.99*float64(n)))-1]
	bound := ""
	if t.within > 0 {
		bound = fmt.Sprintf(" (bound %v)", t.within)
	}
	ts.Logf("recvmany %s: latency of the %d lines of the flood of %s: max %v (line %d), 99th percentile %v%s",
		c.name, n, t.from.name, t.latencies[t.worst-1].Round(time.Microsecond), t.worst, p99.Round(time.Microsecond), bound)
	if t.spread > 0 {
		ts.Logf("recvmany %s: the last line arrived %v after round 1 of the flood of %s %s (-spread %v)",
			c.name, t.spreadGot.Round(time.Microsecond), t.from.name, t.rec.sentWord(), t.spread)
	}
}
