package impl

import (
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// Lines that wait for work outside the loop (doc.go, "Lines that take a
// while").
//
// A LOGIN, REGISTER or PASSWORD needs a slow hash, and with a database a
// room message, an account or a password must be committed, and a HISTORY
// read, before the line is done. The loop never waits for any of it: it
// hands the work to a pool (passwd.Pool) or to the store's Writer or
// Reader, whose Try methods never block, keeps the line as the client's
// task, and goes on with other events. The result comes back on a channel
// the loop selects on (hashedIn, committedIn, fetchedIn), tagged with the
// token the loop chose; the task takes its next step or completes then.
//
// The client's reader stays paused meanwhile, as it does for a line that
// flow control postpones: the lines the client sent after this one wait,
// other clients' lines do not (13.2), and the end of its stream, if it
// comes, is processed after the line (DISC-3).
//
// A queue that is full (a Try method reports false) neither blocks the loop
// nor loses the line: the client goes on a backlog of that queue, in
// order, and the loop submits from the front of the backlog whenever a
// result of that queue comes back, which frees room in it. A client on a
// backlog is thus paced on its own account, as LIMIT-9 allows, and nobody
// else waits for it.

// taskKind is the command a task carries out.
type taskKind uint8

const (
	taskLogin    taskKind = iota + 1 // LOGIN (ACCT-2)
	taskRegister                     // REGISTER (ACCT-1)
	taskPassword                     // PASSWORD (ACCT-4)
	taskMessage                      // a room message, with a database (HIST-5)
	taskHistory                      // HISTORY, with a database (HIST-3)
)

// step is what a task waits for.
type step uint8

const (
	stepVerify step = iota + 1 // a password verified by the pool
	stepHash                   // a password hashed by the pool
	stepStore                  // a commit of the store's Writer
	stepFetch                  // a fetch of the store's Reader
	stepToken                  // a token of its source address's login bucket (ACCT-5; logins.go)
)

// queueID names the queues outside the loop.
type queueID uint8

const (
	poolQueue queueID = iota
	writeQueue
	readQueue
	numQueues
)

// queue returns the queue s submits to.
func (s step) queue() queueID {
	switch s {
	case stepStore:
		return writeQueue
	case stepFetch:
		return readQueue
	default:
		return poolQueue
	}
}

var queueNames = [numQueues]string{poolQueue: "passwords", writeQueue: "store writes", readQueue: "store reads"}

// task is a line whose processing waits for work outside the loop. Owned
// by the loop goroutine.
type task struct {
	kind  taskKind
	step  step
	cmd   spec.Command
	token uint64 // while submitted: the token its result will carry
	// waiting: on the backlog of its step's queue, not yet submitted.
	waiting bool

	// Accounts (accounts.go).
	acct   *account // LOGIN, PASSWORD: the account verified against; nil for an unknown name
	phc    string   // the hash being verified
	secret string   // the password being verified or hashed
	name   string   // REGISTER, PASSWORD: the account's name, as registered
	hash   string   // REGISTER, PASSWORD: the new hash, once made
	addr   string   // LOGIN: the source address whose login token it holds, once taken

	// Room messages.
	room *room
	msg  *roomMsg // once submitted: the message, with its ID and time
}

// start makes t c's task and submits its first step.
func (l *loop) start(c *client, t *task) {
	c.task = t
	l.submitOrWait(c)
}

// submitOrWait submits the step of c's task, or, if its queue is full or
// others wait for it already, puts c at the back of that queue's backlog.
func (l *loop) submitOrWait(c *client) {
	q := c.task.step.queue()
	if len(l.backlog[q]) == 0 && l.submit(c) {
		return
	}
	c.task.waiting = true
	l.backlog[q] = append(l.backlog[q], c)
	if l.debugEnabled() {
		l.log.Debug("queue full; line waits", "conn", c.id, "queue", queueNames[q], "waiting", len(l.backlog[q]))
	}
}

// retry submits the tasks of q's backlog, oldest first, until the queue is
// full again. Clients closed meanwhile have dropped their task.
func (l *loop) retry(q queueID) {
	b := l.backlog[q]
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c.task == nil || !c.task.waiting {
			continue
		}
		if !l.submit(c) {
			break
		}
	}
	n := copy(b, b[i:])
	clear(b[n:])
	l.backlog[q] = b[:n]
}

