package impl

import (
	"container/heap"
	"net"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Failed logins are slowed, never refused (ACCT-5).
//
// After the n-th failed login of a connection (a reply "ERROR Login
// failed" or "ERROR Wrong password"), the loop does not resume its reader
// until LoginDelay·2^(n−1), at most LoginDelayMax, has passed since the
// reply was queued: the connection's next line is not even read before.
//
// Each source address (the IP, whatever the port) has a token bucket of
// LoginBurst tokens that gains LoginRate tokens a second. A LOGIN takes a
// token before its password is verified and gives it back unless the
// login fails, so that LOGINs from one address in flight at once cannot
// together overdraw it; a LOGIN from an address whose bucket is empty
// waits, its reader paused, until a token is there. A failed PASSWORD
// takes a token too. An address whose bucket is full again is forgotten,
// so the loop holds state only for addresses that failed within the last
// LoginBurst/LoginRate seconds.
//
// Neither pause holds anything else up: other connections' lines, from
// the same address included, are read as usual. Both run on one timer
// (loginTimer) for the earliest of the moments in the wakeups heap:
// a connection's pause ending, a LOGIN's token coming, or an address's
// bucket being full. The times are readings of now(), the monotonic clock.

// loginBucket is the token bucket of one source address.
type loginBucket struct {
	tokens float64
	last   time.Duration // when tokens was brought up to date
	swept  bool          // a wakeup for its sweep is on the heap
}

// wakeup is an entry of the loop's wakeups heap: for a client (c set), a
// pause or a wait for a token that ends, valid if gen is still c.wakeGen;
// otherwise the sweep of the bucket of addr.
type wakeup struct {
	at   time.Duration
	c    *client
	gen  uint32
	addr string
}

// wakeups is a min-heap of wakeup by at.
type wakeups []wakeup

func (h wakeups) Len() int           { return len(h) }
func (h wakeups) Less(i, j int) bool { return h[i].at < h[j].at }
func (h wakeups) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *wakeups) Push(x any)        { *h = append(*h, x.(wakeup)) }
func (h *wakeups) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = wakeup{}
	*h = old[:len(old)-1]
	return w
}

// sourceAddr returns the address a connection comes from, without its
// port: the key of its login bucket.
func sourceAddr(c *client) string {
	addr := c.remote()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// bucketAt returns addr's bucket brought up to t, or nil if it is full.
func (l *loop) bucketAt(addr string, t time.Duration) *loginBucket {
	b := l.buckets[addr]
	if b == nil {
		return nil
	}
	b.tokens = min(float64(l.cfg.LoginBurst), b.tokens+(t-b.last).Seconds()*l.cfg.LoginRate)
	b.last = t
	return b
}

// takeLoginToken takes a token of addr's bucket and returns 0, or, if it
// holds none, takes nothing and returns how long until it will.
func (l *loop) takeLoginToken(addr string) time.Duration {
	t := now()
	b := l.bucketAt(addr, t)
	if b != nil && b.tokens < 1 {
		return time.Duration((1-b.tokens)/l.cfg.LoginRate*float64(time.Second)) + 1
	}
	l.debitAt(addr, b, t)
	return 0
}

// debitLoginToken takes a token of addr's bucket if it has one: a failed
// login that did not wait for one (ACCT-4's "Wrong password").
func (l *loop) debitLoginToken(addr string) {
	t := now()
	if b := l.bucketAt(addr, t); b == nil || b.tokens >= 1 {
		l.debitAt(addr, b, t)
	}
}

// debitAt takes a token of addr's bucket b (nil: full), brought up to t,
// and makes sure its sweep is due.
func (l *loop) debitAt(addr string, b *loginBucket, t time.Duration) {
	if b == nil {
		b = &loginBucket{tokens: float64(l.cfg.LoginBurst), last: t}
		l.buckets[addr] = b
	}
	b.tokens--
	if !b.swept {
		b.swept = true
		l.wake(wakeup{at: l.fullAt(b), addr: addr})
	}
}

// refundLoginToken gives back the token a LOGIN took, which did not fail.
func (l *loop) refundLoginToken(addr string) {
	if addr == "" {
		return
	}
	if b := l.bucketAt(addr, now()); b != nil {
		b.tokens = min(float64(l.cfg.LoginBurst), b.tokens+1)
	}
}

// fullAt returns when b will be full, as a now() reading.
func (l *loop) fullAt(b *loginBucket) time.Duration {
	missing := float64(l.cfg.LoginBurst) - b.tokens
	return b.last + time.Duration(missing/l.cfg.LoginRate*float64(time.Second)) + 1
}

// loginDelay returns the pause after the n-th failed login of a
// connection: LoginDelay·2^(n−1), at most LoginDelayMax.
func (l *loop) loginDelay(n int) time.Duration {
	d := l.cfg.LoginDelay
	for i := 1; i < n && d < l.cfg.LoginDelayMax; i++ {
		d *= 2
	}
	return min(d, l.cfg.LoginDelayMax)
}

// loginFailed answers c's failed login with text, completes its task, and
// pauses its reader (ACCT-5). name is the name it tried, for the log.
func (l *loop) loginFailed(c *client, text, name string) {
	l.reply(c, spec.ErrorLine(text))
	c.failures++
	d := l.loginDelay(c.failures)
	c.pauseUntil = now() + d
	l.wakeAt(c, c.pauseUntil)
	l.log.Info("login failed", "conn", c.id, "remote", c.remote(), "user", name, "reply", text, "failures", c.failures, "pause", d)
	c.task.addr = "" // the failure keeps the token
	l.finish(c)
}

// wakeAt has the loop wake c at t (a now() reading), superseding any
// earlier wakeup of c.
func (l *loop) wakeAt(c *client, t time.Duration) {
	c.wakeGen++
	l.wake(wakeup{at: t, c: c, gen: c.wakeGen})
}

// wake puts w on the heap and makes sure the timer fires by w.at.
func (l *loop) wake(w wakeup) {
	heap.Push(&l.wakeups, w)
	if l.loginArmed && w.at >= l.loginAt {
		return
	}
	l.loginArmed, l.loginAt = true, w.at
	l.loginTimer.Reset(max(0, w.at-now()))
}

// onLoginTimer handles every wakeup that is due, then arms the timer for
// the next.
func (l *loop) onLoginTimer() {
	l.loginArmed = false
	t := now()
	for len(l.wakeups) > 0 && l.wakeups[0].at <= t {
		w := heap.Pop(&l.wakeups).(wakeup)
		if w.c == nil {
			l.sweep(w.addr, t)
			continue
		}
		c := w.c
		if w.gen != c.wakeGen || !c.reading() {
			continue
		}
		if c.task != nil && c.task.step == stepToken {
			l.actor = c
			l.loginStart(c) // try again for a token
			l.actor = nil
		} else {
			c.pauseUntil = 0
			l.resumeIfFree(c)
		}
		l.settleItems()
	}
	if len(l.wakeups) > 0 {
		next := l.wakeups[0].at
		l.loginArmed, l.loginAt = true, next
		l.loginTimer.Reset(max(0, next-now()))
	}
}

// sweep forgets addr's bucket if it is full at t, or looks again when it
// will be.
func (l *loop) sweep(addr string, t time.Duration) {
	b := l.bucketAt(addr, t)
	if b == nil {
		return
	}
	if b.tokens >= float64(l.cfg.LoginBurst) {
		delete(l.buckets, addr)
		return
	}
	heap.Push(&l.wakeups, wakeup{at: l.fullAt(b), addr: addr})
}
