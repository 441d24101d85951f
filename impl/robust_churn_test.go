package impl_test

import (
	"fmt"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// churnClient connects one short-lived client of a churn. The test closes it;
// no cleanup is registered, as thousands of them would pile up.
func churnClient(t testing.TB, ts *testServer, name string) *testClient {
	t.Helper()
	return dialAddr(t, ts.addr, name, dialConfig{uncleaned: true})
}

// TestRobustChurn: thousands of connections come and go, one after the
// other: some without a word, some after USERNAME and QUIT, some reset in
// the middle of a line, some join a busy room and reset in the middle of
// the broadcasts to them. The members of that room receive every line in
// order, and exactly one JOIN and one LEAVE for each that entered. The
// churn runs in two equal rounds: after each, the goroutines are back to
// their baseline, and the second round leaves the heap where the first did
// (no leak per cycle).
func TestRobustChurn(t *testing.T) {
	per := size(250, 5000) // cycles of each kind, per round
	ts, log := startLogged(t, impl.Config{})
	r := newRoom(t, ts, "#churn", "m", 2)
	b := newBounds(t, "churn")
	var rounds []resources
	disconnects := 0
	for round := range 2 {
		start := time.Now()
		// Without a word.
		for i := range per {
			c := churnClient(t, ts, fmt.Sprintf("s%d-%d", round, i))
			c.conn.Close()
		}
		// USERNAME and QUIT: the goodbye, then the close.
		for i := range per {
			c := churnClient(t, ts, fmt.Sprintf("q%d-%d", round, i))
			c.write([]byte("USERNAME " + c.label + "\r\nQUIT\r\n"))
			c.expect("OK Welcome, "+c.label+"!", "OK "+spec.OKGoodbye)
			c.expectClosed()
		}
		// A reset in the middle of a line.
		for i := range per {
			c := churnClient(t, ts, fmt.Sprintf("r%d-%d", round, i))
			c.write([]byte("USERNAME " + c.label + "\r\nMSG half a li"))
			c.reset()
		}
		// Into the room, then a reset in the middle of m0's flood.
		flooding := make(chan struct{})
		floodLines := 20 * per
		go func() {
			defer close(flooding)
			m0 := r.members[0].conn
			m0.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := m0.Write(messages("m0", r.sent["m0"], floodLines, 40)); err != nil {
				t.Errorf("flood: %v", err)
			}
		}()
		for i := range per {
			c := churnClient(t, ts, fmt.Sprintf("j%d-%d", round, i))
			c.write([]byte("USERNAME " + c.label + "\r\nJOIN #churn\r\n"))
			c.readUntil("OK Joined #churn")
			c.reset()
		}
		<-flooding
		r.sent["m0"] += floodLines
		disconnects += 4 * per
		log.waitCount(t, "msg=disconnect", disconnects)
		r.check(nil)
		// Each JOIN note was followed by a LEAVE note of the same user
		// before any other JOIN of it (the followers check), and there were
		// exactly as many as churners that joined.
		for _, m := range r.members {
			if j, l := m.noteTotals(); j != (round+1)*per || l != (round+1)*per {
				t.Fatalf("%s saw %d JOIN and %d LEAVE notes, want %d of each", m.label, j, l, (round+1)*per)
			}
		}
		res := waitGoroutines(t, b.base.goroutines+goroutineSlack/4)
		rounds = append(rounds, res)
		t.Logf("round %d: %d cycles in %v; heap %+d KiB, goroutines %+d over the baseline",
			round+1, 4*per, time.Since(start).Round(time.Millisecond), delta(res.heap, b.base.heap)/KiB, res.goroutines-b.base.goroutines)
	}
	growth := delta(rounds[1].heap, rounds[0].heap)
	t.Logf("bounds churn: the second round of %d cycles left the heap %+d KiB from the first (%d B/cycle)", 4*per, growth/KiB, growth/int64(4*per))
	if growth > 1*MiB {
		t.Errorf("the heap grew by %d KiB over the second round of %d cycles: a leak of %d B a cycle?", growth/KiB, 4*per, growth/int64(4*per))
	}
	b.after(2)
	servedNow(t, ts, "newcomer")
	r.check(nil)
}
