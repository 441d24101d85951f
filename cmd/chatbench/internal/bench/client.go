package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"roomchat.dev/roomchat/spec"
)

// readBufSize returns the read buffer of each of n load clients: big, so
// that one read system call takes many lines, but at most 64 MiB in all.
func readBufSize(n int) int {
	return min(64<<10, max(4<<10, (64<<20)/max(n, 1)))
}

// loadClient is one chatting connection. Its reader goroutine (read) owns
// the receiver and reports to the coordinator through acks; the coordinator
// or the client's sender goroutine writes to conn, never both at once (the
// phases of runLoad do not overlap).
type loadClient struct {
	// Immutable after dial.
	id, room int
	name     string // its username
	bufSize  int    // of the reader
	conn     net.Conn
	acks     chan ack      // reader -> coordinator or sender: one per PONG
	stop     chan struct{} // closed by the coordinator before it closes conn
	done     chan struct{} // closed by the reader when it returns

	// Owned by the reader until done is closed, then read-only.
	rx           *receiver    // checks the room's lines; nil for a flooder
	echo         *echoCounter // a flooder's: counts its own lines coming back; nil for others
	notes        *stallNotes  // notes about the stalled members; nil without -stalled
	final        tally        // the receiver's tally, set when the reader ends
	fromStalled  int64        // lines of stalled senders received, set when the reader ends
	fromFlooders []int64      // lines of each flooder received, set when the reader ends
	last         ack          // the reader's state when it ended
	readErr      error        // why the reader ended, nil if after stop

	delivered *atomic.Int64 // ROOM lines received, for the progress line
}

// ack is the reader's state when it saw a PONG: everything but room
// messages that arrived so far. PING/PONG is the barrier of PING-2: when
// PONG <token> arrives, every line the server queued for this client before
// processing the PING has arrived too.
type ack struct {
	token    uint64
	welcomed bool   // "OK Welcome, ..." arrived
	enabled  bool   // "OK Enabled ..." arrived (CAPS, in the multi-room scenario)
	joined   int    // "OK Joined ..." lines
	joins    int    // JOIN notes (roster and newcomers), the stalled members' included
	leaves   int    // LEAVE notes but the stalled members': someone left during the run
	errors   int    // ERROR lines
	other    int    // anything else unexpected
	first    string // the first unexpected line
}

// unexpected counts the lines in a that should not have arrived.
func (a ack) unexpected() int { return a.errors + a.leaves + a.other }

// problem describes what in a is unexpected, or returns "".
func (a ack) problem() string {
	if a.unexpected() > 0 {
		return fmt.Sprintf("%d ERROR, %d LEAVE and %d unexpected lines, first %q", a.errors, a.leaves, a.other, a.first)
	}
	return ""
}

// stampReader records when each read returned. A line returned by
// bufio.Reader.ReadSlice was completed by the most recent read (ReadSlice
// reads only when no whole line is buffered), so this is when its last byte
// arrived.
type stampReader struct {
	r    io.Reader
	last int64 // Unix nanoseconds
}

func (s *stampReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.last = time.Now().UnixNano()
	return n, err
}