// submit hands the step of c's task to its queue, reporting false if the
// queue is full. A room message gets its ID and time here (HIST-1), so
// that IDs follow the order of the Writer's commits, which is the order in
// which the messages are processed (HIST-5). A fetch selects the messages
// delivered so far (Query.Upto), and from now until its reply the output
// to c is held, so that c receives it in the order of ORDER-1.
func (l *loop) submit(c *client) bool {
	t := c.task
	tok := l.nextToken + 1
	var ok bool
	switch t.step {
	case stepVerify:
		ok = l.pool.TryVerify(t.phc, t.secret, tok)
	case stepHash:
		ok = l.pool.TryHash(t.secret, l.cfg.Argon2, tok)
	case stepStore:
		if t.kind == taskMessage {
			m := l.newMessage(t.room, c.name, t.cmd.Text)
			ok = l.writer.TryAppend(store.Message{ID: m.id, Time: m.at, Room: m.room, User: m.user, Text: m.text}, tok)
			if ok {
				l.lastID, l.lastTime = m.id, m.at
				t.msg = m
			}
		} else {
			ok = l.writer.TryPut(store.Account{Name: t.name, Hash: t.hash}, tok)
			if ok {
				l.putPending[spec.Fold(t.name)]++
			}
		}
	case stepFetch:
		q := store.Query{Room: t.cmd.Arg, Before: t.cmd.Before, Upto: l.lastStored, Limit: t.cmd.Limit, Now: l.cfg.Now()}
		ok = l.reader.TryFetch(q, tok)
		if ok {
			c.holding = true
		}
	}
	if ok {
		l.nextToken = tok
		t.token, t.waiting = tok, false
		l.tasks[tok] = c
	}
	return ok
}

// claim returns the client whose task waits for token, forgetting the
// token, or nil.
func (l *loop) claim(token uint64) *client {
	c := l.tasks[token]
	if c == nil {
		return nil
	}
	delete(l.tasks, token)
	if c.task == nil || c.task.token != token {
		return nil
	}
	return c
}

// finish completes c's task: the line is done, and c's reader may read
// the next one, unless a failed login holds it back (logins.go).
func (l *loop) finish(c *client) {
	c.task = nil
	l.resumeIfFree(c)
}

// resumeIfFree lets c go on if c is still read, has no task and is not
// paused after a failed login: with the next line of the reader's batch,
// or of the lines its reader holds already complete (takeBuffered), when
// the turn settles; or else by resuming the reader.
func (l *loop) resumeIfFree(c *client) {
	if !c.reading() || c.task != nil || c.pauseUntil != 0 {
		return
	}
	if len(c.more) > 0 || l.takeBuffered(c) {
		if !c.moreListed {
			c.moreListed = true
			l.lined = append(l.lined, c)
		}
		return
	}
	c.readerWaits = false
	c.resume()
}

// dropTask abandons c's task as c closes, unless it is submitted: a
// submitted task still receives its result, which changes the accounts if
// it stored one, and delivers nothing (HIST-5).
func (l *loop) dropTask(c *client) {
	c.holding, c.held = false, nil
	if t := c.task; t != nil && (t.waiting || t.step == stepToken) {
		l.abandon(c)
	}
}

// abandon forgets c's task, giving back the login token it holds.
func (l *loop) abandon(c *client) {
	if t := c.task; t != nil && t.addr != "" {
		l.refundLoginToken(t.addr)
	}
	c.task = nil
}

