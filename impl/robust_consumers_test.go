package impl_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// dialRcvBuf connects to addr with a receive buffer of rcvbuf bytes, set
// before the handshake so that the window is small from the start.
func dialRcvBuf(t testing.TB, addr string, rcvbuf int) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: failAfter, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

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

	var stuck []*net.TCPConn
	for _, m := range r.members {
		for i := range k {
			m.watch(fmt.Sprintf("x%d", i))
		}
	}
	for i := range k {
		c := dialRcvBuf(t, ts.addr, 4*KiB<<(i%6))
		name := fmt.Sprintf("x%d", i)
		c.Write([]byte("USERNAME " + name + "\r\nJOIN #busy\r\nPING joined\r\n"))
		for {
			line, err := readRawLine(c)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if line == "PONG joined" {
				break
			}
		}
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
		c.SetReadDeadline(time.Now().Add(failAfter))
		data, err := io.ReadAll(bufio.NewReader(c))
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
				t.Errorf("%s saw %d JOIN and %d LEAVE notes of x%d, want 1 and 1", m.name, n.joins, n.leaves, i)
			}
		}
	}
	if got := log.count("reason=slow-consumer"); got != k {
		t.Errorf("%d slow consumers logged, want %d:\n%s", got, k, log.String())
	}
	for _, c := range stuck {
		c.Close()
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
	slowConn := dialRcvBuf(t, ts.addr, 16*KiB)
	slow := &testClient{t: t, label: "slow", conn: slowConn, r: bufio.NewReader(slowConn), eol: "\r\n"}
	slow.join("slow", "#slow")
	r := &room{t: t, name: "#slow", sent: map[string]int{}}
	var others []*testClient
	for i := range 2 {
		name := fmt.Sprintf("m%d", i)
		c := ts.dial(t, name)
		c.send("USERNAME " + name)
		c.expect("OK Welcome, " + name + "!")
		c.send("JOIN #slow")
		c.expect(fmt.Sprintf("OK Joined #slow (%d users)", i+1), "JOIN #slow slow")
		slow.expect("JOIN #slow " + name)
		for _, o := range others {
			c.expect("JOIN #slow " + o.label)
			o.expect("JOIN #slow " + name)
		}
		others = append(others, c)
	}
	for _, c := range others {
		r.members = append(r.members, startMember(t, c, c.label, "#slow", "slow", "m0", "m1"))
	}
	slow.r = bufio.NewReaderSize(throttled{slowConn, rate}, 64*KiB)
	sm := startMember(t, slow, "slow", "#slow", "slow", "m0", "m1")
	r.members = append(r.members, sm)
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
	var conns []*net.TCPConn
	for i := range attackers {
		c := dialRcvBuf(t, ts.addr, 4*KiB)
		c.Write([]byte(fmt.Sprintf("USERNAME amp%d\r\n", i)))
		go c.Write(asks) // never read; the write ends when the connection closes
		conns = append(conns, c)
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
	for _, c := range conns {
		c.SetLinger(0)
		c.Close()
	}
	fillers.close(false)
	log.waitCount(t, "msg=disconnect", attackers+rooms)
	b.after(attackers + rooms)
	servedNow(t, ts, "newcomer")
}
