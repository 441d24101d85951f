package modelserver

import (
	"net"
	"time"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// Failed logins are slowed (ACCT-5) by time, which the model, a function
// of its inputs, leaves to the server: after the n-th failed login of a
// connection its reader processes no further line until LoginDelay ×
// 2^(n-1), at most LoginDelayMax, has passed since the reply; and a LOGIN
// from a source address whose token bucket is empty waits until the bucket
// holds a token, which each failed login takes. The waits are the
// reader's, outside the lock: no other connection waits for them.

// loginLimits are the settings of ACCT-5, the defaults of PROTOCOL.md 13
// unless flags change them.
type loginLimits struct {
	delay, delayMax time.Duration
	burst, rate     float64 // tokens; tokens a second
}

// defaultLoginLimits are the defaults of PROTOCOL.md section 13.
var defaultLoginLimits = loginLimits{delay: 100 * time.Millisecond, delayMax: 5 * time.Second, burst: 20, rate: 1}

// loginState is what the pacing of failed logins remembers. Owned by mu.
type loginState struct {
	failures map[model.ClientID]int       // failed logins of each connection
	hold     map[model.ClientID]time.Time // no line of the connection before then
	buckets  map[string]*bucket           // by source address
}

// A bucket is the token bucket of one source address.
type bucket struct {
	tokens float64
	at     time.Time // when tokens was counted
}

// refill adds the tokens gained since b.at, up to burst.
func (b *bucket) refill(l loginLimits, now time.Time) {
	b.tokens = min(l.burst, b.tokens+l.rate*now.Sub(b.at).Seconds())
	b.at = now
}

// bucket returns the bucket of the address of c, full if new; s.mu is
// held.
func (s *Server) bucket(c net.Conn) *bucket {
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		host = c.RemoteAddr().String()
	}
	if s.logins.buckets == nil {
		s.logins.buckets = map[string]*bucket{}
	}
	b := s.logins.buckets[host]
	if b == nil {
		b = &bucket{tokens: s.limits.burst, at: time.Now()}
		s.logins.buckets[host] = b
	}
	return b
}

// isLogin reports whether line, from id, is a LOGIN command on its
// connection; s.mu is held.
func (s *Server) isLogin(id model.ClientID, line string) bool {
	w := spec.Words{Caps: s.st.Name(id) == "" && s.st.Offered() != 0, Ext: s.st.Enabled(id)}
	cmd, err := spec.ParseCommandWith(line, w)
	return err == nil && cmd.Kind == spec.Login
}

// loginPause is how long the reader of c (id) must wait yet before it
// processes the line ev: for the connection's own failed logins, then, for
// a LOGIN, for a token of its address's bucket; s.mu is held.
func (s *Server) loginPause(id model.ClientID, c net.Conn, ev model.Event) time.Duration {
	if ev.Kind != model.Line {
		return 0
	}
	now := time.Now()
	if wait := s.logins.hold[id].Sub(now); wait > 0 {
		return wait
	}
	if !s.isLogin(id, ev.Line) {
		return 0
	}
	b := s.bucket(c)
	b.refill(s.limits, now)
	if b.tokens >= 1 || s.limits.rate <= 0 {
		return 0
	}
	return time.Duration((1 - b.tokens) / s.limits.rate * float64(time.Second))
}

// waitLogin waits, in slices so that a connection closed meanwhile ends
// the wait, until the line ev of c (id) may be processed. It reports
// whether the connection is still open.
func (s *Server) waitLogin(id model.ClientID, c net.Conn, ev model.Event) bool {
	for {
		s.mu.Lock()
		_, open := s.conns[id]
		wait := time.Duration(0)
		if open {
			wait = s.loginPause(id, c, ev)
		}
		s.mu.Unlock()
		if !open {
			return false
		}
		if wait <= 0 {
			return true
		}
		time.Sleep(min(wait, 20*time.Millisecond))
	}
}

// noteLogins counts the failed logins among the outputs of one event of
// id (ACCT-5: a reply ERROR Login failed or ERROR Wrong password); s.mu is
// held.
func (s *Server) noteLogins(id model.ClientID, outs []model.Output) {
	c, ok := s.conns[id]
	if !ok {
		return
	}
	for _, o := range outs {
		if o.To != id || o.Close || (o.Line != "ERROR "+spec.ErrLoginFailed && o.Line != "ERROR "+spec.ErrWrongPassword) {
			continue
		}
		if s.logins.failures == nil {
			s.logins.failures, s.logins.hold = map[model.ClientID]int{}, map[model.ClientID]time.Time{}
		}
		s.logins.failures[id]++
		n := s.logins.failures[id]
		delay := s.limits.delayMax
		if n-1 < 32 && s.limits.delay<<(n-1) < s.limits.delayMax && s.limits.delay<<(n-1) > 0 {
			delay = s.limits.delay << (n - 1)
		}
		now := time.Now()
		s.logins.hold[id] = now.Add(delay)
		b := s.bucket(c)
		b.refill(s.limits, now)
		b.tokens--
	}
}

// forget drops what the pacing remembers of a connection that is over;
// s.mu is held.
func (s *Server) forget(id model.ClientID) {
	delete(s.logins.failures, id)
	delete(s.logins.hold, id)
}
