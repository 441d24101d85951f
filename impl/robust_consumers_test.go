package impl_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestRobustNeverReaders: members of a busy room that never read are slow
// consumers: each is closed abortively, without a further line, once its
// queue passes MaxQueueBytes or its socket has accepted nothing for
// WriteTimeout, and the room hears LEAVE (LIMIT-4, LIMIT-8). Their receive
// buffers differ, so they stall one after the other. Meanwhile the members
// who read receive every line, in order, and nobody else is dropped
// (LIMIT-10): m0 talks in bursts smaller than the queue, which the readers
// absorb; the server holds at most about MaxQueueBytes for each of them.
func TestRobustNeverReaders(t *testing.T) {
	const (
		maxQueue     = 64 * KiB
		writeTimeout = 250 * time.Millisecond
		pad          = 400
	)
	k := size(3, 40)
	ts, log := startLogged(t, impl.Config{MaxQueueBytes: maxQueue, WriteTimeout: writeTimeout})
	r := newRoom(t, ts, "#busy", "m", 3)
	b := newBounds(t, "never-readers")

	var stuck []*testClient
	for _, m := range r.members {
		for i := range k {
			m.watch(fmt.Sprintf("x%d", i))
		}
	}
	for i := range k {
		name := fmt.Sprintf("x%d", i)
		c := ts.dialRcvBuf(t, name, 4*KiB<<(i%6))
		c.write([]byte("USERNAME " + name + "\r\nJOIN #busy\r\nPING joined\r\n"))
		c.readUntil("PONG joined")
		stuck = append(stuck, c)
	}
	r.sync()

	// m0 floods until every one of them has been dropped; the others read.
	start := time.Now()
	var (
		peak    resources
		dropped int
		sent    int
	)
	for dropped < k {
		if time.Since(start) > failAfter || sent > 1_000_000 {
			t.Fatalf("after %d lines in %v, only %d of %d non-readers were dropped\n%s", sent, time.Since(start), dropped, k, log.String())
		}
		r.say(0, 100, pad)
		r.sync()
		sent += 100
		if sent%2000 == 0 {
			if s := sample(); s.heap > peak.heap {
				peak = s
			}
		}
		dropped = 0
		for i := range k {
			if r.members[1].notesOf(fmt.Sprintf("x%d", i)).leaves > 0 {
				dropped++
			}
		}
	}
	var when []time.Duration
	for i := range k {
		when = append(when, r.members[1].notesOf(fmt.Sprintf("x%d", i)).leftAt.Sub(start).Round(time.Millisecond))
	}
	t.Logf("%d non-readers dropped %v after the flood began (%d lines of %d bytes sent by then; WriteTimeout %v)", k, when, sent, pad+20, writeTimeout)
	dh := delta(peak.heap, b.base.heap)
	t.Logf("bounds never-readers: %d stalled connections: peak heap %+d KiB (%d B/conn; MaxQueueBytes %d)", k, dh/KiB, dh/int64(k), maxQueue)
	if limit := int64(k)*(maxQueue+64*KiB) + heapSlack; dh > limit {
		t.Errorf("the heap grew by %d KiB with %d stalled clients, more than MaxQueueBytes+64 KiB each", dh/KiB, k)
	}

	// Everything they got is the room's traffic, then the reset (LIMIT-8),
	// with no error line; the last line may be cut short where the write
	// stalled.
	for i, c := range stuck {
		c.conn.SetReadDeadline(time.Now().Add(failAfter))
		data, err := io.ReadAll(c.r)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("x%d: want the connection reset (LIMIT-8), got %v", i, err)
		}
		lines := strings.Split(string(data), "\r\n")
		for _, l := range lines[:len(lines)-1] {
			if strings.HasPrefix(l, "ERROR") {
				t.Errorf("x%d got %q before the close", i, l)
			}
		}
	}
	r.check(nil)
	for _, m := range r.members {
		for i := range k {
			if n := m.notesOf(fmt.Sprintf("x%d", i)); n.joins != 1 || n.leaves != 1 {
				t.Errorf("%s saw %d JOIN and %d LEAVE notes of x%d, want 1 and 1", m.label, n.joins, n.leaves, i)
			}
		}
	}
	if got := log.count("reason=slow-consumer"); got != k {
		t.Errorf("%d slow consumers logged, want %d:\n%s", got, k, log.String())
	}
	for _, c := range stuck {
		c.conn.Close()
	}
	b.after(k)
	servedNow(t, ts, "newcomer")
}

// throttled reads from r at most rate bytes a second, in small reads: a
// client that reads, but slowly.
type throttled struct {
	r    io.Reader
	rate int
}

func (t throttled) Read(p []byte) (int, error) {
	p = p[:min(len(p), t.rate/100)]
	n, err := t.r.Read(p)
	time.Sleep(time.Duration(n) * time.Second / time.Duration(t.rate))
	return n, err
}