// onHashed handles a result of the password pool.
func (l *loop) onHashed(r passwd.Result) {
	l.retry(poolQueue)
	c := l.claim(r.Token)
	if c == nil {
		return
	}
	if c.phase == phaseClosed {
		l.abandon(c)
		return
	}
	l.actor = c
	t := c.task
	switch {
	case t.kind == taskLogin:
		l.loginVerified(c, r)
	case t.kind == taskRegister:
		l.registerHashed(c, r)
	case t.step == stepVerify:
		l.passwordVerified(c, r)
	default:
		l.passwordHashed(c, r)
	}
	l.actor = nil
}

// onCommitted handles a batch the Writer committed, or failed to: each of
// its operations completes as one item of ORDER-1, in the order they were
// submitted.
func (l *loop) onCommitted(b store.Committed) {
	l.retry(writeQueue)
	if b.Err != nil {
		l.log.Error("store write failed", "err", b.Err, "operations", len(b.Tokens))
	}
	for _, tok := range b.Tokens {
		c := l.claim(tok)
		if c == nil {
			continue
		}
		l.committed(c, b.Err)
		l.settleItems()
	}
}

// committed completes c's task, whose operation the Writer committed (err
// nil) or failed to store.
func (l *loop) committed(c *client, err error) {
	t := c.task
	if t.kind != taskMessage {
		l.accountStored(c, err)
		return
	}
	if err == nil {
		l.lastStored = t.msg.id // commits come in the order of IDs
	}
	if c.phase == phaseClosed {
		c.task = nil // a slow consumer, dropped meanwhile: nobody hears of it (7 in doc.go)
		return
	}
	l.actor = c
	if err != nil {
		l.reply(c, spec.ErrorLine(spec.ErrStorageFailed))
	} else {
		l.deliver(t.room, t.msg)
	}
	l.actor = nil
	l.finish(c)
}

// onFetched handles a fetch of the Reader: the reply to a HISTORY.
func (l *loop) onFetched(f store.Fetched) {
	l.retry(readQueue)
	c := l.claim(f.Token)
	if c == nil {
		return
	}
	if c.phase == phaseClosed {
		c.task = nil
		return
	}
	l.actor = c
	held := c.held.take()
	c.holding, c.held = false, nil
	if f.Err != nil {
		l.log.Error("store read failed", "conn", c.id, "err", f.Err)
		l.reply(c, spec.ErrorLine(spec.ErrStorageFailed))
	} else {
		l.replyHistory(c, c.task.cmd.Arg, f.Messages)
	}
	for _, line := range held {
		l.send(c, line)
	}
	l.actor = nil
	l.finish(c)
}

// heldLines are the lines held for a client while its HISTORY fetch is in
// flight, and their bytes.
type heldLines struct {
	lines [][]byte
	bytes int
}

// take returns the lines of h, which may be nil.
func (h *heldLines) take() [][]byte {
	if h == nil {
		return nil
	}
	return h.lines
}

// size returns the bytes of h, which may be nil.
func (h *heldLines) size() int {
	if h == nil {
		return 0
	}
	return h.bytes
}

// hold queues line to c, which waits for a fetch, after the reply to come:
// what other items queue to c meanwhile follows the HISTORY lines, as
// ORDER-1 places it. It counts against MaxQueueBytes as queued output.
func (l *loop) hold(c *client, line []byte) {
	if c.out.pendingBytes()+c.held.size()+len(line) > l.cfg.MaxQueueBytes {
		l.doom(c, closeCause{reason: SlowConsumer, detail: "output queue over MaxQueueBytes"})
		return
	}
	if c.held == nil {
		c.held = new(heldLines)
	}
	c.held.lines = append(c.held.lines, line)
	c.held.bytes += len(line)
}

// releaseHeld queues what was held for c, without the reply it waited for:
// the shutdown abandons the fetch.
func (l *loop) releaseHeld(c *client) {
	held := c.held.take()
	c.holding, c.held = false, nil
	for _, line := range held {
		l.send(c, line)
	}
}
