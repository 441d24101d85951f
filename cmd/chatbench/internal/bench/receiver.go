package bench

import (
	"bytes"
	"strconv"
)

// receiver checks the ROOM lines one load client gets: each must be a line
// a sender of the client's room sent, byte for byte, and arrive once and in
// that sender's order. It belongs to the client's reader goroutine.
//
// Lines of stalled senders (-stalled-senders) are checked alike, but
// counted apart, in fromStalled, and not in the latency, nor lost when
// missing: the server may drop a stalled sender before reading all it sent.
type receiver struct {
	lines, size   int
	rooms, nsend  int // Config.Rooms and Config.Senders
	roomIdx       int
	room          []byte       // the client's room name, "#bench3"
	trackers      []seqTracker // by sender slot: sender i is slot i/rooms of room i%rooms
	firstStalled  int          // the sender id of stalled0 (Config.stalledID)
	stalled       []seqTracker // by stalled sender
	lat           *latencyBatch
	scratch, user []byte
	tally         tally // Lost is filled in by finish
	fromStalled   int64 // distinct intact lines of stalled senders
}

func newReceiver(cfg *Config, roomIdx int, lat *latencyBatch) *receiver {
	r := &receiver{
		lines: cfg.Lines, size: cfg.Size, rooms: cfg.Rooms, nsend: cfg.Senders,
		roomIdx:      roomIdx,
		room:         []byte(roomName(roomIdx)),
		trackers:     make([]seqTracker, cfg.sendersIn(roomIdx)),
		stalled:      make([]seqTracker, cfg.StalledSenders),
		firstStalled: cfg.stalledID(0),
		lat:          lat,
		scratch:      make([]byte, 0, maxSize+32),
		user:         make([]byte, 0, 32),
	}
	for i := range r.trackers {
		r.trackers[i] = newSeqTracker()
	}
	for i := range r.stalled {
		r.stalled[i] = newSeqTracker()
	}
	return r
}

// roomLine checks the rest of a line "ROOM <room> <user> <payload>" (after
// "ROOM "), received at now (Unix nanoseconds).
func (r *receiver) roomLine(rest []byte, now int64) {
	room, rest, ok1 := bytes.Cut(rest, []byte{' '})
	user, text, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 || !bytes.Equal(room, r.room) {
		r.tally.Garbled++
		return
	}
	h, ok, scratch := parsePayload(text, r.size, r.scratch)
	r.scratch = scratch
	if !ok {
		r.tally.Garbled++
		return
	}
	var tr *seqTracker
	switch k := h.id - r.firstStalled; {
	case h.id < r.nsend && h.id%r.rooms == r.roomIdx:
		r.user = strconv.AppendInt(append(r.user[:0], "bench"...), int64(h.id), 10)
		tr = &r.trackers[h.id/r.rooms]
	case k >= 0 && k < len(r.stalled):
		r.user = strconv.AppendInt(append(r.user[:0], "stalled"...), int64(k), 10)
		tr = &r.stalled[k]
	default:
		r.tally.Garbled++
		return
	}
	if !bytes.Equal(user, r.user) {
		r.tally.Garbled++
		return
	}
	switch tr.observe(h.seq, r.lines) {
	case outOfRange:
		r.tally.Garbled++
		return
	case duplicate:
		r.tally.Duplicated++
		return
	case reordered:
		r.tally.Reordered++
	}
	if h.id >= r.firstStalled {
		r.fromStalled++
		return
	}
	r.tally.Delivered++
	r.lat.add(h.ts, now-h.ts)
}

// finish flushes the latencies and returns the tally with the lost lines.
func (r *receiver) finish() tally {
	r.lat.flush()
	t := r.tally
	t.Lost = 0
	for i := range r.trackers {
		t.Lost += int64(r.trackers[i].lost(r.lines))
	}
	return t
}