// read is the client's reader goroutine.
func (c *loadClient) read() {
	defer close(c.done)
	sr := &stampReader{r: c.conn}
	br := bufio.NewReaderSize(sr, c.bufSize)
	var st ack
	var pending int64
	note := func(line []byte) {
		if st.first == "" {
			st.first = string(line)
		}
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Longer than any line this benchmark causes: skip to its end.
			st.other++
			note(line[:64])
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if err != nil {
			select {
			case <-c.stop:
			default:
				c.readErr = err
			}
			break
		}
		n := len(line)
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, nl), cr)
		switch {
		case bytes.HasPrefix(line, prefixRoom):
			if c.echo != nil {
				c.echo.roomLine(line[len(prefixRoom):])
			} else {
				c.rx.roomLine(line[len(prefixRoom):], sr.last)
			}
			c.notes.roomLine(n, sr.last)
			pending++
		case bytes.HasPrefix(line, prefixPong):
			tok, _, ok := parseUint(line[len(prefixPong):], ' ')
			if !ok {
				st.other++
				note(line)
				continue
			}
			st.token = uint64(tok)
			select {
			case c.acks <- st:
			case <-c.stop:
			}
		case bytes.HasPrefix(line, prefixWelcome):
			st.welcomed = true
		case bytes.HasPrefix(line, prefixJoined):
			st.joined++
		case bytes.HasPrefix(line, prefixEnabled):
			st.enabled = true
		case bytes.HasPrefix(line, prefixJoin):
			st.joins++
			c.notes.join(line[len(prefixJoin):], n, sr.last)
		case bytes.HasPrefix(line, prefixLeave):
			// A flooder does not check who leaves: the healthy members do.
			if !c.notes.leave(line[len(prefixLeave):], n, sr.last) && c.echo == nil {
				st.leaves++
				note(line)
			}
		case bytes.HasPrefix(line, prefixError):
			st.errors++
			note(line)
		default:
			st.other++
			if _, err := spec.ParseServerLine(string(line)); err != nil && st.first == "" {
				st.first = "malformed: " + string(line)
			}
			note(line)
		}
		if pending > 0 && br.Buffered() == 0 {
			c.delivered.Add(pending)
			pending = 0
		}
	}
	c.delivered.Add(pending)
	if c.rx != nil {
		c.final = c.rx.finish()
		c.fromStalled, c.fromFlooders = c.rx.fromStalled, c.rx.fromFlooders
	}
	c.last = st
}

var (
	nl, cr        = []byte("\n"), []byte("\r")
	prefixRoom    = []byte("ROOM ")
	prefixPong    = []byte("PONG ")
	prefixWelcome = []byte("OK Welcome, ")
	prefixJoined  = []byte("OK Joined ")
	prefixEnabled = []byte("OK Enabled ")
	prefixJoin    = []byte("JOIN ")
	prefixLeave   = []byte("LEAVE ")
	prefixError   = []byte("ERROR ")
)

// ping sends PING <token>.
func (c *loadClient) ping(token uint64) error {
	_, err := c.conn.Write(pingLine(token))
	return err
}

func pingLine(token uint64) []byte {
	return append(strconv.AppendUint([]byte("PING "), token, 10), '\r', '\n')
}

// await waits for PONG <token> until ctx is done.
func (c *loadClient) await(ctx context.Context, token uint64) (ack, error) {
	for {
		select {
		case a := <-c.acks:
			if a.token == token {
				return a, nil
			}
		case <-c.done:
			err := fmt.Errorf("%s: connection ended while waiting for PONG %d: %v", c.name, token, c.readErr)
			if c.last.first != "" {
				err = fmt.Errorf("%w (after %q)", err, c.last.first)
			}
			return ack{}, err
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ack{}, fmt.Errorf("%s: no PONG %d before -timeout", c.name, token)
			}
			return ack{}, ctx.Err()
		}
	}
}

// close closes the connection and waits for the reader to end.
func (c *loadClient) close() {
	close(c.stop)
	c.conn.Close()
	<-c.done
}

// barrier sends PING <token> to every client and waits for every PONG
// until ctx is done. It returns each client's state at its PONG, and an
// error for each client that did not answer.
func barrier(ctx context.Context, clients []*loadClient, token uint64) ([]ack, []error) {
	errs := make([]error, len(clients))
	for i, c := range clients {
		if err := c.ping(token); err != nil {
			errs[i] = fmt.Errorf("%s: PING: %w", c.name, err)
		}
	}
	acks := make([]ack, len(clients))
	for i, c := range clients {
		if errs[i] == nil {
			acks[i], errs[i] = c.await(ctx, token)
		}
	}
	return acks, errs
}
