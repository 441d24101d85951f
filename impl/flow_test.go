package impl_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestSlowConsumer: a member that never reads, in a room where others
// chat, is disconnected as a slow consumer without a further line, with a
// reset (LIMIT-4, LIMIT-8), its room hears LEAVE, and the others — who read
// — are not disconnected and receive every line, in order (LIMIT-10,
// ORDER-2). The others talk in rounds, each smaller than the queue, with a
// barrier after each: what the readers have not yet read stays within
// their queues.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	var log logBuffer
	ts := startServer(t, impl.Config{
		MaxQueueBytes: 64 << 10,
		WriteTimeout:  300 * time.Millisecond,
		Logger:        log.logger(),
	})
	slow := ts.dial(t, "slow")
	slow.join("slow", "#busy")
	r := &room{t: t, name: "#busy", sent: map[string]int{}}
	names := []string{"slow"}
	for i := range 3 {
		c := ts.dial(t, fmt.Sprintf("s%d", i))
		enterRoom(c, c.label, r.name, r.members, names) // slow reads nothing
		names = append(names, c.label)
		r.members = append(r.members, c)
	}
	for _, c := range r.members {
		c.follow(r.name, names...)
		c.watch("slow")
	}

	// Rounds of 20 lines from each sender, until slow's LEAVE has reached
	// every reader.
	start := time.Now()
	for round := 0; ; round++ {
		left := 0
		for _, c := range r.members {
			left += c.notesOf("slow").leaves
		}
		if left == len(r.members) {
			break
		}
		if time.Since(start) > failAfter {
			t.Fatalf("slow not dropped after %d rounds in %v", round, time.Since(start))
		}
		for i := range r.members {
			r.say(i, 20, 400)
		}
		syncAll(r.members...)
	}
	r.check(nil)
	t.Logf("slow was dropped after %v; the senders sent %v lines", time.Since(start), r.sent)

	// slow got ROOM and JOIN lines only, then the reset.
	for {
		line, err := slow.readLine()
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("slow: want the connection reset (LIMIT-8), got %v", err)
			}
			break
		}
		if !strings.HasPrefix(line, "ROOM "+r.name+" ") && !strings.HasPrefix(line, "JOIN "+r.name+" ") {
			t.Fatalf("slow got %q", line)
		}
	}
	if l := log.String(); !strings.Contains(l, "user=slow reason=slow-consumer") {
		t.Errorf("log does not show slow's close as slow-consumer:\n%s", l)
	}
	if l := log.String(); strings.Count(l, "msg=disconnect") != 1 {
		t.Errorf("want exactly one disconnect:\n%s", l)
	}
}

// TestBurst: many clients send many lines at once into one room while all
// of them read: about 0.5 MB to each, less than the queue. Nothing is lost
// and nobody is disconnected (LIMIT-10).
func TestBurst(t *testing.T) {
	t.Parallel()
	const (
		n     = 20
		lines = 200
	)
	var log logBuffer
	ts := startServer(t, impl.Config{Logger: log.logger()})
	r := newRoom(t, ts, "#burst", "c", n)
	var wg sync.WaitGroup
	for _, c := range r.members {
		wg.Go(func() {
			c.conn.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := c.conn.Write(messages(c.label, 0, lines, 100)); err != nil {
				t.Errorf("%s: %v", c.label, err)
			}
		})
	}
	wg.Wait()
	for _, c := range r.members {
		r.sent[c.label] = lines
	}
	r.check(nil)
	if strings.Contains(log.String(), "msg=disconnect") {
		t.Errorf("a client was disconnected:\n%s", log.String())
	}
}

// TestFairReading: a client flooding the server cannot starve another's
// lines (LIMIT-6): a PING sent while the flood is under way is answered
// long before the flood has been delivered. The flood is a few hundred
// milliseconds of the server's work even on a fast machine: with 20,000
// lines a loaded machine could take longer for b's round trip than the
// server for the whole flood.
func TestFairReading(t *testing.T) {
	t.Parallel()
	const flood = 200000
	ts := startServer(t, impl.Config{})
	r := newRoom(t, ts, "#f", "m", 2)
	a, watcher := r.members[0], r.members[1]
	b := ts.dial(t, "b")

	go func() {
		a.conn.SetWriteDeadline(time.Now().Add(failAfter))
		a.conn.Write(messages(a.label, 0, flood, 10))
	}()
	r.sent[a.label] = flood
	// Wait until the flood is being delivered, then ask b's question.
	for watcher.received(a.label) == 0 {
		watcher.sync()
	}
	b.sync()
	if got := watcher.received(a.label); got >= flood {
		t.Errorf("b's PING was answered only after all %d flood lines", got)
	} else {
		t.Logf("b's PING was answered after %d of %d flood lines", got, flood)
	}
	// Let the flood finish before the test's clients close.
	for watcher.received(a.label) < flood {
		watcher.sync()
	}
	r.check(nil)
}
