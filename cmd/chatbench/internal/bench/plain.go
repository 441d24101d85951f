package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The plain dialect (doc.go) is that of a relay with no names and no rooms,
// such as bench/floor: every line a client sends goes to every other
// client, unchanged, in the order the relay read them. A line carries its
// sender and number in its payload alone (payload.go), sent as it is,
// without "MSG ". A relay has no PING, so the phases are marked by lines
// of chatbench's own, which the relay passes on like any other:
//
//	BARRIER <token>   from client 0: whoever receives it is in the relay's
//	                  set of connections; sent again, with a new token,
//	                  until every other client has one
//	END <id>          from sender id after its last line: a client that
//	                  has the END of every other sender has all their lines,
//	                  since a relay keeps each sender's order
//
// A client never receives its own lines, so a lossless run delivers
// senders × lines × (clients - 1) lines.

const (
	plainBarrier = "BARRIER "
	plainEnd     = "END "
)

// plainRetry is how long the registration barrier waits for a BARRIER
// line to reach every client before sending another.
const plainRetry = 100 * time.Millisecond

func (c Config) plain() bool { return c.Dialect == "plain" }

// plainExpected returns the deliveries of a lossless plain run.
func (c Config) plainExpected() int64 {
	return int64(c.Senders) * int64(c.Lines) * int64(max(c.Clients-1, 0))
}

// plainClient is one connection to a plain relay. Its reader goroutine
// owns the receiver; the coordinator learns of barriers and ENDs through
// marker and ended.
type plainClient struct {
	// Immutable after dial.
	id      int
	conn    net.Conn
	bufSize int
	wantEnd int           // ENDs to wait for: the senders other than itself
	ended   chan struct{} // closed by the reader when every END it waits for has arrived
	stop    chan struct{} // closed by the coordinator before it closes conn
	done    chan struct{} // closed by the reader when it returns

	marker atomic.Uint64 // the highest BARRIER token received; written by the reader

	// Owned by the reader until done is closed, then read-only.
	rx      *receiver
	ends    []bool // END received, by sender id
	nends   int
	other   int    // lines that are none of the above: problems
	first   string // the first of them
	final   tally
	readErr error // why the reader ended, nil if after stop

	delivered *atomic.Int64 // lines received, for the progress line
}

// dialPlain connects load client i to a plain relay and starts its reader.
func dialPlain(cfg *Config, i int, addr string, deadline time.Time, lat *sharedHistogram, delivered *atomic.Int64) (*plainClient, error) {
	d := net.Dialer{Deadline: deadline}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(deadline)
	c := &plainClient{
		id: i, conn: conn, bufSize: readBufSize(cfg.Clients),
		wantEnd: cfg.Senders, ends: make([]bool, cfg.Senders),
		ended: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
		rx:        newReceiver(cfg, 0, newLatencyBatch(lat)),
		delivered: delivered,
	}
	c.rx.self = i
	if i < cfg.Senders {
		c.wantEnd--
	}
	if c.wantEnd == 0 {
		close(c.ended)
	}
	go c.read()
	return c, nil
}

// read is the client's reader goroutine.
func (c *plainClient) read() {
	defer close(c.done)
	sr := &stampReader{r: c.conn}
	br := bufio.NewReaderSize(sr, c.bufSize)
	var pending int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			c.unexpected(line[:64])
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
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, nl), cr)
		switch {
		case bytes.HasPrefix(line, []byte(plainBarrier)):
			tok, _, ok := parseUint(line[len(plainBarrier):], ' ')
			if !ok {
				c.unexpected(line)
			} else if uint64(tok) > c.marker.Load() {
				c.marker.Store(uint64(tok))
			}
		case bytes.HasPrefix(line, []byte(plainEnd)):
			c.end(line)
		default:
			c.rx.plainLine(line, sr.last)
			pending++
		}
		if pending > 0 && br.Buffered() == 0 {
			c.delivered.Add(pending)
			pending = 0
		}
	}
	c.delivered.Add(pending)
	c.final = c.rx.finish()
}

