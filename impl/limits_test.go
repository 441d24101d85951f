package impl_test

import (
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestMaxClients: a connection beyond MaxClients gets "ERROR Server full"
// and is closed, the others are undisturbed, and a slot freed by QUIT or
// by a disconnect can be taken (LIMIT-1, LIMIT-2).
func TestMaxClients(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{MaxClients: 3, Logger: log.logger()})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	carol := ts.dial(t, "carol") // NEW connections count too
	carol.sync()

	// Refused, even one that speaks at once; twice over.
	for range 2 {
		dave := ts.dial(t, "dave")
		dave.send("USERNAME dave")
		dave.expect("ERROR " + spec.ErrServerFull)
		dave.expectClosed()
	}
	alice.send("still here")
	alice.expect("ROOM #r alice still here")
	bob.expect("ROOM #r alice still here")

	// QUIT frees a slot by the time its goodbye arrives.
	carol.send("QUIT")
	carol.expect("OK Goodbye!")
	dave := ts.dial(t, "dave")
	dave.send("USERNAME dave")
	dave.expect("OK Welcome, dave!")

	// A disconnect frees the slot by the time its LEAVE is seen.
	erin := ts.dial(t, "erin")
	erin.expect("ERROR " + spec.ErrServerFull)
	erin.expectClosed()
	bob.conn.Close()
	alice.expect("LEAVE #r bob")
	erin = ts.dial(t, "erin")
	erin.send("USERNAME bob")
	erin.expect("OK Welcome, bob!")
	alice.sync()
	if got := strings.Count(log.String(), "reason=server-full"); got != 3 {
		t.Errorf("%d refusals logged, want 3", got)
	}
}

// TestIdleTimeout: a connection that sends no line for IdleTimeout gets
// "ERROR Idle timeout" and is closed, its room hears LEAVE; PING and empty
// lines keep a connection alive (LIMIT-7, FRAME-6).
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	const idle = 1500 * time.Millisecond
	ts := startServer(t, impl.Config{IdleTimeout: idle})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	bob := ts.dial(t, "bob")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	carol := ts.dial(t, "carol")
	carol.join("carol", "#other")
	dave := ts.dial(t, "dave") // connected last; says nothing at all, in NEW

	// bob pings and carol sends empty lines, often, while alice and dave
	// say nothing.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(idle / 15)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				bob.conn.Write([]byte("PING\r\n"))
				carol.conn.Write([]byte("\r\n"))
			}
		}
	}()
	start := time.Now()
	alice.expect("ERROR " + spec.ErrIdleTimeout)
	alice.expectClosed()
	if d := time.Since(start); d < idle*8/10 {
		t.Errorf("alice timed out after %v, before %v", d, idle)
	}
	// dave connected after bob and carol, so once dave has timed out, bob
	// and carol would have too, had their lines not counted.
	dave.expect("ERROR " + spec.ErrIdleTimeout)
	dave.expectClosed()
	close(stop)
	<-done

	// bob: PONGs, the LEAVE among them, then the PONG of a barrier.
	bob.send("PING fin")
	leave := false
	for {
		line, err := bob.readLine()
		switch {
		case err != nil:
			t.Fatal(err)
		case line == "LEAVE #r alice" && !leave:
			leave = true
			continue
		case line == "PONG":
			continue
		case line == "PONG fin" && leave:
		default:
			t.Fatalf("bob got %q", line)
		}
		break
	}
	carol.sync()
	bob.send("USERS")
	bob.expect("USERLIST bob")
}

// TestQueueCap: output beyond MaxQueueBytes that cannot be held back makes
// its client a slow consumer at once, even one that reads: here a JOIN whose
// roster and history alone exceed the cap. It is closed without a further
// line, abortively (LIMIT-8), and its room hears LEAVE (LIMIT-4).
func TestQueueCap(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{MaxQueueBytes: 2000, Logger: log.logger()})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#big")
	text := strings.Repeat("h", 300)
	for range spec.HistoryLen {
		alice.send(text)
		alice.expect("ROOM #big alice " + text)
	}
	bob := ts.dial(t, "bob")
	bob.send("USERNAME bob")
	bob.expect("OK Welcome, bob!")
	bob.send("JOIN #big")
	bob.expectReset()
	alice.expect("JOIN #big bob", "LEAVE #big bob")
	alice.sync()
	if !strings.Contains(log.String(), `user=bob reason=slow-consumer detail="output queue over MaxQueueBytes"`) {
		t.Errorf("bob's close not logged as a slow consumer:\n%s", log.String())
	}
}
