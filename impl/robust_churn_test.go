package impl_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// churner is one short-lived connection of a churn.
type churner struct {
	t    testing.TB
	conn *net.TCPConn
	r    *bufio.Reader
	name string
}

func dialChurner(t testing.TB, addr, name string) *churner {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &churner{t: t, conn: c.(*net.TCPConn), r: bufio.NewReader(c), name: name}
}

func (c *churner) send(s string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("%s: write: %v", c.name, err)
	}
}

// until reads lines until one starts with prefix; others are skipped.
func (c *churner) until(prefix string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(failAfter))
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("%s: want %q: %v", c.name, prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return
		}
	}
}

// closed checks that the server closes the connection after the lines
// already read.
func (c *churner) closed() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(failAfter))
	if line, err := c.r.ReadString('\n'); err == nil || !isClosed(err) {
		c.t.Fatalf("%s: want the connection closed, got %q, %v", c.name, line, err)
	}
}

func (c *churner) reset() {
	c.conn.SetLinger(0)
	c.conn.Close()
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
			c := dialChurner(t, ts.addr, fmt.Sprintf("s%d-%d", round, i))
			c.conn.Close()
		}
		// USERNAME and QUIT: the goodbye, then the close.
		for i := range per {
			c := dialChurner(t, ts.addr, fmt.Sprintf("q%d-%d", round, i))
			c.send("USERNAME " + c.name + "\r\nQUIT\r\n")
			c.until("OK " + spec.OKGoodbye)
			c.closed()
			c.conn.Close()
		}
		// A reset in the middle of a line.
		for i := range per {
			c := dialChurner(t, ts.addr, fmt.Sprintf("r%d-%d", round, i))
			c.send("USERNAME " + c.name + "\r\nMSG half a li")
			c.reset()
		}
		// Into the room, then a reset in the middle of m0's flood.
		flooding := make(chan struct{})
		floodLines := 20 * per
		go func() {
			defer close(flooding)
			m0 := r.members[0].c.conn
			m0.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := m0.Write(messages("m0", r.sent["m0"], floodLines, 40)); err != nil {
				t.Errorf("flood: %v", err)
			}
		}()
		for i := range per {
			c := dialChurner(t, ts.addr, fmt.Sprintf("j%d-%d", round, i))
			c.send("USERNAME " + c.name + "\r\nJOIN #churn\r\n")
			c.until("OK Joined #churn")
			c.reset()
		}
		<-flooding
		r.sent["m0"] += floodLines
		disconnects += 4 * per
		log.waitCount(t, "msg=disconnect", disconnects)
		r.check(nil)
		// Each JOIN note was followed by a LEAVE note of the same user
		// before any other JOIN of it (the member checks), and there were
		// exactly as many as churners that joined.
		for _, m := range r.members {
			if j, l := m.noteTotals(); j != (round+1)*per || l != (round+1)*per {
				t.Fatalf("%s saw %d JOIN and %d LEAVE notes, want %d of each", m.name, j, l, (round+1)*per)
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