// end records a line "END <id>".
func (c *plainClient) end(line []byte) {
	id, rest, ok := parseUint(line[len(plainEnd):], ' ')
	if !ok || len(rest) > 0 || id >= int64(len(c.ends)) || int(id) == c.id || c.ends[id] {
		c.unexpected(line)
		return
	}
	c.ends[id] = true
	c.nends++
	if c.nends == c.wantEnd {
		close(c.ended)
	}
}

func (c *plainClient) unexpected(line []byte) {
	if c.other == 0 {
		c.first = string(line)
	}
	c.other++
}

// close closes the connection and waits for the reader to end.
func (c *plainClient) close() {
	close(c.stop)
	c.conn.Close()
	<-c.done
}

// plainLine checks a line of a plain relay: a payload some other sender
// sent, intact, once and in its order.
func (r *receiver) plainLine(text []byte, now int64) {
	h, ok, scratch := parsePayload(text, r.size, r.scratch)
	r.scratch = scratch
	if !ok || h.id >= r.nsend || h.id == r.self {
		r.tally.Garbled++ // not a line of another sender, or the client's own echoed
		return
	}
	switch r.trackers[h.id].observe(h.seq, r.lines) {
	case outOfRange:
		r.tally.Garbled++
		return
	case duplicate:
		r.tally.Duplicated++
		return
	case reordered:
		r.tally.Reordered++
	}
	r.tally.Delivered++
	r.lat.add(h.ts, now-h.ts)
}

// sendBarrierFrom has from send BARRIER lines, with a new token from tok0
// on every plainRetry, until each of n connections has received one (seen
// reports whether connection i has), or the deadline. It returns how many
// never did.
func sendBarrierFrom(ctx context.Context, from net.Conn, tok0 uint64, n int, seen func(i int) bool, deadline time.Time) (int, error) {
	waiting := make([]int, 0, n)
	for i := range n {
		waiting = append(waiting, i)
	}
	for tok := tok0; len(waiting) > 0; tok++ {
		if _, err := from.Write([]byte(plainBarrier + strconv.FormatUint(tok, 10) + "\r\n")); err != nil {
			return len(waiting), err
		}
		retry := time.Now().Add(plainRetry)
		for len(waiting) > 0 && time.Now().Before(retry) {
			if time.Now().After(deadline) {
				return len(waiting), errors.New("not every connection received a BARRIER line before -timeout")
			}
			if err := ctx.Err(); err != nil {
				return len(waiting), err
			}
			waiting = waiting[:deleteSeen(waiting, seen)]
			if len(waiting) > 0 {
				time.Sleep(2 * time.Millisecond)
			}
		}
	}
	return 0, nil
}

// deleteSeen moves the connections of waiting that have not seen a
// barrier to its front and returns how many they are.
func deleteSeen(waiting []int, seen func(i int) bool) int {
	k := 0
	for _, i := range waiting {
		if !seen(i) {
			waiting[k] = i
			k++
		}
	}
	return k
}

