package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// Idle connections that read (doc.go, the idle scenario): with -idle-rooms
// R, idle connection i registers as idle<i>, joins #idle<i mod R> and
// reads everything the server sends it (the roster, then a JOIN note for
// each later member) for as long as it is open, as a client would; with
// -dialect plain, it only reads the BARRIER lines that show it is in the
// relay's set. The connections in the lobby (neither) need no reader: the
// server sends them nothing (idle.go).

// Barrier tokens of the idle connections in rooms, and the first BARRIER
// token of the final check of plain ones (those of their setup count from
// 1).
const (
	idleJoined  uint64 = iota + 1 // after USERNAME and JOIN, per connection
	idleSettled                   // every connection, once all have joined
	idleAlive                     // every connection, after the hold
	plainAlive  uint64 = 1 << 32
)

// idler is one idle connection with a reader goroutine.
type idler struct {
	// Immutable after dial.
	id    int
	conn  net.Conn
	plain bool
	acks  chan idleAck  // reader -> coordinator: one per PONG
	stop  chan struct{} // closed by the coordinator before it closes conn
	done  chan struct{} // closed by the reader when it returns

	marker atomic.Uint64 // plain: the highest BARRIER token received; written by the reader

	// Owned by the reader until done is closed, then read-only.
	st      idleAck
	readErr error
}

// idleAck is an idler's reader's count of what arrived, as of a PONG.
type idleAck struct {
	token    uint64
	lines    int64 // every line
	joins    int64 // JOIN lines: roster and notes
	welcomed bool  // "OK Welcome, ..."
	joined   bool  // "OK Joined ..."
	other    int   // anything unexpected
	first    string
}

// dialIdler connects idle connection i and starts its reader.
func dialIdler(ctx context.Context, addr string, i int, plain bool, deadline time.Time) (*idler, error) {
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &idler{id: i, conn: conn, plain: plain, acks: make(chan idleAck, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.read()
	return c, nil
}

// read is the idler's reader goroutine.
func (c *idler) read() {
	defer close(c.done)
	br := bufio.NewReaderSize(c.conn, 4<<10)
	note := func(line []byte) {
		if c.st.other == 0 {
			c.st.first = string(line)
		}
		c.st.other++
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
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
			return
		}
		c.st.lines++
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, nl), cr)
		switch {
		case c.plain && bytes.HasPrefix(line, []byte(plainBarrier)):
			if tok, _, ok := parseUint(line[len(plainBarrier):], ' '); ok && uint64(tok) > c.marker.Load() {
				c.marker.Store(uint64(tok))
			}
		case c.plain:
			note(line)
		case bytes.HasPrefix(line, prefixPong):
			tok, _, ok := parseUint(line[len(prefixPong):], ' ')
			if !ok {
				note(line)
				continue
			}
			c.st.token = uint64(tok)
			select {
			case c.acks <- c.st:
			case <-c.stop:
			}
		case bytes.HasPrefix(line, prefixWelcome):
			c.st.welcomed = true
		case bytes.HasPrefix(line, prefixJoined):
			c.st.joined = true
		case bytes.HasPrefix(line, prefixJoin):
			c.st.joins++
		default:
			note(line)
		}
	}
}

// await waits for PONG <token>.
func (c *idler) await(ctx context.Context, token uint64) (idleAck, error) {
	for {
		select {
		case a := <-c.acks:
			if a.token == token {
				return a, nil
			}
		case <-c.done:
			return idleAck{}, fmt.Errorf("%s: connection ended while waiting for PONG %d: %v", idleName(c.id), token, c.readErr)
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return idleAck{}, fmt.Errorf("%s: no PONG %d before -timeout", idleName(c.id), token)
			}
			return idleAck{}, ctx.Err()
		}
	}
}

