package bench

import (
	"bytes"
	"strconv"
)

// The multi-room scenario (doc.go): with Config.RoomsPerUser K, client i
// enables rooms (PROTOCOL.md 13.4) and joins the K rooms
// #bench<(p+j) mod R>, j = 0..K-1, from its position p = s·i mod R, and
// its line seq goes to the j-th of them for j = seq mod K, as MSG <room>
// <payload>. The stride s is prime to R, so that the positions of R
// clients in a row are all different: each room thus gets Clients·K/R
// members, give or take K, and the members of two rooms overlap without
// being the same. A stride of 1 would do as much, but then the clients
// who share rooms would be neighbours, whose paced lines (sendLines) are
// spread over the interval by their number, hence sent at nearly the same
// moments; a stride of 7 or more spreads them apart. A receiver gets, of each sender it
// shares a room with, the lines whose room is one of its own: every K-th
// line for each room they share, which the receiver numbers 0, 1, 2, ...
// so that its seqTracker stays on its fast path (multiTracks).

// multi reports whether the clients enable rooms and name the room of
// each line.
func (c Config) multi() bool { return c.RoomsPerUser > 0 }

// stride returns the multi-room scenario's stride: the smallest prime
// from 7 on that does not divide Rooms.
func (c Config) stride() int {
	for _, p := range []int{7, 11, 13, 17, 19, 23} {
		if c.Rooms%p != 0 {
			return p
		}
	}
	return 29 // no Rooms below 7·11·13·17·19·23 gets here
}

// position returns the first room of load client i in the multi-room
// scenario.
func (c Config) position(i int) int { return i % c.Rooms * c.stride() % c.Rooms }

// roomsOf returns the rooms of load client i, in the order it joins them.
func (c Config) roomsOf(i int) []int {
	if !c.multi() {
		return []int{c.roomOf(i)}
	}
	rs := make([]int, c.RoomsPerUser)
	for j := range rs {
		rs[j] = (c.position(i) + j) % c.Rooms
	}
	return rs
}

// lineRoom returns the room of line seq of load sender id.
func (c Config) lineRoom(id, seq int) int {
	if !c.multi() {
		return c.roomOf(id)
	}
	return (c.position(id) + seq%c.RoomsPerUser) % c.Rooms
}

// inRoom reports whether load client i is in room r.
func (c Config) inRoom(i, r int) bool {
	if !c.multi() {
		return c.roomOf(i) == r
	}
	return ((r-c.position(i))%c.Rooms+c.Rooms)%c.Rooms < c.RoomsPerUser
}

// joinNotes returns the JOIN lines load client i receives once everyone
// has joined: one per other member of each of its rooms (JOIN-4, JOIN-5).
func (c Config) joinNotes(i int) int {
	n := 0
	for _, r := range c.roomsOf(i) {
		n += c.members(r) - 1
	}
	return n
}

// shared returns which lines of sender s receiver i gets: for each j <
// RoomsPerUser, whether the room of the lines seq ≡ j (mod RoomsPerUser)
// is one of i's.
func (c Config) shared(s, i int) []bool {
	in := make([]bool, c.RoomsPerUser)
	for j := range in {
		in[j] = c.inRoom(i, c.lineRoom(s, j))
	}
	return in
}

// multiExpected returns the deliveries of a lossless multi-room run.
func (c Config) multiExpected() int64 {
	var n int64
	for i := range c.Clients {
		for s := range c.Senders {
			for j, in := range c.shared(s, i) {
				if in {
					n += int64(countMod(c.Lines, c.RoomsPerUser, j))
				}
			}
		}
	}
	return n
}

// appendRoomName appends the name of room r, as roomName gives it, without
// allocating.
func appendRoomName(b []byte, r int) []byte {
	return strconv.AppendInt(append(b, "#bench"...), int64(r), 10)
}

// multiTracks is a multi-room receiver's view of the senders (receiver.go).
type multiTracks struct {
	k     int     // Config.RoomsPerUser
	first []int   // by sender id: its first room (Config.position)
	rooms int     // Config.Rooms
	slot  []int32 // by sender id: its tracker, or -1 if it shares no room with the receiver
	rank  []int8  // by tracker·k + j: the rank of j among the j of the lines received, or -1
	per   []int   // by tracker: how many of every k lines are received
	want  []int   // by tracker: how many lines are received in all
	name  []byte  // scratch: the room name a line must have
	user  []byte  // scratch
	trk   []seqTracker
}

// newMultiReceiver returns the receiver of load client i in the
// multi-room scenario.
func newMultiReceiver(cfg *Config, i int, lat *latencyBatch) *receiver {
	k := cfg.RoomsPerUser
	m := &multiTracks{k: k, rooms: cfg.Rooms, slot: make([]int32, cfg.Senders), first: make([]int, cfg.Senders), name: make([]byte, 0, 32), user: make([]byte, 0, 32)}
	for s := range cfg.Senders {
		m.first[s] = cfg.position(s)
		in := cfg.shared(s, i)
		per, want := 0, 0
		for j, ok := range in {
			if ok {
				per++
				want += countMod(cfg.Lines, k, j)
			}
		}
		if per == 0 {
			m.slot[s] = -1
			continue
		}
		m.slot[s] = int32(len(m.trk))
		r := 0
		for _, ok := range in {
			if ok {
				m.rank = append(m.rank, int8(r))
				r++
			} else {
				m.rank = append(m.rank, -1)
			}
		}
		m.per = append(m.per, per)
		m.want = append(m.want, want)
		m.trk = append(m.trk, newSeqTracker())
	}
	return &receiver{
		lines: cfg.Lines, size: cfg.Size, rooms: cfg.Rooms, nsend: cfg.Senders,
		multi:   m,
		nodes:   1,
		lat:     lat,
		scratch: make([]byte, 0, maxSize+32),
	}
}

// multiLine checks the rest of a ROOM line of the multi-room scenario: it
// must be a line of a sender the receiver shares a room with, in the room
// that line was sent to, which is one of the receiver's.
func (r *receiver) multiLine(rest []byte, now int64) {
	m := r.multi
	room, rest, ok1 := bytes.Cut(rest, []byte{' '})
	user, text, ok2 := bytes.Cut(rest, []byte{' '})
	if !ok1 || !ok2 {
		r.tally.Garbled++
		return
	}
	h, ok, scratch := parsePayload(text, r.size, r.scratch)
	r.scratch = scratch
	if !ok || h.id >= len(m.slot) || m.slot[h.id] < 0 || h.seq >= r.lines {
		r.tally.Garbled++
		return
	}
	t := int(m.slot[h.id])
	j := h.seq % m.k
	rank := m.rank[t*m.k+j]
	m.name = appendRoomName(m.name[:0], (m.first[h.id]+j)%m.rooms)
	m.user = strconv.AppendInt(append(m.user[:0], "bench"...), int64(h.id), 10)
	if rank < 0 || !bytes.Equal(room, m.name) || !bytes.Equal(user, m.user) {
		r.tally.Garbled++
		return
	}
	switch m.trk[t].observe((h.seq/m.k)*m.per[t]+int(rank), m.want[t]) {
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
	r.lat.addFrom(h.ts, now-h.ts, r.crossNode(h.id))
}

// lost returns how many lines the receiver never got.
func (m *multiTracks) lost() int64 {
	var n int64
	for t := range m.trk {
		n += int64(m.trk[t].lost(m.want[t]))
	}
	return n
}
