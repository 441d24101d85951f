package impl

import (
	"testing"
	"time"
)

// TestSenderWaitsOnceInAll: a sender's lines wait for other clients at
// most StallBudget in all over its connection (LIMIT-9), so that members
// that stop reading one after another do not add their budgets up. Each
// member here has a full budget of its own; alice's line waits for x1,
// then for x2 until what alice may wait runs out, and after that a line to
// the still hot x2 is not postponed at all. The loop is driven by hand and
// the time a line has waited is moved back, not waited for.
func TestSenderWaitsOnceInAll(t *testing.T) {
	const budget = 100 * time.Millisecond
	h := newHandLoop(t, Config{StallBudget: budget})
	alice, x1 := twoInRoom(h)
	x2 := h.connect()
	h.send(x2, "USERNAME x2")
	x2.expect("OK Welcome, x2!")
	h.send(x2, "JOIN #r")
	x2.expect("OK Joined #r (2 users)", "JOIN #r alice", "JOIN #r bob")
	h.send(alice, "PING x2")
	alice.expect("JOIN #r x2", "PONG x2")

	// x1 is over high water: alice's line waits for it, 60 ms as if the
	// time had passed, until x1 drains.
	h.l.setOver(x1.client, true)
	h.send(alice, "MSG one")
	if alice.deferred == nil {
		t.Fatal("alice's line to a hot member was not postponed")
	}
	alice.deferredAt -= 60 * time.Millisecond
	h.l.setOver(x1.client, false)
	h.l.release(x1.client)
	h.l.settle()
	alice.expect("ROOM #r alice one")
	if alice.waitLeft > budget-60*time.Millisecond {
		t.Fatalf("after waiting 60 ms alice may still wait %v, want at most %v", alice.waitLeft, budget-60*time.Millisecond)
	}

	// x2, with its whole budget, is over: alice's next line waits for it
	// only for what alice has left, then runs though x2 is still hot.
	h.l.setOver(x2.client, true)
	if !x2.hot {
		t.Fatal("x2 over high water with its budget is not hot")
	}
	h.send(alice, "MSG two")
	if alice.deferred == nil {
		t.Fatal("alice's line was not postponed though she may still wait")
	}
	alice.deferredAt -= alice.waitLeft
	h.l.onStallTimer()
	h.l.settle()
	alice.expect("ROOM #r alice two")
	if alice.waitLeft != 0 {
		t.Fatalf("alice may still wait %v after waiting all she may", alice.waitLeft)
	}
	if !x2.hot {
		t.Fatal("x2 stopped being hot, so the next step proves nothing")
	}
	h.send(alice, "MSG three")
	if alice.deferred != nil {
		t.Fatal("alice's line was postponed again after she had waited StallBudget for others in all")
	}
	alice.expect("ROOM #r alice three")
}
