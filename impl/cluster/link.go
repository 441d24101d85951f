package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors reported on [Link.Errors], wrapped with details.
var (
	// ErrStreamLost reports that the stream is no longer the log that
	// the Link has been delivering: it was deleted, replaced by another
	// of the same name, or lost entries (some that were delivered, or
	// some that were not yet). The Link delivers no more entries.
	ErrStreamLost = errors.New("cluster: stream lost")
	// ErrRejected reports that the server refused to store an entry (for
	// example a limit of the stream). The publisher keeps retrying it, and
	// the entries queued after it wait.
	ErrRejected = errors.New("cluster: entry rejected")
	// ErrClosed reports that the NATS connection was closed by something
	// other than [Link.Close] (for example an authorization error on
	// reconnect): the Link will not reconnect.
	ErrClosed = errors.New("cluster: NATS connection closed")
)

// Entry is one entry of the log, delivered on [Link.Entries].
type Entry struct {
	// Seq is the entry's position in the log: its stream sequence, from 1,
	// without gaps.
	Seq uint64
	// Node is the ID of the node that published it.
	Node string
	// Data is what the node gave to TryPublish. The receiver owns it.
	Data []byte
}

// Timings of the link's requests to NATS.
const (
	dialTimeout     = 5 * time.Second        // connect and bind the stream, in Dial
	requestTimeout  = 5 * time.Second        // a publish's ack, a consumer's creation, a stream's info
	reconnectWait   = 250 * time.Millisecond // between reconnect attempts
	pingInterval    = 2 * time.Second        // the client's pings, to find a dead server
	retryFirst      = 20 * time.Millisecond  // first wait before a retry; doubles
	retryMax        = time.Second            // longest wait before a retry
	headerRoom      = 1024                   // room left in a NATS message for the headers
	entriesBuffered = 256                    // capacity of the Entries channel
	errorsBuffered  = 8                      // capacity of the Errors channel
)

// Link is one node's connection to the log: a JetStream stream that every
// node appends to and reads whole, in order. It owns a NATS connection and
// three goroutines besides nats.go's (publisher, consumer, monitor), and
// talks to its user, the server's loop, only through non-blocking calls
// and channels; see the package documentation for what it guarantees.
type Link struct {
	// Immutable after Dial.
	cfg     Config
	names   names
	run     string    // random, new at every Dial: in message IDs and consumer names
	maxData int       // longest data TryPublish takes
	created time.Time // the stream's creation time: its identity
	log     *slog.Logger
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  jetstream.Stream
	hooks   hooks

	queue *queue // TryPublish -> publisher
	// accepted counts the entries TryPublish queued, settled those the
	// publisher has stored (or given up with the Link closed); settledCh
	// wakes Flush after each.
	accepted, settled atomic.Uint64
	settledCh         chan struct{}
	entries           chan Entry  // consumer -> the loop; never closed
	dead              chan string // monitor -> the loop
	up                chan bool   // monitor -> the loop
	errs              chan error  // any goroutine -> the loop, never waiting (report)
	conn              connState   // nats.go's callbacks -> the goroutines

	ctx    context.Context // canceled by Close; parent of every request
	cancel context.CancelFunc
	wg     sync.WaitGroup // the goroutines
	once   sync.Once
}

// hooks let tests look inside the goroutines and inject faults. All nil
// outside tests.
type hooks struct {
	seen      func(node string)             // monitor: first heartbeat heard from node
	dropAck   func(counter uint64) bool     // publisher: pretend that the ack of entry counter was lost
	recovered func(counter uint64)          // publisher: a retry found entry counter stored
	silent    *atomic.Bool                  // monitor: send no heartbeats while true
	consumer  func(serial int, next uint64) // consumer: a consumer was created from next
}

// Dial connects to NATS at cfg.URL, creates the stream (or binds it if it
// exists and stores the same subjects), and starts the goroutines that publish,
// consume from the stream's first entry, and exchange heartbeats. It fails
// if NATS cannot be reached or the stream cannot be created or bound; once
// it has succeeded, the Link reconnects by itself, forever, until Close.
func Dial(cfg Config) (*Link, error) {
	return dial(cfg, hooks{})
}

