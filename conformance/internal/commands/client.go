package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"roomchat.dev/roomchat/conformance/dial"
	"sync"
	"syscall"
	"time"
)

// maxReadBuf is the largest read buffer of a client.
const maxReadBuf = 32 << 10

// rateSlices is how many reads a second a rate-limited client makes at
// most (readrate): each read takes at most rate/rateSlices bytes.
const rateSlices = 50

// maxServerLine bounds one server line as the client reads it. FRAME-11 puts
// no fixed limit on USERLIST and ROOMLIST; this is only a guard against a
// server that never sends LF.
const maxServerLine = 4 << 20

// A Client is one connection to the server under test. A goroutine reads
// from the socket as fast as the server writes (unless paused with
// StopReading) and splits what arrives into lines; the script consumes the
// lines in order with Next. Every write and every line received is recorded
// in the client's Transcript.
type Client struct {
	name  string
	conn  *dial.Conn // the stream of lines, over the transport under test
	tr    *Transcript
	start time.Time // when the client connected; arrived counts from it

	readerDone chan struct{} // closed when the reader goroutine returns

	// wmu serialises writes to the socket, so that a background flood
	// (floodsend -bg) and the script's own writes never interleave
	// mid-line: a write waits until the flood has been written.
	wmu sync.Mutex
	// flood is the background flood under way (floodsend -bg), or nil.
	// Only the script's goroutine touches it.
	flood *backgroundFlood
	// sent records when each round of the client's latest floodsend was
	// sent, for recvmany -from; nil before the first. Only the script's
	// goroutine touches the field (the record has a lock of its own).
	sent *floodRecord
	// msgRun and storedRun are where the client is in its runs of MESSAGE
	// and HISTORY lines, for recvmsg. Only the script's goroutine touches
	// them.
	msgRun, storedRun msgRun

	mu sync.Mutex
	// Owned by mu; the reader goroutine appends, the script consumes.
	lines    [][]byte        // complete lines received, terminator included
	arrived  []time.Duration // parallel to lines: when each arrived, since start
	next     int             // index of the first line the script has not consumed
	end      error           // io.EOF, a reset or read error; nil while the reader runs
	endAt    time.Duration   // when end was set, since start
	partial  []byte          // bytes after the last LF when the stream ended
	notify   chan struct{}   // capacity 1: signalled when lines or end change
	gate     chan struct{}   // closed while reading is allowed
	hungUp   bool            // the client closed or reset the connection itself
	hangup   chan struct{}   // closed when hungUp is set, to cut a paced flood short
	wroteEOF bool            // the client half-closed
	rate     int             // bytes per second the reader may read; 0 for no limit (readrate)
	// last is what the script consumed last: a line, or the end of the
	// stream once closed has seen it, with when it arrived (arrived).
	last consumption
}

// A consumption is what the script consumed last from a client, for
// arrived: a line or the end of the stream, and when it arrived.
type consumption struct {
	line []byte        // the line, terminator included; nil for the end of the stream
	at   time.Duration // when it arrived, since the client connected
	ok   bool          // the script has consumed something
}

// String describes what was consumed, for failure messages.
func (k consumption) String() string {
	if k.line == nil {
		return "the end of the stream"
	}
	return "the line " + quote(bytes.TrimSuffix(k.line, []byte("\r\n")))
}

// Dial connects a client called name to addr, recording into tr. A
// positive rcvbuf sets the socket's receive buffer (SO_RCVBUF) before it
// connects, which also turns off the kernel's tuning of it: a client that
// stops reading then holds at most about that much, and what the server
// sends beyond it stays in the server's own buffers and queue.
func Dial(d dial.Dialer, addr, name string, tr *Transcript, timeout time.Duration, rcvbuf int) (*Client, error) {
	d.Timeout = timeout
	conn, err := d.Dial(addr, dial.Options{RcvBuf: rcvbuf})
	if err != nil {
		return nil, err
	}
	c := &Client{
		name:       name,
		conn:       conn,
		tr:         tr,
		start:      time.Now(),
		readerDone: make(chan struct{}),
		notify:     make(chan struct{}, 1),
		gate:       make(chan struct{}),
		hangup:     make(chan struct{}),
		msgRun:     msgRun{index: -1},
		storedRun:  msgRun{index: -1},
	}
	close(c.gate)
	if rcvbuf > 0 {
		tr.add(event{client: c, kind: evNote, text: fmt.Sprintf("connected, with a receive buffer of %d bytes", rcvbuf)})
	} else {
		tr.add(event{client: c, kind: evNote, text: "connected"})
	}
	go c.read()
	return c, nil
}

