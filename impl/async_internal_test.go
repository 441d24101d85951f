package impl

import (
	"container/heap"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// The tests of lines that wait for work outside the loop (async.go), on a
// loop driven by hand whose store is a fake: the test decides when a
// commit or a fetch comes back, and so sees what every client has received
// before.

// fakeWriter stands for the store's Writer: it records what is submitted,
// and reports a full queue while full is set.
type fakeWriter struct {
	full     bool
	messages []store.Message
	accounts []store.Account
	tokens   []uint64 // submitted and not yet committed, in order
}

func (w *fakeWriter) TryAppend(m store.Message, token uint64) bool {
	if w.full {
		return false
	}
	w.messages = append(w.messages, m)
	w.tokens = append(w.tokens, token)
	return true
}

func (w *fakeWriter) TryPut(a store.Account, token uint64) bool {
	if w.full {
		return false
	}
	w.accounts = append(w.accounts, a)
	w.tokens = append(w.tokens, token)
	return true
}

func (w *fakeWriter) Close() error { return nil }

// take returns the first n tokens submitted and not yet committed.
func (w *fakeWriter) take(t *testing.T, n int) []uint64 {
	t.Helper()
	if len(w.tokens) < n {
		t.Fatalf("%d operations submitted to the store, want at least %d", len(w.tokens), n)
	}
	toks := w.tokens[:n:n]
	w.tokens = w.tokens[n:]
	return toks
}

// fakeReader stands for the store's Reader: it records the fetches.
type fakeReader struct {
	queries []store.Query
	tokens  []uint64
}

func (r *fakeReader) TryFetch(q store.Query, token uint64) bool {
	r.queries = append(r.queries, q)
	r.tokens = append(r.tokens, token)
	return true
}

func (r *fakeReader) Close() {}

// newStoreLoop returns a hand-driven loop that offers every extension, as
// with a database, whose Writer and Reader are fakes. Its passwords are
// hashed by a real pool, cheaply.
func newStoreLoop(t *testing.T) (*handLoop, *fakeWriter, *fakeReader) {
	// Output is written at once: no flush timer runs in a loop driven by hand.
	h := newHandLoop(t, Config{Offer: spec.AllExt, Argon2: passwd.Cheap, LoginDelay: time.Millisecond, CoalesceDelay: -1})
	w, r := &fakeWriter{}, &fakeReader{}
	h.l.writer, h.l.reader, h.l.stored = w, r, nil
	return h, w, r
}

// commit applies the Writer's report that the operations of toks are
// committed, or failed with err.
func (h *handLoop) commit(err error, toks ...uint64) {
	h.l.onCommitted(store.Committed{Tokens: toks, Err: err})
	h.l.settle()
}

// pumpHash applies the next result of the password pool.
func (h *handLoop) pumpHash() {
	h.t.Helper()
	select {
	case r := <-h.l.hashedIn:
		h.l.onHashed(r)
		h.l.settle()
	case <-time.After(failAfter):
		h.t.Fatal("no result from the password pool")
	}
}

// enter registers p as name with the extensions of caps ("" for none) and
// has it join room, whose members so far are others.
func (h *handLoop) enter(p *pipeClient, caps, name, room string, others ...*pipeClient) {
	h.t.Helper()
	if caps != "" {
		h.send(p, "CAPS "+caps)
		p.expect("OK Enabled " + caps)
	}
	h.send(p, "USERNAME "+name)
	p.expect("OK Welcome, " + name + "!")
	h.send(p, "JOIN "+room)
	want := []string{"OK Joined " + room + " (" + strconv.Itoa(len(others)) + " users)"}
	for _, o := range others {
		want = append(want, "JOIN "+room+" "+o.name)
	}
	p.expect(want...)
	for _, o := range others {
		o.expect("JOIN " + room + " " + name)
	}
}

// barrier checks that nothing was queued for p before the PONG of token.
func (h *handLoop) barrier(p *pipeClient, token string) {
	h.t.Helper()
	h.send(p, "PING "+token)
	p.expect("PONG " + token)
}

// TestMessageProcessedAtCommit: with a database, a room message is
// processed only once it is stored (HIST-5): until the Writer reports the
// commit, no member receives it and the sender's next line is not even
// read; then each member receives it in its own form, the sender's echo
// included, and the sender's reader goes on.
func TestMessageProcessedAtCommit(t *testing.T) {
	h, w, _ := newStoreLoop(t)
	alice, bob := h.connect(), h.connect()
	h.enter(alice, "", "alice", "#r")
	h.enter(bob, "history", "bob", "#r", alice)

	h.send(alice, "hello")
	if alice.resumed() {
		t.Fatal("alice's reader went on before her message was stored")
	}
	if len(w.messages) != 1 || w.messages[0].ID != 1 || w.messages[0].Text != "hello" || w.messages[0].Room != "#r" {
		t.Fatalf("submitted %+v, want message 1 hello in #r", w.messages)
	}
	h.barrier(bob, "before-commit") // bob has not received it

	h.commit(nil, w.take(t, 1)...)
	at := spec.FormatMsgTime(w.messages[0].Time)
	bob.expect("MESSAGE 1 " + at + " #r alice hello")
	alice.expect("ROOM #r alice hello")
	if !alice.resumed() {
		t.Fatal("alice's reader did not go on once her message was stored")
	}
}

// TestMessageNotStored: a message that cannot be stored is answered
// "ERROR Storage failed" and nobody receives it (HIST-5); its ID is not given
// to any other message.
func TestMessageNotStored(t *testing.T) {
	h, w, _ := newStoreLoop(t)
	alice, bob := h.connect(), h.connect()
	h.enter(alice, "history", "alice", "#r")
	h.enter(bob, "history", "bob", "#r", alice)

	h.send(alice, "lost")
	h.commit(errors.New("disk full"), w.take(t, 1)...)
	alice.expect("ERROR Storage failed")
	if !alice.resumed() {
		t.Fatal("alice's reader did not go on after ERROR Storage failed")
	}
	h.barrier(bob, "after-failure")

	h.send(alice, "kept")
	h.commit(nil, w.take(t, 1)...)
	if id := w.messages[1].ID; id <= w.messages[0].ID {
		t.Fatalf("the next message got ID %d, not above the failed one's %d", id, w.messages[0].ID)
	}
	alice.expect("MESSAGE 2 " + spec.FormatMsgTime(w.messages[1].Time) + " #r alice kept")
	bob.expect("MESSAGE 2 " + spec.FormatMsgTime(w.messages[1].Time) + " #r alice kept")
}

// TestStoreQueueFull: a message that finds the Writer's queue full is
// kept, its sender paused, and submitted when a commit frees room, in the
// order the lines came (LIMIT-9: paced on its own account, never dropped).
func TestStoreQueueFull(t *testing.T) {
	h, w, _ := newStoreLoop(t)
	alice, bob, carol := h.connect(), h.connect(), h.connect()
	h.enter(alice, "history", "alice", "#r")
	h.enter(bob, "history", "bob", "#r", alice)
	h.enter(carol, "history", "carol", "#r", alice, bob)

	h.send(carol, "first") // submitted
	w.full = true
	h.send(alice, "second") // waits for room
	h.send(bob, "third")    // waits behind alice
	if len(w.messages) != 1 || len(h.l.backlog[writeQueue]) != 2 {
		t.Fatalf("%d messages submitted, %d waiting; want 1 and 2", len(w.messages), len(h.l.backlog[writeQueue]))
	}
	w.full = false
	h.commit(nil, w.take(t, 1)...) // carol's commit frees room: alice's and bob's go in, in order
	if len(w.messages) != 3 || w.messages[1].Text != "second" || w.messages[2].Text != "third" {
		t.Fatalf("submitted %+v, want first, second, third", w.messages)
	}
	h.commit(nil, w.take(t, 2)...)
	for _, p := range []*pipeClient{alice, bob, carol} {
		var want []string
		for _, m := range w.messages {
			want = append(want, "MESSAGE "+strconv.FormatUint(m.ID, 10)+" "+spec.FormatMsgTime(m.Time)+" #r "+m.User+" "+m.Text)
		}
		p.expect(want...)
	}
	if !alice.resumed() || !bob.resumed() {
		t.Fatal("a sender's reader did not go on once its message was stored")
	}
}

// TestSlowConsumerWithMessageInFlight: a sender closed as a slow consumer
// while its message is being stored is closed at once (LIMIT-8); when the
// commit comes, nobody receives the message.
func TestSlowConsumerWithMessageInFlight(t *testing.T) {
	h, w, _ := newStoreLoop(t)
	alice, bob := h.connect(), h.connect()
	h.enter(alice, "history", "alice", "#r")
	h.enter(bob, "history", "bob", "#r", alice)

	h.send(alice, "in flight")
	h.l.doom(alice.client, closeCause{reason: SlowConsumer, detail: "test"})
	h.l.settle()
	if alice.phase != phaseClosed {
		t.Fatal("alice was not closed at once")
	}
	bob.expect("LEAVE #r alice")
	h.commit(nil, w.take(t, 1)...)
	h.barrier(bob, "after-commit")
	if h.l.lastStored != 1 {
		t.Fatalf("lastStored = %d after the commit, want 1", h.l.lastStored)
	}
}

// TestHistoryReplyInOrder: with a database, a HISTORY is processed when it
// is read, and what other clients' lines queue to its sender meanwhile
// follows its reply (ORDER-1, ORDER-2): the fetch selects the messages
// processed so far, and bob's message, processed after, comes after the
// HISTORY lines.
func TestHistoryReplyInOrder(t *testing.T) {
	h, w, r := newStoreLoop(t)
	alice, bob := h.connect(), h.connect()
	h.enter(alice, "history", "alice", "#r")
	h.enter(bob, "history", "bob", "#r", alice)
	h.send(alice, "one")
	h.commit(nil, w.take(t, 1)...)
	one := "1 " + spec.FormatMsgTime(w.messages[0].Time) + " #r alice one"
	alice.expect("MESSAGE " + one)
	bob.expect("MESSAGE " + one)

	h.send(alice, "HISTORY #r * 10")
	if len(r.queries) != 1 || r.queries[0].Upto != 1 || r.queries[0].Limit != 10 || r.queries[0].Room != "#r" {
		t.Fatalf("fetches %+v, want #r up to 1, limit 10", r.queries)
	}
	h.send(bob, "two")
	h.commit(nil, w.take(t, 1)...)
	two := "2 " + spec.FormatMsgTime(w.messages[1].Time) + " #r bob two"
	bob.expect("MESSAGE " + two)

	h.l.onFetched(store.Fetched{Token: r.tokens[0], Messages: w.messages[:1]})
	h.l.settle()
	alice.expect("HISTORY "+one, "OK History #r (1 messages)", "MESSAGE "+two)
	if !alice.resumed() {
		t.Fatal("alice's reader did not go on after the reply")
	}
}

// TestAccountStoredBeforeOK: with a database, REGISTER and PASSWORD are
// answered only once the account is committed (HIST-5); meanwhile the
// name is already taken for USERNAME.
func TestAccountStoredBeforeOK(t *testing.T) {
	h, w, _ := newStoreLoop(t)
	alice, bob := h.connect(), h.connect()
	h.send(alice, "CAPS accounts")
	alice.expect("OK Enabled accounts")
	h.send(alice, "USERNAME Alice")
	alice.expect("OK Welcome, Alice!")
	h.send(alice, "REGISTER correct-horse")
	h.pumpHash()
	if len(w.accounts) != 1 || w.accounts[0].Name != "Alice" || !strings.HasPrefix(w.accounts[0].Hash, "$argon2id$") {
		t.Fatalf("submitted %+v, want Alice's account with an argon2id hash", w.accounts)
	}
	if strings.Contains(w.accounts[0].Hash, "correct-horse") {
		t.Fatal("the password itself went to the store")
	}
	if alice.resumed() || h.l.accounts["alice"] != nil {
		t.Fatal("the account was taken as registered before it was stored")
	}
	h.send(bob, "USERNAME alice")
	bob.expect("ERROR Username taken")
	h.commit(nil, w.take(t, 1)...)
	alice.expect("OK Registered Alice")
	if h.l.accounts["alice"] == nil || !alice.resumed() {
		t.Fatal("the account is not kept, or alice's reader did not go on")
	}

	h.send(alice, "PASSWORD correct-horse battery-staple")
	h.pumpHash() // verify
	h.pumpHash() // hash
	if len(w.accounts) != 2 {
		t.Fatalf("%d accounts submitted, want the new password too", len(w.accounts))
	}
	old := h.l.accounts["alice"].hash
	if old == w.accounts[1].Hash {
		t.Fatal("the new hash is the old one")
	}
	h.commit(errors.New("disk full"), w.take(t, 1)...)
	alice.expect("ERROR Storage failed")
	if h.l.accounts["alice"].hash != old {
		t.Fatal("a password that was not stored was taken")
	}
}

// TestLoginBucketsForgotten: an address's login bucket is forgotten once
// it is full again, so that the loop keeps state only for addresses that
// failed lately (ACCT-5).
func TestLoginBucketsForgotten(t *testing.T) {
	h := newHandLoop(t, Config{Offer: spec.ExtAccounts, Argon2: passwd.Cheap, LoginBurst: 3, LoginRate: 10})
	l := h.l
	l.debitLoginToken("192.0.2.1")
	l.debitLoginToken("192.0.2.1")
	l.debitLoginToken("192.0.2.2")
	if len(l.buckets) != 2 {
		t.Fatalf("%d buckets, want 2", len(l.buckets))
	}
	if wait := l.takeLoginToken("192.0.2.1"); wait != 0 {
		t.Fatalf("the third token of a bucket of 3 made the LOGIN wait %v", wait)
	}
	if wait := l.takeLoginToken("192.0.2.1"); wait <= 0 {
		t.Fatal("an empty bucket let a LOGIN through")
	}
	// Play the sweeps at the times they are due, as the timer would.
	for l.wakeups.Len() > 0 {
		w := heap.Pop(&l.wakeups).(wakeup)
		if w.c == nil {
			l.sweep(w.addr, w.at)
		}
	}
	if len(l.buckets) != 0 {
		t.Fatalf("%d buckets left once all were full again", len(l.buckets))
	}
}

// dueNow makes every pending wakeup of the login timer due, as if its time
// had come, and fires the timer by hand.
func (h *handLoop) dueNow() {
	for i := range h.l.wakeups {
		h.l.wakeups[i].at = 0 // all equal: still a heap
	}
	for _, b := range h.l.buckets {
		b.last -= time.Hour // the buckets have filled up meanwhile
	}
	h.l.onLoginTimer()
	h.l.settle()
}

// TestLoginPausesOnlyItsConnection: after a failed login, the connection's
// reader is paused until its delay has passed, while every other
// connection, from the same address too, is served (ACCT-5). An unknown
// name is verified against the dummy hash, so that it costs what a real
// one does.
func TestLoginPausesOnlyItsConnection(t *testing.T) {
	h := newHandLoop(t, Config{Offer: spec.ExtAccounts, Argon2: passwd.Cheap, CoalesceDelay: -1, LoginDelay: time.Hour})
	alice, bob := h.connect(), h.connect()
	h.send(alice, "CAPS accounts")
	alice.expect("OK Enabled accounts")
	h.send(alice, "LOGIN nobody correct-horse")
	if alice.task == nil || alice.task.step != stepVerify || alice.task.phc != h.l.dummyHash {
		t.Fatal("a LOGIN of an unknown name was not verified against the dummy hash")
	}
	h.pumpHash()
	alice.expect("ERROR Login failed")
	if alice.resumed() {
		t.Fatal("alice's reader went on right after her failed login")
	}
	h.barrier(bob, "not-slowed") // same address, not slowed
	h.dueNow()
	if !alice.resumed() {
		t.Fatal("alice's reader did not go on once her pause was over")
	}
}

// TestLoginWaitsForToken: a LOGIN from an address whose bucket is empty
// waits, its connection paused, until a token comes, while the others go
// on (ACCT-5); a login that succeeds gives its token back.
func TestLoginWaitsForToken(t *testing.T) {
	h := newHandLoop(t, Config{Offer: spec.ExtAccounts, Argon2: passwd.Cheap, CoalesceDelay: -1, LoginBurst: 1, LoginRate: 0.001})
	owner, alice, carol, bob := h.connect(), h.connect(), h.connect(), h.connect()
	h.send(owner, "CAPS accounts")
	owner.expect("OK Enabled accounts")
	h.send(owner, "USERNAME owner")
	owner.expect("OK Welcome, owner!")
	h.send(owner, "REGISTER correct-horse")
	h.pumpHash()
	owner.expect("OK Registered owner")
	h.send(owner, "QUIT")
	owner.expect("OK Goodbye!")

	for _, p := range []*pipeClient{alice, carol} {
		h.send(p, "CAPS accounts")
		p.expect("OK Enabled accounts")
	}
	h.send(alice, "LOGIN owner battery-staple") // takes the only token, and keeps it
	h.pumpHash()
	alice.expect("ERROR Login failed")
	h.send(carol, "LOGIN owner correct-horse")
	if carol.task == nil || carol.task.step != stepToken {
		t.Fatal("a LOGIN from an address without a token did not wait")
	}
	h.barrier(bob, "not-slowed")
	h.dueNow()
	if carol.task == nil || carol.task.step != stepVerify {
		t.Fatal("the LOGIN did not go on once a token came")
	}
	h.pumpHash()
	carol.expect("OK Welcome, owner!")
	if b := h.l.buckets["pipe"]; b != nil && b.tokens < 1 {
		t.Fatalf("a login that succeeded kept its token: %v left", b.tokens)
	}
}
