package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"roomchat.dev/roomchat/conformance/dial"
	"sync"
	"sync/atomic"
	"time"
)

// Barrier tokens of the load scenario's phases.
const (
	tokenRegistered uint64 = iota + 1 // after USERNAME and JOIN, per client
	tokenSettled                      // every client, once all have joined
	tokenSent                         // each sender, after its last line
	tokenDone                         // every client, once all senders are done
)

// sendBufSize is a sender's write buffer: flat out, lines are batched up
// to this many bytes per write.
const sendBufSize = 16 << 10

// setupWorkers is how many connections are set up at once.
const setupWorkers = 32

// LoadResult is the outcome of the load scenario.
type LoadResult struct {
	Dialect string  `json:"dialect,omitempty"` // "plain" for a plain relay (plain.go); "" for the protocol
	Clients int     `json:"clients"`
	Rooms   int     `json:"rooms"`
	Senders int     `json:"senders"`
	Lines   int     `json:"lines"`
	Size    int     `json:"size"`
	Rate    float64 `json:"rate"`
	// RoomsPerUser is the rooms each client is in, in the multi-room
	// scenario; 0 in the others, where each is in one.
	RoomsPerUser int   `json:"rooms_per_user,omitempty"`
	Expected     int64 `json:"expected"`
	tally
	// Dropped is the healthy members whose connection the server ended
	// during the run (their reader saw a reset or the end of the stream
	// before chatbench closed it; not -timeout).
	Dropped       int     `json:"healthy_dropped"`
	SetupSeconds  float64 `json:"setup_seconds"`
	SetupPerSec   float64 `json:"setup_per_sec"` // connections set up (dial, USERNAME, JOIN, PONG) per second
	SendSeconds   float64 `json:"send_seconds"`  // start until every sender had its PONG
	Seconds       float64 `json:"seconds"`       // start until every client had its final PONG
	DeliveriesSec float64 `json:"deliveries_per_sec"`
	Latency       Latency `json:"latency_us"`
	Server        *Usage  `json:"server,omitempty"` // over the measured phase; of a cluster, the nodes' sum
	ClientCPU     float64 `json:"client_cpu_seconds"`
	// Nodes is what each node of a cluster did (cluster.go), and SameNode
	// and CrossNode split Latency by whether the sender was on the
	// receiver's node or on another; none for one server.
	Nodes     []NodeResult  `json:"nodes,omitempty"`
	SameNode  *SplitLatency `json:"same_node,omitempty"`
	CrossNode *SplitLatency `json:"cross_node,omitempty"`
	// Stall is what became of the -stalled members; the figures above are
	// the healthy members' alone.
	Stall *StallResult `json:"stall,omitempty"`
	// Flooders is what the -flooders achieved; the figures above are the
	// healthy members' alone.
	Flooders []FlooderResult `json:"flooders,omitempty"`
	// Profiles are the pprof files written (-profile).
	Profiles []string `json:"profiles,omitempty"`

	timeline *timeline // with -timeline
}

// Latency is a latency summary in microseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

func summarize(h *histogram) Latency {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	return Latency{
		P50: us(h.quantile(0.50)), P99: us(h.quantile(0.99)), P999: us(h.quantile(0.999)),
		Max: us(h.max), Mean: h.mean() / 1e3,
	}
}

