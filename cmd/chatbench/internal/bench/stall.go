package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The stall scenario: -stalled K members join the load's one room after
// the healthy members, as stalled0..K-1, read up to the PONG that follows
// their JOIN, and never read again; the first -stalled-senders of them send
// like the healthy senders. The server should disconnect each once its
// pending output passes MaxQueueBytes (LIMIT-4), and its room then gets
// LEAVE #bench0 stalled<k>.
//
// What chatbench sees of it:
//
//   - every healthy member counts the bytes of its room's lines (ROOM, JOIN
//     and LEAVE notes) and notes where in that stream each stalled member's
//     JOIN and LEAVE came (stallNotes). By ORDER-1 every member sees the
//     room's lines in one order, so the bytes between a stalled member's
//     JOIN and its LEAVE are those the server addressed to it;
//   - bench0, the observer, also keeps the time at which those bytes
//     arrived, so the time at which the addressed bytes passed a figure can
//     be read back;
//   - a watcher polls each stalled socket's SO_ERROR every stallSampleEvery
//     (a reset sets it) and reads, from /proc/net/tcp, the bytes the kernel
//     holds for the connection: the server socket's tx_queue and the client
//     socket's rx_queue.
//
// The server's pending output is what it addressed less what the kernels
// hold. Once the stalled member's buffers are full the kernels' share stays
// put, so with the last sample before the drop, K, the pending output
// passed MaxQueueBytes when the addressed bytes passed MaxQueueBytes + K;
// the report gives the time from then to the LEAVE at the observer.

// stalledRcvBuf is the receive buffer a stalled member asks for before it
// connects, so that its kernel holds little of what it does not read.
const stalledRcvBuf = 4096

// stallSampleEvery is how often the watcher samples the stalled sockets.
const stallSampleEvery = 20 * time.Millisecond

// StallResult is the outcome of the stall scenario.
type StallResult struct {
	Stalled        int   `json:"stalled"`
	StalledSenders int   `json:"stalled_senders"`
	MaxQueueBytes  int   `json:"max_queue_bytes"`        // for the estimate: given to chatbench or read from -exec
	FromStalled    int64 `json:"from_stalled_delivered"` // lines of stalled senders received by healthy members
	// KernelNote says why the kernel's share is unknown, if it is.
	KernelNote string          `json:"kernel_note,omitempty"`
	Members    []StalledMember `json:"members"`
}

// StalledMember is what became of one stalled member. Times are in seconds
// since the start of sending; null where unknown or not seen.
type StalledMember struct {
	Name         string `json:"name"`
	Sender       bool   `json:"sender"`
	Sent         int64  `json:"sent"` // lines it handed to its kernel
	Disconnected bool   `json:"disconnected"`
	// LeaveSeconds is when its LEAVE note reached the first healthy member.
	LeaveSeconds *float64 `json:"leave_seconds"`
	// SocketSeconds is when its socket was seen failing: a reset or an
	// error polled by the watcher, or a failed write.
	SocketSeconds *float64 `json:"socket_failed_seconds"`
	SocketError   string   `json:"socket_error,omitempty"`
	// AddressedBytes is the bytes of the room's lines after its JOIN,
	// until its LEAVE (or the end of the run), less what it read.
	AddressedBytes int64 `json:"addressed_bytes"`
	// Kernel is the kernel's share at the last sample before the drop (or
	// the end of the run).
	Kernel *KernelShare `json:"kernel"`
	// PendingBytes is AddressedBytes - Kernel.Bytes: the server's queue
	// for it at the drop (or the end), estimated.
	PendingBytes *int64 `json:"pending_bytes"`
	// OverLimitSeconds is the estimated time from its pending output
	// passing -max-queue-bytes to the drop; negative if dropped before, by
	// how long the room would have taken to send the difference.
	OverLimitSeconds *float64 `json:"over_limit_seconds"`
}

