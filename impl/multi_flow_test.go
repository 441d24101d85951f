package impl_test

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// enableRooms enables rooms on c and registers it as name.
func enableRooms(c *testClient, name string) {
	c.t.Helper()
	c.send("CAPS rooms")
	c.expect("OK Enabled rooms")
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
}

// numbered returns the numbered room messages of sender, from first to
// first+n-1, as a recorder keeps them; room gives the room of each.
func numbered(sender string, first, n int, room func(i int) string) []string {
	var lines []string
	for i := first; i < first+n; i++ {
		lines = append(lines, fmt.Sprintf("ROOM %s %s %s-%d", room(i), sender, sender, i))
	}
	return lines
}

// checkSenders fails the test unless lines, PONGs and the lines skip
// accepts aside, are exactly the numbered messages of want, each sender's
// in its order, interleaved in any way. It returns how often two lines in
// a row came from different rooms.
func checkSenders(t *testing.T, label string, lines []string, want map[string][]string, skip func(string) bool) (switches int) {
	t.Helper()
	next := map[string]int{}
	last := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "PONG ") || skip != nil && skip(l) {
			continue
		}
		f := strings.Fields(l)
		if len(f) != 4 || f[0] != "ROOM" {
			t.Fatalf("%s: unexpected %q", label, l)
		}
		w := want[f[2]]
		if next[f[2]] >= len(w) || w[next[f[2]]] != l {
			t.Fatalf("%s: got %q, want the message of %s at index %d of %d", label, l, f[2], next[f[2]], len(w))
		}
		next[f[2]]++
		if last != "" && last != f[1] {
			switches++
		}
		last = f[1]
	}
	for sender, w := range want {
		if next[sender] != len(w) {
			t.Fatalf("%s: %d messages of %s, want %d", label, next[sender], sender, len(w))
		}
	}
	return switches
}

