package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Settings of the consumer's pulls.
const (
	fetchBatch     = 256              // most entries one pull asks for
	fetchBytes     = 4 << 20          // most bytes one pull asks for (at least twice max_payload)
	fetchWait      = 10 * time.Second // how long one pull lasts (the server's expiry is 1 s less)
	fetchHeartbeat = time.Second      // idle heartbeats of a pull; two missed end it
	// consumerIdle is how long the server keeps a consumer that nobody
	// pulls from: the one of a node that vanished, or one whose delete
	// failed.
	consumerIdle = 30 * time.Second
	// lostAfter is how long the server must answer "no such stream" for
	// the stream to be lost rather than not yet available (a cluster of
	// NATS servers electing a leader).
	lostAfter = 2 * time.Second
)

// consume is the consumer goroutine. It keeps next, the sequence of the
// next entry to deliver, and reads the stream from there with an ephemeral
// pull consumer (AckNone, in memory) that starts at next. Anything out of
// the ordinary — a disconnection, a failed pull, an entry other than next —
// and it drops that consumer and makes a new one from next, after checking
// that the stream is still the one it was reading: so entries come out in
// order, each once, and a NATS restart costs a new consumer (the server
// does not keep in-memory consumers).
func (l *Link) consume() {
	defer l.wg.Done()
	var (
		next      uint64 = 1
		serial    int
		wait      time.Duration
		lostSince time.Time // of the answers "no such stream" in a row; zero if the last answer was another
	)
	for {
		up, state := l.conn.get()
		if !up {
			select {
			case <-state.Done():
				continue
			case <-l.ctx.Done():
				return
			}
		}
		err := l.check(state, next)
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			lostSince = time.Time{}
		} else if lostSince.IsZero() {
			lostSince = time.Now()
		} else if time.Since(lostSince) >= lostAfter {
			l.report(fmt.Errorf("%w: stream %q not found for %v", ErrStreamLost, l.names.stream, lostAfter))
			return
		}
		if errors.Is(err, ErrStreamLost) {
			l.report(err)
			return
		}
		var cons jetstream.Consumer
		if err == nil {
			serial++
			cons, err = l.newConsumer(state, serial, next)
		}
		if err != nil {
			if l.ctx.Err() != nil {
				return
			}
			l.log.Debug("cluster: cannot consume yet", slog.Uint64("next", next), slog.Any("err", err))
			wait = backoff(wait)
			if !l.wait(wait, state.Done()) {
				return
			}
			continue
		}
		from := next
		next, err = l.read(state, cons, next)
		l.deleteConsumer(cons)
		if err != nil {
			l.report(err)
			return
		}
		if next > from {
			wait = 0
			continue
		}
		// Nothing came from that consumer: do not spin on a pull that
		// keeps failing (a change of the connection ends the wait).
		wait = backoff(wait)
		if !l.wait(wait, state.Done()) {
			return
		}
	}
}

// check returns nil if the stream is the one that Dial bound and still
// holds every entry from next on; an error wrapping ErrStreamLost if it is
// not; or another error if it cannot tell now.
func (l *Link) check(state context.Context, next uint64) error {
	ctx, cancel := context.WithTimeout(state, requestTimeout)
	defer cancel()
	s, err := l.js.Stream(ctx, l.names.stream)
	if err != nil {
		return err
	}
	info := s.CachedInfo()
	switch {
	case !info.Created.Equal(l.created):
		return fmt.Errorf("%w: stream %q was replaced (created %v, not %v)", ErrStreamLost, l.names.stream, info.Created, l.created)
	case info.State.LastSeq < next-1:
		return fmt.Errorf("%w: stream %q ends at %d, and entries up to %d were delivered", ErrStreamLost, l.names.stream, info.State.LastSeq, next-1)
	case info.State.FirstSeq > next:
		return fmt.Errorf("%w: stream %q starts at %d, and the next entry to deliver is %d", ErrStreamLost, l.names.stream, info.State.FirstSeq, next)
	}
	return nil
}