// KernelShare is what the kernels held of a stalled member's connection.
type KernelShare struct {
	ServerTxQueue int64   `json:"server_tx_queue"`
	ClientRxQueue int64   `json:"client_rx_queue"`
	Bytes         int64   `json:"bytes"`
	AtSeconds     float64 `json:"at_seconds"` // when sampled
}

// stalledClient is one stalled member.
type stalledClient struct {
	// Immutable after dial.
	k      int
	conn   net.Conn
	socks  [2]sockPair // its socket and the server's, as /proc/net/tcp names them
	beyond int64       // bytes it read past its PONG

	sent atomic.Int64 // lines handed to the kernel by its sender goroutine

	// Owned by its sender goroutine until stallSet.senders is done.
	writeErr   error // a write that failed on a socket error
	writeErrAt int64 // Unix ns

	// Owned by the watcher until stallSet.done is closed.
	sockErr   error
	sockErrAt int64 // Unix ns, 0 if none
	samples   []kernelSample
}

// kernelSample is the kernels' share of a connection at one time.
type kernelSample struct{ at, tx, rx int64 }

// stallSet is the stalled members and their watcher.
type stallSet struct {
	clients []*stalledClient
	stop    chan struct{}  // closed by the coordinator: the watcher stops
	done    chan struct{}  // closed by the watcher when it returns
	senders sync.WaitGroup // the stalled senders' goroutines

	procErr error // owned by the watcher: why /proc/net/tcp could not be read
}

// dialStalled connects the stalled members one after the other, so that
// each has joined before the next, and starts the watcher. On error the
// set holds those connected, for close.
func dialStalled(ctx context.Context, cfg *Config, addr string, deadline time.Time) (*stallSet, error) {
	s := &stallSet{stop: make(chan struct{}), done: make(chan struct{})}
	for k := range cfg.Stalled {
		c, err := dialStalledOne(ctx, k, addr, deadline)
		if err != nil {
			close(s.done)
			return s, err
		}
		s.clients = append(s.clients, c)
	}
	go s.watch()
	return s, nil
}

// dialStalledOne connects stalled member k with a small receive buffer,
// registers it, joins it to #bench0 and reads until the PONG after that.
func dialStalledOne(ctx context.Context, k int, addr string, deadline time.Time) (*stalledClient, error) {
	name := stalledName(k)
	// The buffer is set before connecting, so that the window it offers
	// is small.
	d := net.Dialer{Deadline: deadline, Control: dial.RcvBufControl(stalledRcvBuf)}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := &stalledClient{k: k, conn: conn}
	local, remote := conn.LocalAddr().(*net.TCPAddr).AddrPort(), conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	c.socks = [2]sockPair{{local, remote}, {remote, local}}
	conn.SetDeadline(deadline)
	hello := fmt.Appendf(nil, "USERNAME %s\r\nJOIN %s\r\n", name, roomName(0))
	hello = append(hello, pingLine(tokenRegistered)...)
	if _, err := conn.Write(hello); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	pong := fmt.Sprintf("PONG %d", tokenRegistered)
	var buf []byte
	var chunk [4096]byte
	welcomed, joined := false, false
	for {
		n, err := conn.Read(chunk[:])
		buf = append(buf, chunk[:n]...)
		for {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			line := bytes.TrimSuffix(buf[:i], cr)
			buf = buf[i+1:]
			switch {
			case bytes.HasPrefix(line, prefixWelcome):
				welcomed = true
			case bytes.HasPrefix(line, prefixJoined):
				joined = true
			case bytes.HasPrefix(line, prefixJoin):
			case string(line) == pong && welcomed && joined:
				c.beyond = int64(len(buf))
				return c, nil
			default:
				conn.Close()
				return nil, fmt.Errorf("%s: unexpected %q after USERNAME and JOIN (welcome %v, joined %v)", name, line, welcomed, joined)
			}
		}
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: connection ended before PONG %d: %w", name, tokenRegistered, err)
		}
	}
}