// TestRoomsOneQueue: a member of two busy rooms has one output queue and
// receives the lines of both in the one order of ORDER-1 (MULTI-8,
// ORDER-2): s1 talks in #a, s2 (a core client) in #b, and s3, a member of
// both, to each in turn, all at once, in rounds separated by barriers. m,
// in both rooms, receives each sender's lines in the order sent, every
// round's before its own PONG that follows the round, and none of a later
// round before it (ORDER-4); each sender receives its room's lines only.
func TestRoomsOneQueue(t *testing.T) {
	t.Parallel()
	const rounds, k, pad = 20, 50, 20
	ts := startServer(t, impl.Config{Offer: spec.ExtRooms})
	m, s1, s2, s3 := ts.dial(t, "m"), ts.dial(t, "s1"), ts.dial(t, "s2"), ts.dial(t, "s3")
	enableRooms(m, "m")
	m.send("JOIN #a")
	m.expect("OK Joined #a (0 users)")
	m.send("JOIN #b")
	m.expect("OK Joined #b (0 users)")
	enableRooms(s1, "s1")
	s1.send("JOIN #a")
	s1.expect("OK Joined #a (1 users)", "JOIN #a m")
	s2.send("USERNAME s2")
	s2.expect("OK Welcome, s2!")
	s2.send("JOIN #b")
	s2.expect("OK Joined #b (1 users)", "JOIN #b m")
	enableRooms(s3, "s3")
	s3.send("JOIN #a")
	s3.expect("OK Joined #a (2 users)", "JOIN #a m", "JOIN #a s1")
	s3.send("JOIN #b")
	s3.expect("OK Joined #b (2 users)", "JOIN #b m", "JOIN #b s2")
	m.expect("JOIN #a s1", "JOIN #b s2", "JOIN #a s3", "JOIN #b s3")
	s1.expect("JOIN #a s3")
	s2.expect("JOIN #b s3")
	rm, r1, r2, r3 := m.record(), s1.record(), s2.record(), s3.record()
	senders := []*recorder{r1, r2, r3}

	roomA := func(int) string { return "#a" }
	roomB := func(int) string { return "#b" }
	roomOf3 := func(i int) string { return []string{"#a", "#b"}[i%2] }
	var mPongs []int
	for round := range rounds {
		first := round * k
		bufs := [][]byte{roomMessages("#a", "s1", first, k, pad), messages("s2", first, k, pad), nil}
		for i := first; i < first+k; i++ {
			bufs[2] = append(bufs[2], roomMessages(roomOf3(i), "s3", i, 1, pad)...)
		}
		var wg sync.WaitGroup
		for i, r := range senders {
			wg.Go(func() {
				r.c.conn.SetWriteDeadline(time.Now().Add(failAfter))
				if _, err := r.c.conn.Write(bufs[i]); err != nil {
					t.Errorf("%s: %v", r.c.label, err)
				}
			})
		}
		wg.Wait()
		syncRecorders(senders...)
		mPongs = append(mPongs, rm.sync())
	}
	// Each sender's PONG of the rounds may come before the last lines of
	// the others (PING is no barrier across clients). By m's PONG every
	// line is processed, so a PING of each sender now comes after all
	// that was queued to it.
	syncRecorders(senders...)

	// m, round by round: exactly that round's lines of every sender.
	lines := rm.snapshot()
	start, switches := 0, 0
	for round, end := range mPongs {
		first := round * k
		want := map[string][]string{
			"s1": numbered("s1", first, k, roomA),
			"s2": numbered("s2", first, k, roomB),
			"s3": numbered("s3", first, k, roomOf3),
		}
		switches += checkSenders(t, fmt.Sprintf("m, round %d", round), lines[start:end], want, nil)
		start = end + 1
	}
	// Each sender, over all rounds: its room's lines alone.
	var s3A, s3B []string
	for _, l := range numbered("s3", 0, rounds*k, roomOf3) {
		if strings.HasPrefix(l, "ROOM #a ") {
			s3A = append(s3A, l)
		} else {
			s3B = append(s3B, l)
		}
	}
	all1, all2 := numbered("s1", 0, rounds*k, roomA), numbered("s2", 0, rounds*k, roomB)
	checkSenders(t, "s1", r1.snapshot(), map[string][]string{"s1": all1, "s3": s3A}, nil)
	checkSenders(t, "s2", r2.snapshot(), map[string][]string{"s2": all2, "s3": s3B}, nil)
	checkSenders(t, "s3", r3.snapshot(), map[string][]string{"s1": all1, "s2": all2, "s3": numbered("s3", 0, rounds*k, roomOf3)}, nil)
	t.Logf("m received %d lines of two rooms; consecutive lines changed room %d times", 3*rounds*k, switches)
}

