package impl_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestRobustFlood: one member sends as fast as it can while the others
// talk at an ordinary pace. The flood policy holds (LIMIT-6): nothing of
// the flood is dropped, rejected or answered with an error, and the
// others' lines still get through, in order, to everyone. Their latency
// is measured and reported, never asserted: it depends on the machine.
func TestRobustFlood(t *testing.T) {
	flood := size(50000, 2_000_000)
	const (
		calm    = 3
		says    = 100
		maxSays = 20000
		every   = 2 * time.Millisecond
	)
	ts, log := startLogged(t, impl.Config{})
	r := newRoom(t, ts, "#flood", "m", calm+1) // m0 floods
	var calmNames []string
	for i := 1; i <= calm; i++ {
		calmNames = append(calmNames, fmt.Sprintf("m%d", i))
	}
	for _, m := range r.members {
		m.track(calmNames...)
	}
	b := newBounds(t, "flood")

	floodDone := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		// As fast as the server takes it, in writes of a thousand lines;
		// the write deadline of failAfter bounds a stall.
		conn := r.members[0].conn
		for i := 0; i < flood; i += 1000 {
			conn.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := conn.Write(messages("m0", i, min(1000, flood-i), 10)); err != nil {
				t.Errorf("flood: %v", err)
				break
			}
		}
		floodDone <- time.Since(start)
	}()
	// The others talk, one line each every few milliseconds, for as long
	// as the flood is being written (at least says lines, at most
	// maxSays).
	sentAt := map[string][]time.Time{}
	tick := time.NewTicker(every)
	var (
		peak resources
		took time.Duration
		said int
	)
	for flooding := true; said < says || flooding && said < maxSays; said++ {
		<-tick.C
		for i := 1; i <= calm; i++ {
			name := fmt.Sprintf("m%d", i)
			sentAt[name] = append(sentAt[name], time.Now())
			r.members[i].write(messages(name, said, 1, 10))
		}
		if said%25 == 0 {
			if s := sample(); s.heap > peak.heap {
				peak = s
			}
		}
		select {
		case took = <-floodDone:
			flooding = false
		default:
		}
	}
	tick.Stop()
	if took == 0 {
		took = <-floodDone
	}
	for i := 1; i <= calm; i++ {
		r.sent[fmt.Sprintf("m%d", i)] = said
	}
	r.check(map[string]int{"m0": flood})
	t.Logf("the flood of %d lines was written in %v; %d others sent %d lines each, one every %v, meanwhile", flood, took.Round(time.Millisecond), calm, said, every)
	dh := delta(peak.heap, b.base.heap)
	t.Logf("bounds flood: peak heap during the flood %+d KiB", dh/KiB)
	// The bound does not grow with the flood (56 MB under CHAT_SOAK=1); it
	// leaves room for the test's own buffers, which the heap includes.
	if limit := int64(len(r.members))*(1*MiB) + 4*heapSlack; dh > limit {
		t.Errorf("the heap grew by %d KiB during the flood, more than MaxQueueBytes a member and %d KiB", dh/KiB, 4*heapSlack/KiB)
	}

	// Latency of the others' lines: from the write to the arrival, at each
	// member, the flooder included.
	for _, m := range r.members {
		var lat []time.Duration
		for _, sender := range calmNames {
			for j, at := range m.arrivals(sender) {
				lat = append(lat, at.Sub(sentAt[sender][j]))
			}
		}
		slices.Sort(lat)
		if len(lat) != calm*said {
			t.Errorf("%s: %d arrival times, want %d", m.label, len(lat), calm*said)
			continue
		}
		t.Logf("latency of the calm lines at %s, during the flood: p50 %v, p99 %v, max %v",
			m.label, lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	}
	if got := log.count("msg=disconnect"); got != 0 {
		t.Errorf("%d clients were disconnected:\n%s", got, log.String())
	}
	b.after(0)
	servedNow(t, ts, "newcomer")
}
