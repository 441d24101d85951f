package bench

import (
	"fmt"
	"io"
	"testing"
)

func TestSeqTracker(t *testing.T) {
	const lines = 10
	tests := []struct {
		name           string
		arrivals       []int
		want           []verdict
		lost, distinct int
	}{
		{"in order", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil, 0, 10},
		{"gaps are lost, not reordered", []int{0, 2, 3, 9}, nil, 6, 4},
		{"nothing", nil, nil, 10, 0},
		{"duplicate in order", []int{0, 1, 1, 2},
			[]verdict{inOrder, inOrder, duplicate, inOrder}, 7, 3},
		{"duplicate after a gap", []int{0, 5, 5, 0},
			[]verdict{inOrder, inOrder, duplicate, duplicate}, 8, 2},
		{"swap", []int{0, 2, 1, 3},
			[]verdict{inOrder, inOrder, reordered, inOrder}, 6, 4},
		{"late then duplicate", []int{1, 0, 0, 2},
			[]verdict{inOrder, reordered, duplicate, inOrder}, 7, 3},
		{"out of range", []int{-1, 10, 0},
			[]verdict{outOfRange, outOfRange, inOrder}, 9, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newSeqTracker()
			for i, seq := range tt.arrivals {
				got := tr.observe(seq, lines)
				want := inOrder
				if tt.want != nil {
					want = tt.want[i]
				}
				if got != want {
					t.Errorf("arrival %d (seq %d): verdict %d, want %d", i, seq, got, want)
				}
			}
			if tr.lost(lines) != tt.lost || tr.distinct != tt.distinct {
				t.Errorf("lost %d distinct %d, want %d and %d", tr.lost(lines), tr.distinct, tt.lost, tt.distinct)
			}
		})
	}
}

// roomLineFor formats the rest of the ROOM line (after "ROOM ") that sender
// id's line seq becomes in room.
func roomLineFor(room string, id, seq, size int, ts int64) []byte {
	return appendPayload(fmt.Appendf(nil, "%s bench%d ", room, id), id, seq, ts, size)
}

func TestReceiverCounts(t *testing.T) {
	// Clients 0..5 in 2 rooms, senders 0..3: room #bench1 has senders 1 and 3.
	cfg := &Config{Clients: 6, Rooms: 2, Senders: 4, Lines: 5, Size: 40}
	lat := &sharedHistogram{}
	r := newReceiver(cfg, 1, newLatencyBatch(lat))
	if len(r.trackers) != 2 {
		t.Fatalf("%d trackers, want 2", len(r.trackers))
	}
	const sent = 1_000_000
	line := func(id, seq int) []byte { return roomLineFor("#bench1", id, seq, cfg.Size, sent) }
	feed := func(b []byte, at int64) { r.roomLine(b, at) }

	for seq := range 5 { // sender 1: all, in order
		feed(line(1, seq), sent+1000)
	}
	feed(line(3, 0), sent+2000) // sender 3: 0, 2, 1, 2 again; 3 and 4 lost
	feed(line(3, 2), sent+2000)
	feed(line(3, 1), sent+2000)
	feed(line(3, 2), sent+2000)

	garbled := [][]byte{
		line(0, 0), // sender 0 is in the other room
		line(2, 0), // not a sender
		roomLineFor("#bench0", 1, 0, cfg.Size, sent), // wrong room
		roomLineFor("#bench1", 1, 5, cfg.Size, sent), // beyond -lines
		[]byte("#bench1 bench3 hello"),
		[]byte("#bench1 bench3"),
		[]byte("#bench1"),
		append([]byte("#bench1 bench1 "), appendPayload(nil, 3, 4, sent, cfg.Size)...), // user is not the payload's sender
		append(line(3, 3), 'x'),
	}
	for _, g := range garbled {
		feed(g, sent)
	}
	got := r.finish()
	want := tally{Delivered: 8, Lost: 2, Duplicated: 1, Reordered: 1, Garbled: int64(len(garbled))}
	if got != want {
		t.Errorf("tally %+v, want %+v", got, want)
	}
	if lat.h.count() != 8 || lat.h.min != 1000 || lat.h.max != 2000 {
		t.Errorf("latencies: %d values in [%d, %d], want 8 in [1000, 2000]", lat.h.count(), lat.h.min, lat.h.max)
	}
	if !got.bad() || (tally{Delivered: 3}).bad() {
		t.Error("bad() is wrong")
	}
}

func TestReceiverDoesNotAllocate(t *testing.T) {
	cfg := &Config{Clients: 2, Rooms: 1, Senders: 2, Lines: 1 << 20, Size: 64}
	r := newReceiver(cfg, 0, newLatencyBatch(&sharedHistogram{}))
	lines := make([][]byte, 1000)
	for i := range lines {
		lines[i] = roomLineFor("#bench0", 1, i, cfg.Size, 1)
	}
	i := 0
	allocs := testing.AllocsPerRun(500, func() {
		r.roomLine(lines[i], 2)
		i++
	})
	if allocs != 0 || r.tally.Garbled != 0 {
		t.Errorf("%v allocations per line, %d garbled", allocs, r.tally.Garbled)
	}
}

func TestConfigArithmetic(t *testing.T) {
	cfg := Config{Clients: 10, Rooms: 3, Senders: 4, Lines: 7}
	// Rooms: 0 ← clients 0 3 6 9, senders 0 3; 1 ← 1 4 7, senders 1;
	// 2 ← 2 5 8, senders 2.
	members, senders := []int{4, 3, 3}, []int{2, 1, 1}
	var want int64
	for r := range 3 {
		if cfg.members(r) != members[r] || cfg.sendersIn(r) != senders[r] {
			t.Errorf("room %d: %d members and %d senders, want %d and %d", r, cfg.members(r), cfg.sendersIn(r), members[r], senders[r])
		}
		want += int64(members[r] * senders[r] * cfg.Lines)
	}
	if cfg.expected() != want {
		t.Errorf("expected() = %d, want %d", cfg.expected(), want)
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-addr", "127.0.0.1:1", "-idle", "5"}, io.Discard, false)
	if err != nil || cfg.Clients != 0 || cfg.Senders != 0 || cfg.Idle != 5 {
		t.Errorf("-idle alone: %+v, %v; want no load clients", cfg, err)
	}
	cfg, err = parseFlags([]string{"-exec", "x {port}", "-clients", "8", "-rooms", "2"}, io.Discard, true)
	if err != nil || cfg.Senders != 8 || !cfg.Progress {
		t.Errorf("defaults: %+v, %v; want every client a sender, progress on a terminal", cfg, err)
	}
	for _, args := range [][]string{
		{},
		{"-addr", "a:1", "-exec", "x"},
		{"-addr", "a:1", "-size", "507"},
		{"-addr", "a:1", "-rooms", "0"},
		{"-addr", "a:1", "-clients", "2", "-rooms", "3"},
		{"-addr", "a:1", "-clients", "0"},
		{"-exec", "x", "-pid", "1"},
		{"-addr", "a:1", "extra"},
	} {
		if _, err := parseFlags(args, io.Discard, false); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}