// Name returns the client's name in the script.
func (c *Client) Name() string { return c.name }

// read is the reader goroutine: it appends every complete line to c.lines,
// and the time it arrived to c.arrived: the time the read that completed it
// returned, for every line of that read.
func (c *Client) read() {
	defer close(c.readerDone)
	// The buffer starts small, so that a script with thousands of quiet
	// connections stays light, and grows while reads fill it.
	buf := make([]byte, 4<<10)
	var pending []byte
	for {
		c.mu.Lock()
		gate, rate := c.gate, c.rate
		c.mu.Unlock()
		<-gate // StopReading holds this; Close always reopens it
		want := len(buf)
		if rate > 0 {
			want = max(1, min(want, rate/rateSlices))
		}
		n, err := c.conn.Read(buf[:want])
		if n > 0 {
			at := time.Since(c.start)
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				line := bytes.Clone(pending[:i+1])
				pending = pending[i+1:]
				// Record under c.mu, so that the transcript shows the line
				// before anything the script does after consuming it.
				c.mu.Lock()
				c.lines = append(c.lines, line)
				c.arrived = append(c.arrived, at)
				c.tr.add(event{client: c, kind: evReceived, data: line, index: len(c.lines) - 1})
				c.mu.Unlock()
				c.signal()
			}
			pending = bytes.Clone(pending) // drop the consumed prefix
			if n == len(buf) && len(buf) < maxReadBuf {
				buf = make([]byte, 2*len(buf))
			}
			if len(pending) > maxServerLine && err == nil {
				err = fmt.Errorf("server sent %d bytes without LF", len(pending))
			}
		}
		if err != nil {
			c.finish(err, pending)
			return
		}
		if rate > 0 {
			// Read no faster than rate on average: pause as long as the
			// bytes just read are worth.
			time.Sleep(time.Duration(n) * time.Second / time.Duration(rate))
		}
	}
}

func (c *Client) finish(err error, partial []byte) {
	c.mu.Lock()
	hungUp := c.hungUp
	c.end = err
	c.endAt = time.Since(c.start)
	c.partial = partial
	c.mu.Unlock()
	if len(partial) > 0 {
		c.tr.add(event{client: c, kind: evNote, data: partial, text: fmt.Sprintf("%d bytes without LF at end of stream: %s", len(partial), quote(partial))})
	}
	switch {
	case hungUp:
		// The script closed the connection; the read error says nothing.
	case errors.Is(err, io.EOF):
		c.tr.add(event{client: c, kind: evNote, text: "closed by the server (EOF)"})
	case errors.Is(err, syscall.ECONNRESET):
		c.tr.add(event{client: c, kind: evNote, text: "closed by the server (connection reset)"})
	default:
		c.tr.add(event{client: c, kind: evNote, text: "read error: " + err.Error()})
	}
	c.signal()
}

func (c *Client) signal() {
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// consumed reports whether the script has consumed line i.
func (c *Client) consumed(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return i < c.next
}

// Write sends data in one write and records it, with note describing it.
func (c *Client) Write(data []byte, note string, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tr.add(event{client: c, kind: evSent, data: data, text: note})
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.conn.Write(data)
	if err != nil {
		c.tr.add(event{client: c, kind: evNote, text: "write error: " + err.Error()})
	}
	return err
}

// WriteSplit sends data one byte per write, pausing briefly between bytes
// so that each byte travels in its own TCP segment.
func (c *Client) WriteSplit(data []byte, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tr.add(event{client: c, kind: evSent, data: data, text: "one byte per write"})
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	for i := range data {
		if _, err := c.conn.Write(data[i : i+1]); err != nil {
			c.tr.add(event{client: c, kind: evNote, text: "write error: " + err.Error()})
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// isClose reports whether err is the server closing a connection: a clean
// end of stream or a reset.
func isClose(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// errTimeout is returned by Next when no line arrives in time.
var errTimeout = errors.New("timed out")

// Next returns the next line the script has not consumed, terminator
// included, waiting up to timeout for it, and consumes it. At the end of the
// stream it returns the reason (io.EOF for a clean close).
func (c *Client) Next(timeout time.Duration) ([]byte, error) {
	line, _, err := c.NextAt(timeout)
	return line, err
}

// NextAt is Next that also returns when the line arrived: when the reader
// goroutine received it, however long ago, not when the script consumed it.
func (c *Client) NextAt(timeout time.Duration) ([]byte, time.Time, error) {
	line, err := c.Peek(timeout)
	if err != nil {
		return nil, time.Time{}, err
	}
	c.mu.Lock()
	at := c.start.Add(c.arrived[c.next])
	c.last = consumption{line: line, at: c.arrived[c.next], ok: true}
	c.next++
	index := c.next - 1
	c.mu.Unlock()
	c.tr.consume(c, index)
	return line, at, nil
}

// consumedEnd records that the script has consumed the end of the stream
// (closed), for arrived.
func (c *Client) consumedEnd() {
	c.mu.Lock()
	c.last = consumption{at: c.endAt, ok: true}
	c.mu.Unlock()
}

// lastConsumed returns what the script consumed last, and when it arrived.
func (c *Client) lastConsumed() (what string, at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last.String(), c.start.Add(c.last.at), c.last.ok
}

// Peek is Next without consuming the line.
func (c *Client) Peek(timeout time.Duration) ([]byte, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if c.next < len(c.lines) {
			line := c.lines[c.next]
			c.mu.Unlock()
			return line, nil
		}
		end := c.end
		c.mu.Unlock()
		if end != nil {
			return nil, end
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			return nil, errTimeout
		}
	}
}

// consumedLines returns the number of lines the script has consumed.
func (c *Client) consumedLines() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}

// anyLine reports whether one of the lines from index from up to (not
// including) to satisfies f.
func (c *Client) anyLine(from, to int, f func(line []byte) bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := max(from, 0); i < to && i < len(c.lines); i++ {
		if f(c.lines[i]) {
			return true
		}
	}
	return false
}

// Unread returns the number of lines received and not yet consumed.
func (c *Client) Unread() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines) - c.next
}

// Received returns the number of lines received so far.
func (c *Client) Received() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// Ended returns why the stream ended, or nil if it has not.
func (c *Client) Ended() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.end
}