// startSenders starts the stalled senders: once start is closed, sender j
// of J sends its lines as the healthy ones do, paced in between them.
func (s *stallSet) startSenders(ctx context.Context, cfg *Config, start <-chan struct{}, t0 *time.Time, deadline time.Time) {
	for _, c := range s.clients[:cfg.StalledSenders] {
		var offset time.Duration
		if cfg.Rate > 0 {
			interval := time.Duration(float64(time.Second) / cfg.Rate)
			offset = interval * time.Duration(2*c.k+1) / time.Duration(2*cfg.StalledSenders)
		}
		s.senders.Go(func() {
			<-start
			err := writeLines(ctx, c.conn, cfg, cfg.stalledID(c.k), stalledName(c.k), offset, *t0, deadline, nil, &c.sent)
			var errno syscall.Errno
			if errors.As(err, &errno) { // not a deadline, nor a close of ours
				c.writeErr, c.writeErrAt = fmt.Errorf("write: %w", errno), time.Now().UnixNano()
			}
		})
	}
}

// watch is the watcher goroutine: it samples every stallSampleEvery until
// stop is closed, and once more then.
func (s *stallSet) watch() {
	defer close(s.done)
	tick := time.NewTicker(stallSampleEvery)
	defer tick.Stop()
	for {
		s.sample()
		select {
		case <-s.stop:
			s.sample()
			return
		case <-tick.C:
		}
	}
}

// sample polls the socket error of each stalled member not yet failed, and
// the kernels' share of its connection.
func (s *stallSet) sample() {
	now := time.Now().UnixNano()
	var want []sockPair
	var who []*stalledClient
	for _, c := range s.clients {
		if c.sockErrAt != 0 {
			continue
		}
		if err := sockError(c.conn); err != nil {
			c.sockErr, c.sockErrAt = err, now
			continue
		}
		want = append(want, c.socks[0], c.socks[1])
		who = append(who, c)
	}
	if len(who) == 0 || s.procErr != nil {
		return
	}
	found, err := readSockQueues(want)
	if err != nil {
		s.procErr = err
		return
	}
	for j, c := range who {
		cl, ok1 := found[2*j]
		sv, ok2 := found[2*j+1]
		if ok1 && ok2 {
			c.samples = append(c.samples, kernelSample{at: now, tx: sv.tx, rx: cl.rx})
		}
	}
}

// sockError returns the pending error of conn's socket (SO_ERROR), which
// reading clears, or nil.
func sockError(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var soErr int
	var gerr error
	if rc.Control(func(fd uintptr) {
		soErr, gerr = sockErrno(fd)
	}) != nil || gerr != nil || soErr == 0 {
		return nil
	}
	return syscall.Errno(soErr)
}

// stopWatching stops the watcher after a last sample. It may be called
// more than once.
func (s *stallSet) stopWatching() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// finish stops the watcher, closes every stalled connection and waits for
// the stalled senders. It may be called more than once, and on nil.
func (s *stallSet) finish() {
	if s == nil {
		return
	}
	s.stopWatching()
	for _, c := range s.clients {
		c.conn.Close()
	}
	s.senders.Wait()
}

// stallNotes follows what one healthy member sees of the stalled members:
// the bytes of its room's lines, and where among them each stalled
// member's JOIN and LEAVE came. It belongs to the member's reader goroutine;
// a nil *stallNotes does nothing.
type stallNotes struct {
	room     []byte
	observer bool    // keeps marks
	bytes    int64   // bytes of the room's lines so far: ROOM, JOIN, LEAVE, with CRLF
	joined   []int64 // by stalled member: bytes up to and including its JOIN note, -1 if none
	left     []int64 // bytes before its LEAVE note, -1 if none
	leftAt   []int64 // Unix ns its LEAVE note arrived
	in       int     // stalled members joined and not left
	marks    []mark  // observer only: bytes at each read, while a stalled member is in
}