// runPlainLoad runs the load scenario against a plain relay (runLoad's
// counterpart): every client connects, client 0's BARRIER lines show that
// all are in the relay's set, the senders send their lines and END, and
// every client waits for the END of every other sender.
func runPlainLoad(ctx context.Context, cfg *Config, srv node, deadline time.Time, prog *progress) (res *LoadResult, problems []string, err error) {
	res = &LoadResult{
		Dialect: "plain", Clients: cfg.Clients, Rooms: 1, Senders: cfg.Senders, Lines: cfg.Lines,
		Size: cfg.Size, Rate: cfg.Rate, Expected: cfg.plainExpected(),
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	lat := &sharedHistogram{}
	if cfg.Timeline != "" {
		lat.tl = &timeline{}
		res.timeline = lat.tl
	}
	delivered := &atomic.Int64{}
	t := time.Now()
	clients := make([]*plainClient, cfg.Clients)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()
	var connected atomic.Int64
	prog.set("connect", func() string { return fmt.Sprintf("%d/%d clients", connected.Load(), cfg.Clients) })
	errs := parallel(ctx, cfg.Clients, func(i int) error {
		c, err := dialPlain(cfg, i, srv.addr, deadline, lat, delivered)
		if err != nil {
			cancel()
			return err
		}
		clients[i] = c
		connected.Add(1)
		return nil
	})
	if err := firstErr(errs); err != nil {
		return nil, nil, fmt.Errorf("setup: %w", err)
	}
	prog.set("settle", func() string { return "BARRIER until every client has one" })
	missing, err := sendBarrierFrom(ctx, clients[0].conn, 1, cfg.Clients-1, func(i int) bool { return clients[i+1].marker.Load() > 0 }, deadline)
	if err != nil {
		return nil, nil, fmt.Errorf("setup: %d of %d clients: %w", missing, cfg.Clients-1, err)
	}
	setup := time.Since(t)
	res.SetupSeconds = setup.Seconds()
	res.SetupPerSec = float64(cfg.Clients) / setup.Seconds()

	var sent atomic.Int64
	total := int64(cfg.Senders) * int64(cfg.Lines)
	prog.set("send", func() string {
		return fmt.Sprintf("sent %d/%d, delivered %d/%d", sent.Load(), total, delivered.Load(), res.Expected)
	})
	prof := startProfiles(ctx, cfg, srv, "", true)
	before := sample(srv.pid)
	cpu0 := selfCPU()
	start := make(chan struct{})
	var t0 time.Time
	var wg sync.WaitGroup
	errs = make([]error, cfg.Senders)
	for i := range cfg.Senders {
		wg.Go(func() {
			<-start
			var offset time.Duration
			if cfg.Rate > 0 {
				offset = time.Duration(float64(time.Second)/cfg.Rate) * time.Duration(i) / time.Duration(cfg.Senders)
			}
			tail := []byte(plainEnd + strconv.Itoa(i) + "\r\n")
			errs[i] = writeLines(ctx, clients[i].conn, cfg, i, fmt.Sprintf("client %d", i), offset, t0, deadline, tail, &sent)
		})
	}
	t0 = time.Now()
	if lat.tl != nil {
		lat.tl.t0.Store(t0.UnixNano())
	}
	close(start)
	wg.Wait()
	sendDone := time.Since(t0)
	problems = appendErrs(problems, "send", errs)

	prog.set("drain", func() string { return fmt.Sprintf("delivered %d/%d", delivered.Load(), res.Expected) })
	var unended []error
	var late []*plainClient // no END of some sender before -timeout
	for _, c := range clients {
		select {
		case <-c.ended:
		case <-c.done:
			unended = append(unended, fmt.Errorf("client %d: connection ended before the END of every sender: %v", c.id, c.readErr))
		case <-ctx.Done():
			late = append(late, c)
		}
	}
	elapsed := time.Since(t0)
	after := sample(srv.pid)
	res.ClientCPU = selfCPU() - cpu0
	for _, c := range clients {
		c.close()
		res.tally.add(c.final)
		if c.readErr != nil && !errors.Is(c.readErr, os.ErrDeadlineExceeded) {
			res.Dropped++
		}
		if c.other > 0 {
			problems = append(problems, fmt.Sprintf("client %d: %d unexpected lines, first %q", c.id, c.other, c.first))
		}
	}
	for _, c := range late {
		unended = append(unended, fmt.Errorf("client %d: the END of %d of %d senders did not arrive before -timeout", c.id, c.wantEnd-c.nends, c.wantEnd))
	}
	problems = append(problems, summarizeErrs("drain", unended)...)
	clients = nil
	problems = append(problems, prof.finish(ctx, srv)...)
	res.Profiles = prof.written()

	res.SendSeconds = sendDone.Seconds()
	res.Seconds = elapsed.Seconds()
	res.DeliveriesSec = float64(res.Delivered) / elapsed.Seconds()
	res.Latency = summarize(&lat.h)
	if before != nil && after != nil {
		res.Server = usage(before, after, res.Delivered)
	}
	if res.bad() {
		problems = append(problems, fmt.Sprintf("%d lost, %d duplicated, %d reordered, %d garbled of %d expected deliveries",
			res.Lost, res.Duplicated, res.Reordered, res.Garbled, res.Expected))
	}
	return res, problems, nil
}