// HungUp reports whether the client closed its connection itself.
func (c *Client) HungUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hungUp
}

// StopReading makes the reader goroutine stop reading from the socket, so
// that the kernel's buffers fill and the server sees a client that does not
// read. (It leaves the socket's receive buffer alone: a small one would
// also throttle the reading after ResumeReading.)
func (c *Client) StopReading() {
	c.mu.Lock()
	select {
	case <-c.gate:
		c.gate = make(chan struct{})
	default:
	}
	c.mu.Unlock()
	c.tr.add(event{client: c, kind: evNote, text: "stops reading"})
}

// SetReadRate limits how fast the reader goroutine reads from the socket,
// in bytes per second, so that the server sees a client that reads, but
// slowly; 0 removes the limit.
func (c *Client) SetReadRate(bytesPerSecond int) {
	c.mu.Lock()
	c.rate = max(0, bytesPerSecond)
	c.mu.Unlock()
	if bytesPerSecond > 0 {
		c.tr.add(event{client: c, kind: evNote, text: fmt.Sprintf("reads at most %d bytes/s", bytesPerSecond)})
	} else {
		c.tr.add(event{client: c, kind: evNote, text: "reads at full speed"})
	}
}

// ResumeReading undoes StopReading.
func (c *Client) ResumeReading() {
	c.tr.add(event{client: c, kind: evNote, text: "resumes reading"})
	c.openGate()
}

func (c *Client) openGate() {
	c.mu.Lock()
	select {
	case <-c.gate:
	default:
		close(c.gate)
	}
	c.mu.Unlock()
}

// CloseWrite half-closes the connection: the server sees end of stream,
// the client can still read.
func (c *Client) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tr.add(event{client: c, kind: evNote, text: "half-closes (shutdown SHUT_WR)"})
	c.mu.Lock()
	c.wroteEOF = true
	c.mu.Unlock()
	return c.conn.CloseWrite()
}

// Close closes the connection abruptly. With reset, it sets SO_LINGER to 0
// so that the server receives a RST instead of a FIN.
func (c *Client) Close(reset bool) {
	c.mu.Lock()
	already := c.hungUp
	c.setHungUpLocked()
	c.mu.Unlock()
	if already {
		return
	}
	if reset {
		c.tr.add(event{client: c, kind: evNote, text: "resets the connection (RST)"})
		c.conn.Reset()
	} else {
		c.tr.add(event{client: c, kind: evNote, text: "closes the connection"})
		c.conn.Close()
	}
	c.openGate()
}

// shutdown closes the connection without recording it (end of script) and
// waits for the reader goroutine.
func (c *Client) shutdown() {
	c.mu.Lock()
	c.setHungUpLocked()
	c.mu.Unlock()
	c.conn.Close()
	c.openGate()
	<-c.readerDone
}

// setHungUpLocked records that the client closed its connection itself.
// The caller holds c.mu.
func (c *Client) setHungUpLocked() {
	if !c.hungUp {
		c.hungUp = true
		close(c.hangup)
	}
}