// mark says that bytes bytes of the room's lines had arrived at at (Unix
// ns).
type mark struct{ at, bytes int64 }

func newStallNotes(cfg *Config, observer bool) *stallNotes {
	if cfg.Stalled == 0 {
		return nil
	}
	s := &stallNotes{
		room: []byte(roomName(0)), observer: observer,
		joined: make([]int64, cfg.Stalled), left: make([]int64, cfg.Stalled), leftAt: make([]int64, cfg.Stalled),
	}
	for k := range s.joined {
		s.joined[k], s.left[k] = -1, -1
	}
	return s
}

// roomLine counts a ROOM line of n bytes that arrived at at.
func (s *stallNotes) roomLine(n int, at int64) {
	if s == nil {
		return
	}
	s.bytes += int64(n)
	s.mark(at)
}

// join counts a JOIN note of n bytes, rest being "<room> <user>".
func (s *stallNotes) join(rest []byte, n int, at int64) {
	if s == nil {
		return
	}
	s.bytes += int64(n)
	if k, ok := s.stalled(rest); ok && s.joined[k] < 0 {
		s.joined[k] = s.bytes
		s.in++
	}
	s.mark(at)
}

// leave counts a LEAVE note of n bytes, rest being "<room> <user>", and
// reports whether it is the first about a stalled member that joined.
func (s *stallNotes) leave(rest []byte, n int, at int64) bool {
	if s == nil {
		return false
	}
	k, ok := s.stalled(rest)
	ok = ok && s.joined[k] >= 0 && s.left[k] < 0
	if ok {
		s.left[k], s.leftAt[k] = s.bytes, at
	}
	s.bytes += int64(n)
	s.mark(at)
	if ok {
		s.in--
	}
	return ok
}

// stalled returns k if rest is "<the room> stalled<k>".
func (s *stallNotes) stalled(rest []byte) (int, bool) {
	room, user, _ := bytes.Cut(rest, []byte{' '})
	digits, ok := bytes.CutPrefix(user, []byte("stalled"))
	if !ok || !bytes.Equal(room, s.room) {
		return 0, false
	}
	k, err := strconv.Atoi(string(digits))
	if err != nil || k < 0 || k >= len(s.joined) || strconv.Itoa(k) != string(digits) {
		return 0, false
	}
	return k, true
}

// mark records the bytes so far at at, once per read.
func (s *stallNotes) mark(at int64) {
	if !s.observer || s.in == 0 {
		return
	}
	if n := len(s.marks); n > 0 && s.marks[n-1].at == at {
		s.marks[n-1].bytes = s.bytes
		return
	}
	s.marks = append(s.marks, mark{at: at, bytes: s.bytes})
}

// bytesAt returns the bytes of the marks at or before at, or from if none.
func bytesAt(marks []mark, at, from int64) int64 {
	b := from
	for _, m := range marks {
		if m.at > at {
			break
		}
		b = m.bytes
	}
	return b
}

// overLimit estimates how long before drop (Unix ns) the bytes of the room
// passed threshold, from the marks; end is the bytes before the drop. If
// they never did, it returns a negative time: how long the room, at its
// rate over the last second before the drop, would have taken to get there.
// ok is false if there is nothing to go by.
func overLimit(marks []mark, end, drop, threshold int64) (d time.Duration, ok bool) {
	if end > threshold {
		for _, m := range marks {
			if min(m.bytes, end) > threshold {
				return time.Duration(drop - m.at), true
			}
		}
		return 0, false
	}
	for _, m := range marks {
		if m.at < drop-int64(time.Second) {
			continue
		}
		if m.at >= drop || m.bytes >= end {
			break
		}
		rate := float64(end-m.bytes) / float64(drop-m.at) // bytes per ns
		return -time.Duration(math.Ceil(float64(threshold+1-end) / rate)), true
	}
	return 0, false
}