// TestRobustSlowReader: a member that reads, but slowly, is not dropped
// merely because another sends fast, as long as what it has not yet read
// stays within its queue (LIMIT-10): m0 sends bursts of about 800 KB, as
// fast as the server takes them, to a member that reads 2 MB a second
// through a small receive buffer, with a short write timeout. Everyone
// receives every line, in order.
func TestRobustSlowReader(t *testing.T) {
	const (
		maxQueue = 1 * MiB
		pad      = 400
		rate     = 2 * MiB // bytes a second
		burst    = 2000    // lines of about 420 bytes
	)
	lines := size(6000, 200000) // about 2.5 MB by default
	ts, log := startLogged(t, impl.Config{MaxQueueBytes: maxQueue, WriteTimeout: 500 * time.Millisecond})
	slow := ts.dialRcvBuf(t, "slow", 16*KiB)
	slow.join("slow", "#slow")
	r := &room{t: t, name: "#slow", sent: map[string]int{}}
	names := []string{"slow"}
	for i := range 2 {
		c := ts.dial(t, fmt.Sprintf("m%d", i))
		enterRoom(c, c.label, r.name, append([]*testClient{slow}, r.members...), names)
		names = append(names, c.label)
		r.members = append(r.members, c)
	}
	// From now on slow reads rate bytes a second at most.
	slow.r = bufio.NewReaderSize(throttled{slow.conn, rate}, 64*KiB)
	r.members = append(r.members, slow)
	for _, c := range r.members {
		c.follow(r.name, names...)
	}
	b := newBounds(t, "slow-reader")

	start := time.Now()
	for sent := 0; sent < lines; sent += burst {
		r.say(0, burst, pad)
		r.sync()
	}
	t.Logf("m0 wrote %d lines of %d bytes in bursts of %d in %v; the slow member reads %d KiB/s", lines, pad+20, burst, time.Since(start).Round(time.Millisecond), rate/KiB)
	b.peak(1, maxQueue+4*MiB, 0)
	r.check(nil)
	t.Logf("everyone had everything after %v", time.Since(start).Round(time.Millisecond))
	if log.count("msg=disconnect") > 0 {
		t.Errorf("a client was disconnected:\n%s", log.String())
	}
}

// TestRobustReplyAmplification: clients that ask for a long ROOMLIST over
// and over and never read. A reply of kilobytes for a line of seven bytes
// could make the server's memory grow without bound; instead each such
// client's queue stops growing at the high-water mark (a quarter of
// MaxQueueBytes) plus one reply: the server stops reading its lines, which
// would only add to its own queue (pacing on its own account, LIMIT-9). Meanwhile the members of a room talk and lose nothing, and
// when the attackers go, so does the memory.
func TestRobustReplyAmplification(t *testing.T) {
	const maxQueue = 256 * KiB
	rooms := size(300, 3000)
	attackers := size(30, 300)
	ts, log := startLogged(t, impl.Config{MaxQueueBytes: maxQueue})
	r := newRoom(t, ts, "#calm", "m", 2)
	fillers := dialCrowd(t, ts.addr, rooms)
	fillers.each("USERNAME filler%d\r\nJOIN #a-room-with-a-long-name-%d\r\n")
	fillers.expectEach("OK Welcome, filler%d!")
	fillers.expectEach("OK Joined #a-room-with-a-long-name-%d (0 users)")
	listLen := len("ROOMLIST") + rooms*len(" #a-room-with-a-long-name-1000") + 2
	b := newBounds(t, "reply-amplification")

	asks := bytes.Repeat([]byte("ROOMS\r\n"), 3000)
	var amps []*testClient
	for i := range attackers {
		c := ts.dialRcvBuf(t, fmt.Sprintf("amp%d", i), 4*KiB)
		c.send("USERNAME " + c.label)
		go c.conn.Write(asks) // never read; the write ends when the connection closes
		amps = append(amps, c)
	}
	// Watch the heap for a while as the replies pile up; it must stay
	// within the bound all along.
	var peak resources
	for range 5 {
		r.say(0, 20, 20)
		r.sync()
		if s := sample(); s.heap > peak.heap {
			peak = s
		}
	}
	dh := delta(peak.heap, b.base.heap)
	perConn := int64(maxQueue/4 + listLen + 16*KiB) // and the connection's own state
	t.Logf("bounds reply-amplification: %d clients asking for a %d-byte ROOMLIST without reading: peak heap %+d KiB (%d B/client; bound %d B)",
		attackers, listLen, dh/KiB, dh/int64(attackers), perConn)
	// Twice the per-client bound and twice the usual slack: a sample can
	// catch garbage the collector has not yet freed, and at this size that
	// noise is as large as the figure itself.
	if limit := 2*int64(attackers)*perConn + 2*heapSlack; dh > limit {
		t.Errorf("the heap grew by %d KiB for %d clients that do not read, more than high water, one reply and 16 KiB (%d B) each", dh/KiB, attackers, perConn)
	}
	r.check(nil)
	for _, c := range amps {
		c.reset()
	}
	fillers.close(false)
	log.waitCount(t, "msg=disconnect", attackers+rooms)
	b.after(attackers + rooms)
	servedNow(t, ts, "newcomer")
}