func dial(cfg Config, h hooks) (*Link, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Link{
		cfg:       cfg,
		names:     newNames(cfg.Stream, cfg.Subject),
		run:       NewNode(),
		log:       cfg.Logger.With(slog.String("node", cfg.Node)),
		hooks:     h,
		queue:     newQueue(cfg.QueueLen, cfg.QueueBytes),
		settledCh: make(chan struct{}, 1),
		entries:   make(chan Entry, entriesBuffered),
		dead:      make(chan string),
		up:        make(chan bool),
		errs:      make(chan error, errorsBuffered),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.conn.init(l.ctx)
	fail := func(err error) (*Link, error) {
		l.cancel()
		if l.nc != nil {
			l.nc.Close()
		}
		return nil, err
	}

	l.nc, err = nats.Connect(cfg.URL,
		nats.Name("roomchat "+cfg.Node),
		nats.Timeout(dialTimeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectJitter(reconnectWait/2, time.Second),
		// No reconnect buffer: a publish while disconnected fails at once
		// instead of being sent later, behind the publisher's back.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(pingInterval),
		nats.MaxPingsOutstanding(3),
		nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			l.conn.set(false)
			l.log.Warn("cluster: disconnected from NATS", slog.Any("err", err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			l.conn.set(true)
			l.log.Info("cluster: reconnected to NATS", slog.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			l.conn.set(false)
			if l.ctx.Err() == nil {
				l.report(ErrClosed)
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			l.log.Warn("cluster: NATS error", slog.String("subject", subject), slog.Any("err", err))
		}),
	)
	if err != nil {
		return fail(fmt.Errorf("cluster: connect to NATS at %s: %w", cfg.URL, err))
	}
	if !l.nc.HeadersSupported() {
		return fail(fmt.Errorf("cluster: NATS at %s does not support headers", cfg.URL))
	}
	l.maxData = int(l.nc.MaxPayload()) - headerRoom
	if l.js, err = jetstream.New(l.nc); err != nil {
		return fail(fmt.Errorf("cluster: JetStream: %w", err))
	}
	ctx, cancel := context.WithTimeout(l.ctx, dialTimeout)
	defer cancel()
	if err := l.bind(ctx); err != nil {
		return fail(err)
	}
	beats := make(chan *nats.Msg, 1024)
	if _, err := l.nc.ChanSubscribe(l.names.hbSubject("*"), beats); err != nil {
		return fail(fmt.Errorf("cluster: subscribe to heartbeats: %w", err))
	}

	l.wg.Add(3)
	go l.publish()
	go l.consume()
	go l.monitor(beats)
	return l, nil
}

// bind creates the stream, or binds it if it exists, and keeps its
// creation time as its identity.
func (l *Link) bind(ctx context.Context) error {
	want := jetstream.StreamConfig{
		Name:        l.names.stream,
		Description: "roomchat cluster log",
		Subjects:    []string{l.names.filter},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    1,
		Duplicates:  l.cfg.Duplicates,
		// The log is replayed from its first entry by every node that
		// starts: nothing may be taken out of it.
		DenyDelete: true,
		DenyPurge:  true,
	}
	s, err := l.createStream(ctx, want)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// It exists with another configuration: bind it if it stores our
		// subjects.
		s, err = l.js.Stream(ctx, l.names.stream)
		if err == nil && !slices.Contains(s.CachedInfo().Config.Subjects, l.names.filter) {
			return fmt.Errorf("cluster: stream %q exists with subjects %q, not %q", l.names.stream, s.CachedInfo().Config.Subjects, l.names.filter)
		}
	}
	if err != nil {
		return fmt.Errorf("cluster: create or bind stream %q on %s: %w", l.names.stream, l.cfg.URL, err)
	}
	info := s.CachedInfo()
	if c := info.Config; c.MaxAge > 0 || c.MaxMsgs > 0 || c.MaxBytes > 0 || c.MaxMsgsPerSubject > 0 || c.Retention != jetstream.LimitsPolicy {
		l.log.Warn("cluster: the stream has limits that may drop entries; a node that needs them will stop with ErrStreamLost",
			slog.String("stream", l.names.stream))
	}
	l.stream, l.created = s, info.Created
	l.log.Info("cluster: bound stream", slog.String("stream", l.names.stream),
		slog.Uint64("last_seq", info.State.LastSeq), slog.Time("created", info.Created))
	return nil
}

// storeRetries bounds how often createStream asks again after the server
// failed to create the stream's store.
const storeRetries = 5

// createStream creates the stream. A server that deleted a stream a moment
// ago may still be removing its directories in the background, and a
// create that races that cleanup fails with a server error (code 500,
// "error creating store for stream"); such a failure is asked again a few
// times, after a short pause, before it is reported.
func (l *Link) createStream(ctx context.Context, want jetstream.StreamConfig) (jetstream.Stream, error) {
	for attempt := 1; ; attempt++ {
		s, err := l.js.CreateStream(ctx, want)
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.Code != 500 || attempt > storeRetries {
			return s, err
		}
		l.log.Warn("cluster: the server failed to create the stream; asking again",
			slog.String("stream", want.Name), slog.Int("attempt", attempt), slog.Any("error", err))
		select {
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (after %w)", ctx.Err(), err)
		}
	}
}

// Node returns this node's ID.
func (l *Link) Node() string { return l.cfg.Node }

// MaxData returns the longest data that TryPublish accepts, which the
// NATS server's max_payload decides (about 1 MiB by default).
func (l *Link) MaxData() int { return l.maxData }

// TryPublish queues a copy of data to be appended to the log as an entry
// of this node, and reports true; it never blocks. It reports false, and
// queues nothing, if the queue is full (see Config.QueueLen and
// Config.QueueBytes), data is longer than [Link.MaxData], or the Link is
// closed.
//
// One goroutine stores the queued entries one at a time, in the order of
// the TryPublish calls, and retries an entry (while the connection is
// down, as long as it takes) until it is stored exactly once, so an
// accepted entry is stored exactly once unless the Link is closed first.
// The entry comes back on Entries, like every other entry, when the
// stream delivers it.
func (l *Link) TryPublish(data []byte) bool {
	if len(data) > l.maxData {
		return false
	}
	if !l.queue.push(bytes.Clone(data)) {
		return false
	}
	l.accepted.Add(1)
	return true
}

// Flush waits until every entry TryPublish has accepted so far is stored,
// for at most timeout, and reports whether they all were. A node that shuts
// down flushes its last entry ("node gone") before it closes the Link.
func (l *Link) Flush(timeout time.Duration) bool {
	target := l.accepted.Load()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for l.settled.Load() < target {
		select {
		case <-l.settledCh:
		case <-deadline.C:
			return l.settled.Load() >= target
		case <-l.ctx.Done():
			return false
		}
	}
	return true
}

// Entries returns the channel of the log's entries: all of them, from the
// first, in the stream's order, without gaps or repeats, including this
// node's own, across reconnects and restarts of the NATS server. The
// consumer waits for the receiver (entries are never dropped). Nothing
// more comes after Close, or after an [ErrStreamLost] on Errors. The
// channel is never closed, so that a select that takes from it can never
// take a zero Entry.
func (l *Link) Entries() <-chan Entry { return l.entries }

// Dead returns the channel on which the Link reports a node that has sent
// heartbeats and then none for Config.DeadAfter, once per node and never
// this node. While this node is disconnected it hears nobody, so it
// declares nobody dead: every node gets DeadAfter again from the
// reconnection. Reports wait, in order, for the receiver.
func (l *Link) Dead() <-chan string { return l.dead }

// Up returns the channel of connection changes: false when the connection
// to NATS is lost, true when it is back. The Link is connected when Dial
// returns. Changes that the receiver has not taken are coalesced: it
// receives the latest state, and only when it differs from the last one it
// received.
func (l *Link) Up() <-chan bool { return l.up }

// Errors returns the channel of the conditions that the Link cannot
// recover from by itself: [ErrStreamLost], [ErrRejected], [ErrClosed]. It
// is buffered; an error that finds it full is dropped (and logged).
func (l *Link) Errors() <-chan error { return l.errs }

// Close stops the goroutines, drops the entries that are queued and not
// stored (the one being published may or may not be), closes the NATS
// connection. It does not close the channels. It may be called more than
// once, and returns nil.
func (l *Link) Close() error {
	l.once.Do(func() {
		l.cancel()
		l.queue.close()
		l.wg.Wait()
		l.nc.Close()
	})
	return nil
}

// report sends err on Errors without waiting, and logs it.
func (l *Link) report(err error) {
	l.log.Error("cluster: link error", slog.Any("err", err))
	select {
	case l.errs <- err:
	default:
		l.log.Error("cluster: Errors is full; error dropped", slog.Any("err", err))
	}
}

// wait waits for d, for the connection to change state (done), or for
// Close, and reports false on Close.
func (l *Link) wait(d time.Duration, changed <-chan struct{}) bool {
	if l.ctx.Err() != nil {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-changed:
	case <-l.ctx.Done():
		return false
	}
	return true
}

// connState is the connection's state as nats.go's callbacks report it.
// Each state has a context that is canceled when the state changes: the
// goroutines wait on it, and requests made while connected are derived
// from it, so that a disconnection abandons them at once.
type connState struct {
	mu     sync.Mutex
	parent context.Context
	up     bool
	ctx    context.Context // of the current state
	cancel context.CancelFunc
}

// init sets the state up: Dial's connect either succeeds, before any
// callback, or the Link is not made.
func (c *connState) init(parent context.Context) {
	c.parent = parent
	c.up = true
	c.ctx, c.cancel = context.WithCancel(parent)
}

// set records the state up, if it is a change.
func (c *connState) set(up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.up == up {
		return
	}
	c.up = up
	c.cancel()
	c.ctx, c.cancel = context.WithCancel(c.parent)
}

// get returns the state and its context.
func (c *connState) get() (bool, context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up, c.ctx
}

// backoff returns the wait before the retry that follows a wait of d.
func backoff(d time.Duration) time.Duration {
	return min(max(2*d, retryFirst), retryMax)
}
