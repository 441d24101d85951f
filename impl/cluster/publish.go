package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errAckDropped stands for an ack that a test hook pretends was lost.
var errAckDropped = errors.New("cluster: ack dropped by a test hook")

// publish is the publisher goroutine: it takes the queued entries one at a
// time and stores each before it takes the next, which is what keeps one
// node's entries in the stream in the order of its TryPublish calls.
//
// Exactly once. Entry number n of this Link (counting from 1 since Dial)
// is published on the node's own subject with the message ID
// "<node>:<run>:<n>", where run is random and new at every Dial (so that
// a node ID used again by mistake cannot make new entries look like
// duplicates of old ones), and retried, unchanged, until an ack comes. Two things keep a retry from storing it twice:
//
//   - The stream drops a message whose ID it has stored within its
//     duplicate window (Config.Duplicates) and acks it as a duplicate.
//     That covers an attempt that is still on its way when the retry is
//     sent, which can only be for a moment.
//   - Before each retry the publisher asks the stream for the last
//     message on the node's subject. Since the node publishes one entry
//     at a time, that is entry n-1 or entry n; if it is n, the entry is
//     stored and not sent again. That covers an ack lost for longer than
//     the duplicate window, for example across a long restart of NATS,
//     where the window alone would let the retry in twice.
//
// A retry after which the stream holds neither (it was lost or replaced)
// simply stores the entry; the consumer reports ErrStreamLost.
func (l *Link) publish() {
	defer l.wg.Done()
	subject := l.names.entrySubject(l.cfg.Node)
	var n uint64
	for {
		data, ok := l.queue.take()
		if !ok {
			return
		}
		n++
		if !l.store(subject, n, data) {
			return
		}
		l.settled.Add(1)
		select {
		case l.settledCh <- struct{}{}:
		default:
		}
	}
}

// store publishes entry n until it is stored; it reports false if the Link
// is closed first.
func (l *Link) store(subject string, n uint64, data []byte) bool {
	id := l.cfg.Node + ":" + l.run + ":" + strconv.FormatUint(n, 10)
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	opts := []jetstream.PublishOpt{
		jetstream.WithMsgID(id),
		jetstream.WithExpectStream(l.names.stream),
		jetstream.WithRetryAttempts(0), // the loop below retries
	}
	var (
		attempts int
		wait     time.Duration
		rejected bool // reported on Errors already
	)
	for {
		up, state := l.conn.get()
		if up {
			if attempts > 0 && l.stored(state, subject, id) {
				l.log.Info("cluster: entry found stored on retry", slog.String("id", id), slog.Int("attempts", attempts))
				if l.hooks.recovered != nil {
					l.hooks.recovered(n)
				}
				return true
			}
			attempts++
			ctx, cancel := context.WithTimeout(state, requestTimeout)
			ack, err := l.js.PublishMsg(ctx, msg, opts...)
			cancel()
			if err == nil && l.hooks.dropAck != nil && l.hooks.dropAck(n) {
				err = errAckDropped
			}
			if err == nil {
				if attempts > 1 {
					l.log.Info("cluster: entry stored after retries", slog.String("id", id),
						slog.Int("attempts", attempts), slog.Bool("duplicate", ack.Duplicate), slog.Uint64("seq", ack.Sequence))
				}
				return true
			}
			if l.ctx.Err() != nil {
				return false
			}
			level := slog.LevelDebug
			if attempts == 1 {
				level = slog.LevelWarn
			}
			l.log.Log(l.ctx, level, "cluster: publish failed; retrying", slog.String("id", id), slog.Int("attempts", attempts), slog.Any("err", err))
			if apiErr := (*jetstream.APIError)(nil); errors.As(err, &apiErr) && !rejected {
				rejected = true
				l.report(fmt.Errorf("%w: stream %q refuses entry %s: %w", ErrRejected, l.names.stream, id, err))
			}
		}
		wait = backoff(wait)
		if !l.wait(wait, state.Done()) {
			return false
		}
	}
}

// stored reports whether the last message on subject has the message ID
// id. A failed request reports false: the retry that follows is then
// deduplicated by the stream if the entry is stored after all.
func (l *Link) stored(state context.Context, subject, id string) bool {
	ctx, cancel := context.WithTimeout(state, requestTimeout)
	defer cancel()
	m, err := l.stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			l.log.Debug("cluster: last entry of this node unknown", slog.Any("err", err))
		}
		return false
	}
	return m.Header.Get(jetstream.MsgIDHeader) == id
}