// ping sends PING <token> and waits for its PONG.
func (c *idler) ping(ctx context.Context, token uint64) (idleAck, error) {
	if _, err := c.conn.Write(pingLine(token)); err != nil {
		return idleAck{}, fmt.Errorf("%s: PING: %w", idleName(c.id), err)
	}
	return c.await(ctx, token)
}

// close closes the connection and waits for the reader to end.
func (c *idler) close() {
	close(c.stop)
	c.conn.Close()
	<-c.done
}

// idleRoom returns the room of idle connection i with R rooms.
func idleRoom(i, rooms int) string { return "#idle" + strconv.Itoa(i%rooms) }

// joinIdler connects idle connection i, registers it and joins its room.
func joinIdler(ctx context.Context, cfg *Config, addr string, i int, deadline time.Time) (*idler, error) {
	c, err := dialIdler(ctx, addr, i, false, deadline)
	if err != nil {
		return nil, err
	}
	hello := fmt.Appendf(nil, "USERNAME %s\r\nJOIN %s\r\n", idleName(i), idleRoom(i, cfg.IdleRooms))
	if _, err := c.conn.Write(append(hello, pingLine(idleJoined)...)); err != nil {
		return c, err
	}
	a, err := c.await(ctx, idleJoined)
	if err != nil {
		return c, err
	}
	if !a.welcomed || !a.joined || a.other > 0 {
		return c, fmt.Errorf("%s: USERNAME or JOIN not accepted (welcome %v, joined %v); %d unexpected lines, first %q",
			idleName(i), a.welcomed, a.joined, a.other, a.first)
	}
	return c, nil
}

// JoinResult is what the idle connections' joins cost the server: from
// before the first connection to when every member had every JOIN note.
type JoinResult struct {
	Seconds   float64 `json:"seconds"`
	Lines     int64   `json:"lines"`      // lines delivered to the idle connections: replies, rosters, notes, PONGs
	JoinNotes int64   `json:"join_notes"` // of which JOIN lines (roster and notes)
	Server    *Usage  `json:"server,omitempty"`
}

// settleRooms sends PING to every idle connection in a room and checks,
// at its PONG, that it has a JOIN line for every other member of its room.
func settleRooms(ctx context.Context, cfg *Config, idlers []*idler) (lines, joins int64, problems []string) {
	acks := make([]idleAck, len(idlers))
	errs := parallel(ctx, len(idlers), func(i int) error {
		c := idlers[i]
		if c == nil {
			return nil
		}
		a, err := c.ping(ctx, idleSettled)
		acks[i] = a
		return err
	})
	problems = summarizeErrs("idle settle", errs)
	var wrong []error
	for i, a := range acks {
		lines += a.lines
		joins += a.joins
		if idlers[i] == nil || a.token != idleSettled {
			continue
		}
		if want := int64(countMod(cfg.Idle, cfg.IdleRooms, i%cfg.IdleRooms) - 1); a.joins != want || a.other > 0 {
			wrong = append(wrong, fmt.Errorf("%s: %d JOIN lines once all had joined, want %d; %d unexpected lines, first %q",
				idleName(i), a.joins, want, a.other, a.first))
		}
	}
	return lines, joins, append(problems, summarizeErrs("idle JOIN lines", wrong)...)
}

// settlePlain has a connection of its own send BARRIER lines to the
// plain idle connections until each has one with a token from tok0 on.
func settlePlain(ctx context.Context, addr string, idlers []*idler, tok0 uint64, deadline time.Time) error {
	d := net.Dialer{Deadline: deadline}
	coord, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer coord.Close()
	coord.SetDeadline(deadline)
	var live []*idler
	for _, c := range idlers {
		if c != nil {
			live = append(live, c)
		}
	}
	missing, err := sendBarrierFrom(ctx, coord, tok0, len(live), func(i int) bool { return live[i].marker.Load() >= tok0 }, deadline)
	if err != nil {
		return fmt.Errorf("%d of %d connections: %w", missing, len(live), err)
	}
	return nil
}
