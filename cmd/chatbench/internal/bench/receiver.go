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
// So are the flooders' lines (-flooders), in fromFlooders: a flooder stops
// at the end of sending with lines still in the kernels' buffers, which the
// server may take long after the run, at its -line-rate.
type receiver struct {
	lines, size   int
	rooms, nsend  int // Config.Rooms and Config.Senders
	roomIdx       int
	room          []byte       // the client's room name, "#bench3"
	trackers      []seqTracker // by sender slot: sender i is slot i/rooms of room i%rooms
	firstStalled  int          // the sender id of stalled0 (Config.stalledID)
	stalled       []seqTracker // by stalled sender
	firstFlooder  int          // the sender id of flooder0 (Config.flooderID)
	flooders      []seqTracker // by flooder
	multi         *multiTracks // in the multi-room scenario (multi.go); the fields above are then unused
	node, nodes   int          // the receiver's node of a cluster, and how many there are (cluster.go); 0, 1 for one server
	self          int          // in the plain dialect, the receiver's own sender id, whose lines it never gets; else -1
	lat           *latencyBatch
	scratch, user []byte
	tally         tally   // Lost is filled in by finish
	fromStalled   int64   // distinct intact lines of stalled senders
	fromFlooders  []int64 // distinct intact lines of each flooder
}

func newReceiver(cfg *Config, roomIdx int, lat *latencyBatch) *receiver {
	r := &receiver{
		lines: cfg.Lines, size: cfg.Size, rooms: cfg.Rooms, nsend: cfg.Senders,
		roomIdx:      roomIdx,
		room:         []byte(roomName(roomIdx)),
		trackers:     make([]seqTracker, cfg.sendersIn(roomIdx)),
		stalled:      make([]seqTracker, cfg.StalledSenders),
		firstStalled: cfg.stalledID(0),
		flooders:     make([]seqTracker, cfg.Flooders),
		firstFlooder: cfg.flooderID(0),
		fromFlooders: make([]int64, cfg.Flooders),
		nodes:        1,
		self:         -1,
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
	for i := range r.flooders {
		r.flooders[i] = newSeqTracker()
	}
	return r
}

// roomLine checks the rest of a line "ROOM <room> <user> <payload>" (after
// "ROOM "), received at now (Unix nanoseconds).
func (r *receiver) roomLine(rest []byte, now int64) {
	if r.multi != nil {
		r.multiLine(rest, now)
		return
	}
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
	lines := r.lines
	k, f := h.id-r.firstStalled, h.id-r.firstFlooder
	switch {
	case h.id < r.nsend && h.id%r.rooms == r.roomIdx:
		r.user = strconv.AppendInt(append(r.user[:0], "bench"...), int64(h.id), 10)
		tr = &r.trackers[h.id/r.rooms]
	case k >= 0 && k < len(r.stalled):
		r.user = strconv.AppendInt(append(r.user[:0], "stalled"...), int64(k), 10)
		tr = &r.stalled[k]
	case f >= 0 && f < len(r.flooders):
		r.user = strconv.AppendInt(append(r.user[:0], "flooder"...), int64(f), 10)
		tr, lines = &r.flooders[f], floodMaxLines
	default:
		r.tally.Garbled++
		return
	}
	if !bytes.Equal(user, r.user) {
		r.tally.Garbled++
		return
	}
	switch tr.observe(h.seq, lines) {
	case outOfRange:
		r.tally.Garbled++
		return
	case duplicate:
		r.tally.Duplicated++
		return
	case reordered:
		r.tally.Reordered++
	}
	switch {
	case f >= 0 && f < len(r.flooders):
		r.fromFlooders[f]++
		return
	case h.id >= r.firstStalled:
		r.fromStalled++
		return
	}
	r.tally.Delivered++
	r.lat.addFrom(h.ts, now-h.ts, r.crossNode(h.id))
}

// onNode says that the receiver is on node of nodes (0-based), for
// telling same-node from cross-node latency.
func (r *receiver) onNode(node, nodes int) { r.node, r.nodes = node, nodes }

// crossNode reports whether load sender id was on another node than the
// receiver (Config.nodeOf).
func (r *receiver) crossNode(id int) bool { return id%r.nodes != r.node }

// finish flushes the latencies and returns the tally with the lost lines.
func (r *receiver) finish() tally {
	r.lat.flush()
	t := r.tally
	t.Lost = 0
	if r.multi != nil {
		t.Lost = r.multi.lost()
	}
	for i := range r.trackers {
		if i != r.self {
			t.Lost += int64(r.trackers[i].lost(r.lines))
		}
	}
	return t
}
