package impl_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The slowing of failed logins (ACCT-5), seen from clients. Only lower
// bounds are asserted: a loaded machine may always be slower. That the
// pauses hold nobody else up is shown on a loop driven by hand
// (logins_internal_test.go).

// TestLoginDelay: after the n-th failed login of a connection, its next
// line is answered no sooner than LoginDelay·2^(n−1), at most
// LoginDelayMax, after the failure; a LOGIN and a PING sent at once show
// it, "LOGIN" with a wrong password as with an unknown name, and
// "PASSWORD" with a wrong old password.
func TestLoginDelay(t *testing.T) {
	t.Parallel()
	const delay, most = 40 * time.Millisecond, 100 * time.Millisecond
	cfg := extConfig()
	cfg.LoginDelay, cfg.LoginDelayMax = delay, most
	ts := startServer(t, cfg)
	owner := ts.dial(t, "owner")
	owner.send("CAPS accounts")
	owner.expect("OK Enabled accounts")
	owner.send("USERNAME owner")
	owner.expect("OK Welcome, owner!")
	owner.send("REGISTER correct-horse")
	owner.expect("OK Registered owner")

	c := ts.dial(t, "guesser")
	c.send("CAPS accounts")
	c.expect("OK Enabled accounts")
	for i, try := range []struct {
		line  string
		pause time.Duration
	}{
		{"LOGIN nobody correct-horse", delay},
		{"LOGIN owner battery-staple", 2 * delay},
		{"LOGIN owner battery-staple", most}, // 4·delay is over most
		{"LOGIN owner battery-staple", most},
	} {
		start := time.Now()
		c.write([]byte(try.line + "\r\nPING " + try.line[:5] + "\r\n"))
		c.expect("ERROR Login failed", "PONG "+try.line[:5])
		if took := time.Since(start); took < try.pause {
			t.Errorf("failure %d: the next line was answered after %v, before the pause of %v", i+1, took, try.pause)
		}
	}

	// A wrong old password is a failed login too, and this connection's first.
	start := time.Now()
	owner.write([]byte("PASSWORD battery-staple another-one\r\nPING after\r\n"))
	owner.expect("ERROR Wrong password", "PONG after")
	if took := time.Since(start); took < delay {
		t.Errorf("after a wrong password the next line was answered after %v, before the pause of %v", took, delay)
	}
}

// TestLoginBucket: failed logins from one source address take tokens of
// its bucket, and once it is empty a LOGIN waits for the next token, on
// any connection from that address: with LoginBurst 2 and LoginRate 4/s,
// a third LOGIN is answered no sooner than 1/4 s after the first began.
func TestLoginBucket(t *testing.T) {
	t.Parallel()
	const rate = 4.0
	cfg := extConfig()
	cfg.LoginBurst, cfg.LoginRate = 2, rate
	ts := startServer(t, cfg)
	var first time.Time
	for i, name := range []string{"a", "b", "c"} {
		c := ts.dial(t, name)
		c.send("CAPS accounts")
		c.expect("OK Enabled accounts")
		if i == 0 {
			first = time.Now()
		}
		c.send("LOGIN nobody correct-horse")
		c.expect("ERROR Login failed")
	}
	if took, least := time.Since(first), time.Duration(float64(time.Second)/rate); took < least {
		t.Fatalf("three failed logins from one address took %v, less than a token's %v", took, least)
	}
}

// TestLoginLog: accounts log their events with the name and the remote
// address, never a password (ACCT-6), not even in the debug record of
// each line.
func TestLoginLog(t *testing.T) {
	t.Parallel()
	var log logBuffer
	cfg := extConfig()
	cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := startServer(t, cfg)
	alice := ts.dial(t, "alice")
	alice.send("CAPS accounts")
	alice.expect("OK Enabled accounts")
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	alice.send("REGISTER first-secret")
	alice.expect("OK Registered alice")
	alice.send("PASSWORD wrong-secret second-secret")
	alice.expect("ERROR Wrong password")
	alice.send("PASSWORD first-secret second-secret")
	alice.expect("OK Password changed")
	bob := ts.dial(t, "bob")
	bob.send("CAPS accounts")
	bob.expect("OK Enabled accounts")
	bob.send("LOGIN alice third-secret")
	bob.expect("ERROR Login failed")
	alice.send("QUIT")
	alice.expect("OK Goodbye!")
	alice.expectClosed()
	bob.send("LOGIN alice second-secret")
	bob.expect("OK Welcome, alice!")
	bob.sync()

	got := log.String()
	for _, want := range [][]string{
		{"msg=register", "user=alice", "remote=127.0.0.1:"},
		{`msg="login failed"`, "user=alice", `reply="Wrong password"`},
		{`msg="password changed"`, "user=alice"},
		{`msg="login failed"`, "user=alice", `reply="Login failed"`, "failures=1"},
		{"msg=login", "user=alice", "remote=127.0.0.1:"},
		{"msg=line", `line="LOGIN (password redacted)"`},
	} {
		if !logged(got, want...) {
			t.Errorf("no record with %q in the log:\n%s", want, got)
		}
	}
	for _, secret := range []string{"first-secret", "second-secret", "third-secret", "wrong-secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("the log holds the password %q:\n%s", secret, got)
		}
	}
}