// runLoad runs the load scenario against nodes: one server, or the nodes
// of a cluster, load client i on nodes[i mod len(nodes)]. Problems found
// in the server's behaviour (lost lines, unexpected replies) are in the
// result and in the returned problems; err is for a run that could not be
// completed.
func runLoad(ctx context.Context, cfg *Config, nodes []node, deadline time.Time, prog *progress) (res *LoadResult, problems []string, err error) {
	if cfg.plain() {
		return runPlainLoad(ctx, cfg, nodes[0], deadline, prog)
	}
	addr := nodes[0].addr // of the stalled members and flooders, which need one server
	res = &LoadResult{
		Clients: cfg.Clients, Rooms: cfg.Rooms, Senders: cfg.Senders, Lines: cfg.Lines,
		Size: cfg.Size, Rate: cfg.Rate, RoomsPerUser: cfg.RoomsPerUser, Expected: cfg.expected(),
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	lat := &sharedHistogram{split: cfg.clustered()}
	if cfg.Timeline != "" {
		lat.tl = &timeline{}
		res.timeline = lat.tl
	}
	delivered := &atomic.Int64{}
	// Set up: each client registers, joins its room and waits for its PONG.
	t := time.Now()
	clients := make([]*loadClient, cfg.Clients)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()
	var connected atomic.Int64
	prog.set("connect", func() string {
		return fmt.Sprintf("%d/%d clients", connected.Load(), cfg.Clients)
	})
	errs := parallel(ctx, cfg.Clients, func(i int) error {
		c, err := dialLoad(ctx, cfg, i, nodes[cfg.nodeOf(i)].addr, deadline, lat, delivered)
		if c != nil {
			clients[i] = c
		}
		connected.Add(1)
		if err != nil {
			cancel() // no point in setting up the others
		}
		return err
	})
	if err := firstErr(errs); err != nil {
		return nil, nil, fmt.Errorf("setup: %w", err)
	}
	setup := time.Since(t)
	res.SetupSeconds = setup.Seconds()
	res.SetupPerSec = float64(cfg.Clients) / setup.Seconds()

	// The stalled members join once the healthy ones have.
	var stall *stallSet
	if cfg.Stalled > 0 {
		prog.set("stalled", func() string { return fmt.Sprintf("%d members that will not read", cfg.Stalled) })
		stall, err = dialStalled(ctx, cfg, addr, deadline)
		defer stall.finish()
		if err != nil {
			return nil, nil, fmt.Errorf("setup of the stalled members: %w", err)
		}
	}

	// Then the flooders.
	var flood *floodSet
	if cfg.Flooders > 0 {
		prog.set("flooders", func() string { return fmt.Sprintf("%d members that will flood", cfg.Flooders) })
		flood, err = dialFlooders(ctx, cfg, addr, deadline)
		defer flood.close()
		if err != nil {
			return nil, nil, fmt.Errorf("setup of the flooders: %w", err)
		}
	}

	// Settle: once every JOIN has been processed, a PING from each client
	// proves it has received every JOIN note meant for it.
	prog.set("settle", func() string { return "" })
	settled, errs := barrier(ctx, clients, tokenSettled)
	if err := firstErr(errs); err != nil {
		return nil, nil, fmt.Errorf("settle: %w", err)
	}
	for i, a := range settled {
		if want := cfg.joinNotes(i) + cfg.Stalled + cfg.Flooders; a.joins != want {
			problems = append(problems, fmt.Sprintf("%s: %d JOIN notes after everyone joined, want %d", clientName(i), a.joins, want))
		}
		if p := a.problem(); p != "" {
			problems = append(problems, fmt.Sprintf("%s: during setup: %s", clientName(i), p))
		}
	}

	// Send: every sender starts at once; each ends with its own barrier so
	// that its last line has been processed by the server.
	var sent atomic.Int64
	total := int64(cfg.Senders) * int64(cfg.Lines)
	prog.set("send", func() string {
		return fmt.Sprintf("sent %d/%d, delivered %d/%d", sent.Load(), total, delivered.Load(), res.Expected)
	})
	var prof *profiles
	if !cfg.clustered() {
		prof = startProfiles(ctx, cfg, nodes[0], "", true)
	}
	before := sampleNodes(nodes)
	cpu0 := selfCPU()
	start := make(chan struct{})
	var t0 time.Time
	var wg sync.WaitGroup
	errs = make([]error, cfg.Senders)
	for i := range cfg.Senders {
		wg.Go(func() {
			<-start
			errs[i] = clients[i].sendLines(ctx, cfg, t0, deadline, &sent)
		})
	}
	if stall != nil {
		stall.startSenders(ctx, cfg, start, &t0, deadline)
	}
	if flood != nil {
		flood.start(cfg, start)
	}
	t0 = time.Now()
	if lat.tl != nil {
		lat.tl.t0.Store(t0.UnixNano())
	}
	close(start)
	wg.Wait()
	sendDone := time.Since(t0)
	// The flooders flood while the senders send, and no longer.
	if flood != nil {
		flood.snapshot()
		flood.halt()
	}
	// A sender that failed (the server closed its connection, say) is a
	// problem of the server's; the lines it could not send show up as lost.
	problems = appendErrs(problems, "send", errs)

	// Drain: after every sender's PONG, a PING from each client proves it
	// has received every line sent to it.
	prog.set("drain", func() string {
		return fmt.Sprintf("delivered %d/%d", delivered.Load(), res.Expected)
	})
	drained, errs := barrier(ctx, clients, tokenDone)
	problems = appendErrs(problems, "drain", errs)
	elapsed := time.Since(t0)
	after := sampleNodes(nodes)
	res.ClientCPU = selfCPU() - cpu0
	problems = append(problems, prof.finish(ctx, nodes[0])...)
	res.Profiles = prof.written()
	for i, a := range drained {
		if a.unexpected() > settled[i].unexpected() {
			problems = append(problems, fmt.Sprintf("%s: during the run: %s", clientName(i), a.problem()))
		}
	}
	// The healthy members go before the stalled ones, so that no LEAVE
	// note of a stalled member closed by chatbench counts as a drop.
	if stall != nil {
		stall.stopWatching()
	}
	byNode := make([]int64, len(nodes)) // deliveries to each node's clients
	for _, c := range clients {
		c.close()
		res.tally.add(c.final)
		byNode[cfg.nodeOf(c.id)] += c.final.Delivered
		if c.readErr != nil && !errors.Is(c.readErr, os.ErrDeadlineExceeded) {
			res.Dropped++
		}
	}
	if flood != nil {
		flood.close()
		var fp []string
		res.Flooders, fp = flood.results(clients, t0)
		problems = append(problems, fp...)
	}
	if stall != nil {
		stall.finish()
		res.Stall = stall.results(cfg, clients, t0)
	}
	clients = nil

	res.SendSeconds = sendDone.Seconds()
	res.Seconds = elapsed.Seconds()
	res.DeliveriesSec = float64(res.Delivered) / elapsed.Seconds()
	res.Latency = summarize(&lat.h)
	if cfg.clustered() {
		res.Nodes, res.Server = nodeResults(cfg, before, after, byNode)
		res.SameNode = &SplitLatency{Deliveries: lat.same.count(), Latency: summarize(&lat.same)}
		res.CrossNode = &SplitLatency{Deliveries: lat.cross.count(), Latency: summarize(&lat.cross)}
	} else if before[0] != nil && after[0] != nil {
		res.Server = usage(before[0], after[0], res.Delivered)
	}
	if res.bad() {
		problems = append(problems, fmt.Sprintf("%d lost, %d duplicated, %d reordered, %d garbled of %d expected deliveries",
			res.Lost, res.Duplicated, res.Reordered, res.Garbled, res.Expected))
	}
	return res, problems, nil
}

// dialLoad connects load client i, registers it and joins its room.
func dialLoad(ctx context.Context, cfg *Config, i int, addr string, deadline time.Time, lat *sharedHistogram, delivered *atomic.Int64) (*loadClient, error) {
	conn, err := cfg.dialer(deadline).Dial(addr, dial.Options{})
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(deadline)
	c := &loadClient{
		id: i, room: cfg.roomOf(i), name: clientName(i), conn: conn, bufSize: readBufSize(cfg.Clients),
		acks: make(chan ack, 1), stop: make(chan struct{}), done: make(chan struct{}),
		delivered: delivered,
	}
	if cfg.multi() {
		c.rx = newMultiReceiver(cfg, i, newLatencyBatch(lat))
	} else {
		c.rx = newReceiver(cfg, c.room, newLatencyBatch(lat))
	}
	c.rx.onNode(cfg.nodeOf(i), cfg.nodeCount())
	c.notes = newStallNotes(cfg, i == 0)
	go c.read()
	var hello []byte
	if cfg.multi() {
		hello = append(hello, "CAPS rooms\r\n"...)
	}
	hello = fmt.Appendf(hello, "USERNAME %s\r\n", clientName(i))
	rooms := cfg.roomsOf(i)
	for _, r := range rooms {
		hello = fmt.Appendf(hello, "JOIN %s\r\n", roomName(r))
	}
	hello = append(hello, pingLine(tokenRegistered)...)
	if _, err := conn.Write(hello); err != nil {
		return c, err
	}
	a, err := c.await(ctx, tokenRegistered)
	if err != nil {
		return c, err
	}
	if !a.welcomed || a.joined != len(rooms) || a.enabled != cfg.multi() || a.problem() != "" {
		return c, fmt.Errorf("%s: CAPS, USERNAME or JOIN not accepted (rooms enabled %v, welcome %v, joined %d of %d rooms) %s",
			clientName(i), a.enabled, a.welcomed, a.joined, len(rooms), a.problem())
	}
	return c, nil
}

// sendLines sends the client's lines, starting at t0, then waits for the
// PONG that shows the server has processed them all. Sender k of S paces
// its lines at t0 + k/(S·rate) + seq/rate, so that the senders' lines are
// spread evenly over each interval.
func (c *loadClient) sendLines(ctx context.Context, cfg *Config, t0 time.Time, deadline time.Time, sent *atomic.Int64) error {
	var offset time.Duration
	if cfg.Rate > 0 {
		interval := time.Duration(float64(time.Second) / cfg.Rate)
		offset = interval * time.Duration(c.id) / time.Duration(cfg.Senders)
	}
	if err := writeLines(ctx, c.conn, cfg, c.id, clientName(c.id), offset, t0, deadline, pingLine(tokenSent), sent); err != nil {
		return err
	}
	_, err := c.await(ctx, tokenSent)
	return err
}

// writeLines writes the lines of sender id (whose username is name) to
// conn, then tail with the last of them. Flat out it writes whenever
// sendBufSize bytes are pending; paced it writes line seq at t0 + offset +
// seq/rate. It adds the lines written to sent.
func writeLines(ctx context.Context, conn net.Conn, cfg *Config, id int, name string, offset time.Duration, t0, deadline time.Time, tail []byte, sent *atomic.Int64) error {
	w := bufio.NewWriterSize(conn, sendBufSize)
	paced := cfg.Rate > 0
	var interval time.Duration
	var pace *time.Timer
	if paced {
		interval = time.Duration(float64(time.Second) / cfg.Rate)
		pace = time.NewTimer(0)
		defer pace.Stop()
	}
	flushed := 0
	for seq := range cfg.Lines {
		if paced {
			at := t0.Add(offset + time.Duration(seq)*interval)
			if d := time.Until(at); d > 0 {
				if at.After(deadline) {
					return fmt.Errorf("%s: -timeout before line %d is due", name, seq)
				}
				pace.Reset(d)
				select {
				case <-pace.C:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		if w.Available() < maxSize+8 {
			if err := w.Flush(); err != nil {
				return err
			}
			sent.Add(int64(seq - flushed))
			flushed = seq
		}
		b := w.AvailableBuffer()
		if !cfg.plain() {
			b = append(b, "MSG "...) // a plain relay takes the payload alone
		}
		if cfg.multi() {
			b = append(appendRoomName(b, cfg.lineRoom(id, seq)), ' ') // 13.4: MSG <room> <text>
		}
		b = appendPayload(b, id, seq, time.Now().UnixNano(), cfg.Size)
		b = append(b, '\r', '\n')
		w.Write(b)
		if paced {
			if err := w.Flush(); err != nil {
				return err
			}
			sent.Add(int64(seq + 1 - flushed))
			flushed = seq + 1
		}
	}
	w.Write(tail)
	if err := w.Flush(); err != nil {
		return err
	}
	sent.Add(int64(cfg.Lines - flushed))
	return nil
}

// firstErr returns the first error of errs that is not a cancellation
// caused by another, or else the first error, or nil.
func firstErr(errs []error) error {
	for _, err := range errs {
		if !errors.Is(err, context.Canceled) {
			return err
		}
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// appendErrs appends the non-nil errors of errs to problems, at most a few
// of them.
func appendErrs(problems []string, phase string, errs []error) []string {
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	return append(problems, summarizeErrs(phase, failed)...)
}