// newConsumer creates the ephemeral consumer number serial, which starts at
// the entry next.
func (l *Link) newConsumer(state context.Context, serial int, next uint64) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(state, requestTimeout)
	defer cancel()
	cons, err := l.js.CreateConsumer(ctx, l.names.stream, jetstream.ConsumerConfig{
		Name:              fmt.Sprintf("%s_%s_%d", l.cfg.Node, l.run, serial),
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       next,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: consumerIdle,
	})
	if err != nil {
		return nil, fmt.Errorf("create consumer from %d: %w", next, err)
	}
	if l.hooks.consumer != nil {
		l.hooks.consumer(serial, next)
	}
	return cons, nil
}

// deleteConsumer deletes cons if the connection is up, without waiting
// long: a consumer left behind is removed by the server after consumerIdle.
func (l *Link) deleteConsumer(cons jetstream.Consumer) {
	up, state := l.conn.get()
	if !up {
		return
	}
	// Not l.ctx: a Link that closes still cleans up after itself.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(state), 500*time.Millisecond)
	defer cancel()
	_ = l.js.DeleteConsumer(ctx, l.names.stream, cons.CachedInfo().Name)
}

// read pulls entries from cons and delivers them while they come in order
// from next, and returns the next entry to deliver when the consumer must
// be replaced (nil error) or the Link is closed, or an error wrapping
// ErrStreamLost.
func (l *Link) read(state context.Context, cons jetstream.Consumer, next uint64) (uint64, error) {
	maxBytes := max(fetchBytes, 2*(l.maxData+headerRoom))
	for {
		more, err := l.pull(state, cons, &next, maxBytes)
		if !more {
			return next, err
		}
	}
}

// pull makes one pull request on cons and delivers what it brings from
// next on, advancing next. It reports more if the consumer can be pulled
// from again, or else an error wrapping ErrStreamLost or nil (the consumer
// must be replaced, or the Link is closed).
func (l *Link) pull(state context.Context, cons jetstream.Consumer, next *uint64, maxBytes int) (more bool, _ error) {
	// The context ends the pull (and its goroutine in nats.go) when the
	// connection changes or the Link closes; its deadline sets the pull's
	// expiry on the server.
	ctx, cancel := context.WithTimeout(state, fetchWait)
	defer cancel()
	batch, err := cons.Fetch(fetchBatch, jetstream.FetchContext(ctx),
		jetstream.FetchHeartbeat(fetchHeartbeat), jetstream.FetchMaxBytes(maxBytes))
	if err != nil {
		l.log.Debug("cluster: pull failed", slog.Any("err", err))
		return false, nil
	}
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			return false, nil
		}
		switch seq := meta.Sequence.Stream; {
		case seq < *next:
			continue // delivered already; a fresh consumer never sends it
		case seq > *next:
			return false, l.gap(state, *next, seq)
		}
		node, err := l.names.entryNode(m.Subject())
		if err != nil {
			return false, fmt.Errorf("%w: entry %d: %w", ErrStreamLost, *next, err)
		}
		select {
		case l.entries <- Entry{Seq: *next, Node: node, Data: m.Data()}:
			*next++
		case <-l.ctx.Done():
			return false, nil
		}
	}
	if err := batch.Error(); err != nil {
		l.log.Debug("cluster: pull ended", slog.Uint64("next", *next), slog.Any("err", err))
		return false, nil
	}
	return true, nil // expired or complete: pull again
}

// gap is called when the consumer skips from next to seq. If the stream
// has the entry next, it was lost on the way (a pull that overlapped a
// reconnection) and gap returns nil: a new consumer will send it. If the
// stream does not have it, the log has a hole and gap returns an error
// wrapping ErrStreamLost.
func (l *Link) gap(state context.Context, next, seq uint64) error {
	ctx, cancel := context.WithTimeout(state, requestTimeout)
	defer cancel()
	_, err := l.stream.GetMsg(ctx, next)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("%w: stream %q has no entry %d (the next one is %d)", ErrStreamLost, l.names.stream, next, seq)
	}
	l.log.Debug("cluster: entries skipped on the way; new consumer", slog.Uint64("next", next), slog.Uint64("got", seq), slog.Any("err", err))
	return nil
}
