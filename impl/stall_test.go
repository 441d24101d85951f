package impl_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestStallBudget: a member that never reads holds its room back for at
// most StallBudget over its whole connection (LIMIT-9); after that, output
// to it is only queued. Its queue and write timeout are made so large here
// that it is never dropped during the test, so the room can go on only
// because the budget ran out: with unbounded pacing the senders would wait
// for the write timeout (a minute), far beyond the test's bounds. The log
// says when the budget was spent.
func TestStallBudget(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{
		MaxQueueBytes: 16 << 20,
		WriteTimeout:  time.Minute,
		StallBudget:   50 * time.Millisecond,
		Logger:        log.logger(),
	})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	deaf := ts.dialRcvBuf(t, "deaf", 4096)
	enterRoom(deaf, "deaf", "#r", []*testClient{alice}, []string{"alice"})
	carol := ts.dial(t, "carol")
	enterRoom(carol, "carol", "#r", []*testClient{alice, deaf}, []string{"alice", "deaf"})
	r := &room{t: t, name: "#r", members: []*testClient{alice, carol}, sent: map[string]int{}}
	for _, c := range r.members {
		c.follow(r.name, "alice", "deaf", "carol")
	}

	// deaf reads nothing from here on. alice talks in rounds of 100 lines
	// (about 42 KB), each followed by a barrier, until deaf's budget is
	// spent, and then 20 rounds more. The kernel's buffers for deaf fill
	// first (a few MB), then its queue passes high water (4 MiB), and only
	// then may alice be held back on its account.
	extra := -1
	for round := 0; extra < 20; round++ {
		if round > 2000 {
			t.Fatalf("deaf's stall budget never ran out after %d lines:\n%s", r.sent["alice"], log.String())
		}
		r.say(0, 100, 400)
		syncAll(r.members...)
		if extra >= 0 {
			extra++
		} else if logged(log.String(), `msg="stall budget spent"`, "user=deaf") {
			extra = 0
		}
	}
	r.check(nil)
	if l := log.String(); strings.Contains(l, "msg=disconnect") {
		t.Errorf("a client was disconnected:\n%s", l)
	}
	if n := strings.Count(log.String(), "stall budget spent"); n != 1 {
		t.Errorf("%d budgets spent, want only deaf's:\n%s", n, log.String())
	}
	t.Logf("alice sent %d lines of %d bytes while deaf did not read", r.sent["alice"], 400+len("MSG alice-0 "))
}

// TestLineRate: with a rate limit, a client's lines are read more slowly,
// and none is refused (LIMIT-11, LIMIT-6): 30 lines written at once with a
// bucket of 5 and 50 lines a second all arrive, in order, the last no
// sooner than (30 - 5) / 50 s after they were written. Another client's
// bucket is its own.
func TestLineRate(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{LineRate: 50, LineBurst: 5})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	// The bucket holds at most 5 tokens now, whatever came before.
	const n = 30
	start := time.Now()
	alice.write(messages("alice", 0, n, 10))
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("ROOM #r alice alice-%d %s", i, strings.Repeat("p", 10)))
	}
	alice.expect(want...)
	elapsed := time.Since(start)
	bob.expect(want...)
	if min := time.Duration(n-5) * time.Second / 50; elapsed < min {
		t.Errorf("%d lines with a bucket of 5 at 50 lines/s were processed in %v, sooner than %v", n, elapsed, min)
	}
	t.Logf("%d lines at 50 lines/s, bucket 5: the last echo after %v", n, elapsed)
	bob.send("MSG mine")
	bob.expect("ROOM #r bob mine")
	alice.expect("ROOM #r bob mine")
}