// results says what became of each stalled member. It is called once the
// healthy members' readers (members, in client order) and the stallSet
// have finished; t0 is the start of sending.
func (s *stallSet) results(cfg *Config, members []*loadClient, t0 time.Time) *StallResult {
	res := &StallResult{Stalled: cfg.Stalled, StalledSenders: cfg.StalledSenders, MaxQueueBytes: cfg.MaxQueueBytes}
	for _, m := range members {
		res.FromStalled += m.fromStalled
	}
	secs := func(ns int64) *float64 {
		v := time.Duration(ns - t0.UnixNano()).Seconds()
		return &v
	}
	obs := members[0].notes
	for _, c := range s.clients {
		k := c.k
		r := StalledMember{Name: stalledName(k), Sender: k < cfg.StalledSenders, Sent: c.sent.Load()}
		// The first healthy member to see its LEAVE.
		var leave int64
		for _, m := range members {
			if n := m.notes; n.left[k] >= 0 && (leave == 0 || n.leftAt[k] < leave) {
				leave = n.leftAt[k]
			}
		}
		if leave != 0 {
			r.LeaveSeconds = secs(leave)
		}
		failed, failErr := c.sockErrAt, c.sockErr
		if c.writeErrAt != 0 && (failed == 0 || c.writeErrAt < failed) {
			failed, failErr = c.writeErrAt, c.writeErr
		}
		if failed != 0 {
			r.SocketSeconds, r.SocketError = secs(failed), failErr.Error()
		}
		r.Disconnected = leave != 0 || failed != 0

		if obs.joined[k] < 0 {
			res.Members = append(res.Members, r) // cannot be: the settle barrier counts the JOIN notes
			continue
		}
		// Where the drop came in the room's stream, by the observer.
		from := obs.joined[k] + c.beyond
		drop, end := int64(math.MaxInt64), obs.bytes
		switch {
		case obs.left[k] >= 0:
			drop, end = obs.leftAt[k], obs.left[k]
		case failed != 0:
			drop, end = failed, bytesAt(obs.marks, failed, obs.joined[k])
		}
		r.AddressedBytes = end - from
		var last *kernelSample
		for i := range c.samples {
			if c.samples[i].at < drop {
				last = &c.samples[i]
			}
		}
		if last == nil {
			res.Members = append(res.Members, r)
			continue
		}
		kern := last.tx + last.rx
		r.Kernel = &KernelShare{ServerTxQueue: last.tx, ClientRxQueue: last.rx, Bytes: kern, AtSeconds: *secs(last.at)}
		pending := r.AddressedBytes - kern
		r.PendingBytes = &pending
		if r.Disconnected {
			if d, ok := overLimit(obs.marks, end, drop, from+kern+int64(cfg.MaxQueueBytes)); ok {
				v := d.Seconds()
				r.OverLimitSeconds = &v
			}
		}
		res.Members = append(res.Members, r)
	}
	switch {
	case s.procErr != nil:
		res.KernelNote = fmt.Sprintf("kernel share unknown: %v", s.procErr)
	default:
		for _, c := range s.clients {
			if len(c.samples) == 0 {
				res.KernelNote = "kernel share unknown: the connection is not in /proc/net/tcp (is the server on another host?)"
				break
			}
		}
	}
	return res
}

// events returns the disconnects of the stalled members as timeline
// events; none for nil.
func (r *StallResult) events() []tlEvent {
	if r == nil {
		return nil
	}
	var ev []tlEvent
	for _, m := range r.Members {
		if m.LeaveSeconds != nil {
			ev = append(ev, tlEvent{kind: "leave", at: *m.LeaveSeconds, client: m.Name})
		}
		if m.SocketSeconds != nil {
			ev = append(ev, tlEvent{kind: "socket", at: *m.SocketSeconds, client: m.Name})
		}
	}
	return ev
}