// TestRoomsSlowConsumer: a member of two rooms that stops reading while
// both are busy is one slow consumer, with one queue (MULTI-8): it is
// dropped with a reset (LIMIT-4, LIMIT-8), and the end is one item in
// which it leaves its rooms in the order it joined them (MULTI-7): m, who
// shares both, receives the two LEAVE notes one right after the other,
// #b's first, and each sender the note of its own room. Meanwhile and
// after, everyone who reads receives every line, in order, and nobody
// else is dropped (LIMIT-10).
func TestRoomsSlowConsumer(t *testing.T) {
	t.Parallel()
	const k, pad = 20, 400
	var log logBuffer
	ts := startServer(t, impl.Config{
		Offer:         spec.ExtRooms,
		MaxQueueBytes: 64 << 10,
		WriteTimeout:  300 * time.Millisecond,
		Logger:        log.logger(),
	})
	m, s1, s2 := ts.dial(t, "m"), ts.dial(t, "s1"), ts.dial(t, "s2")
	enableRooms(m, "m")
	m.send("JOIN #a")
	m.expect("OK Joined #a (0 users)")
	m.send("JOIN #b")
	m.expect("OK Joined #b (0 users)")
	enterRoom(s1, "s1", "#a", []*testClient{m}, []string{"m"})
	enterRoom(s2, "s2", "#b", []*testClient{m}, []string{"m"})
	x := ts.dialRcvBuf(t, "x", 4096)
	enableRooms(x, "x")
	x.send("JOIN #b")
	x.expect("OK Joined #b (2 users)", "JOIN #b m", "JOIN #b s2")
	x.send("JOIN #a")
	x.expect("OK Joined #a (2 users)", "JOIN #a m", "JOIN #a s1")
	m.expect("JOIN #b x", "JOIN #a x")
	s1.expect("JOIN #a x")
	s2.expect("JOIN #b x")
	rm, r1, r2 := m.record(), s1.record(), s2.record()
	readers := []*recorder{rm, r1, r2}

	// x reads nothing from here on. s1 and s2 talk in rounds, each smaller
	// than a queue, until x's LEAVE notes have reached m, and three rounds
	// more.
	sent, after := 0, -1
	start := time.Now()
	for after < 3 {
		if time.Since(start) > failAfter {
			t.Fatalf("x not dropped after %d rounds in %v", sent/k, time.Since(start))
		}
		s1.write(messages("s1", sent, k, pad))
		s2.write(messages("s2", sent, k, pad))
		sent += k
		syncRecorders(readers...)
		if after >= 0 {
			after++
		} else if rm.find("LEAVE #a x") >= 0 {
			after = 0
		}
	}
	syncRecorders(readers...)
	t.Logf("x was dropped after %v; s1 and s2 sent %d lines each", time.Since(start), sent)

	lines := rm.snapshot()
	i := slices.Index(lines, "LEAVE #b x")
	if i < 0 || i+1 >= len(lines) || lines[i+1] != "LEAVE #a x" {
		t.Fatalf("m: want LEAVE #b x and LEAVE #a x one right after the other; LEAVE #b x at %d of %d: %q", i, len(lines), lines[max(i, 0):min(max(i, 0)+2, len(lines))])
	}
	isNote := func(l string) bool { return l == "LEAVE #b x" || l == "LEAVE #a x" }
	roomA := func(int) string { return "#a" }
	roomB := func(int) string { return "#b" }
	checkSenders(t, "m", lines, map[string][]string{"s1": numbered("s1", 0, sent, roomA), "s2": numbered("s2", 0, sent, roomB)}, isNote)
	checkSenders(t, "s1", r1.snapshot(), map[string][]string{"s1": numbered("s1", 0, sent, roomA)}, func(l string) bool { return l == "LEAVE #a x" })
	checkSenders(t, "s2", r2.snapshot(), map[string][]string{"s2": numbered("s2", 0, sent, roomB)}, func(l string) bool { return l == "LEAVE #b x" })
	for _, r := range readers {
		if n := strings.Count(strings.Join(r.snapshot(), "\n"), "LEAVE "); n != map[*recorder]int{rm: 2, r1: 1, r2: 1}[r] {
			t.Errorf("%s received %d LEAVE notes", r.c.label, n)
		}
		if err := r.failed(); err != nil {
			t.Errorf("%s: %v", r.c.label, err)
		}
	}

	// x got room lines only, then the reset.
	x.conn.SetReadDeadline(time.Now().Add(failAfter))
	data, err := io.ReadAll(x.r)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("x: want the connection reset (LIMIT-8), got %v", err)
	}
	got := strings.Split(string(data), "\r\n")
	for _, l := range got[:len(got)-1] {
		if !strings.HasPrefix(l, "ROOM #a s1 ") && !strings.HasPrefix(l, "ROOM #b s2 ") {
			t.Fatalf("x got %q", l)
		}
	}
	if l := log.String(); !strings.Contains(l, "user=x reason=slow-consumer") || strings.Count(l, "msg=disconnect") != 1 {
		t.Errorf("want one disconnect, x's as a slow consumer:\n%s", l)
	}
}
