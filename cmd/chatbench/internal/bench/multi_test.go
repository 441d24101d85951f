package bench

import (
	"fmt"
	"io"
	"slices"
	"testing"
)

// TestMultiArithmetic checks the multi-room scenario's rooms, members and
// expected deliveries against a brute-force count.
func TestMultiArithmetic(t *testing.T) {
	for _, cfg := range []Config{
		{Clients: 200, Rooms: 50, RoomsPerUser: 5, Senders: 200, Lines: 103},
		{Clients: 7, Rooms: 3, RoomsPerUser: 2, Senders: 4, Lines: 5},
		{Clients: 10, Rooms: 4, RoomsPerUser: 4, Senders: 10, Lines: 9},
		{Clients: 9, Rooms: 9, RoomsPerUser: 1, Senders: 3, Lines: 2},
	} {
		members := make([]int, cfg.Rooms)
		var want int64
		for i := range cfg.Clients {
			rooms := cfg.roomsOf(i)
			if len(rooms) != cfg.RoomsPerUser {
				t.Fatalf("%+v: client %d in %v", cfg, i, rooms)
			}
			seen := map[int]bool{}
			for _, r := range rooms {
				if seen[r] || !cfg.inRoom(i, r) {
					t.Fatalf("%+v: client %d in %v", cfg, i, rooms)
				}
				seen[r] = true
				members[r]++
			}
			for s := range cfg.Senders {
				for seq := range cfg.Lines {
					if slices.Contains(rooms, cfg.lineRoom(s, seq)) {
						want++
					}
				}
			}
		}
		for r, n := range members {
			if cfg.members(r) != n {
				t.Errorf("%+v: members(%d) = %d, want %d", cfg, r, cfg.members(r), n)
			}
			if avg := cfg.Clients * cfg.RoomsPerUser / cfg.Rooms; n < avg-cfg.RoomsPerUser || n > avg+cfg.RoomsPerUser {
				t.Errorf("%+v: room %d has %d members, far from %d", cfg, r, n, avg)
			}
		}
		if got := cfg.expected(); got != want {
			t.Errorf("%+v: expected() = %d, want %d", cfg, got, want)
		}
		var got int64
		for i := range cfg.Clients {
			got += newMultiReceiver(&cfg, i, newLatencyBatch(&sharedHistogram{})).multi.lost()
		}
		if got != want {
			t.Errorf("%+v: the receivers wait for %d lines, want %d", cfg, got, want)
		}
	}
	// 200 in 5 of 50: 20 members each, and no two rooms alike.
	cfg := Config{Clients: 200, Rooms: 50, RoomsPerUser: 5}
	for r := range cfg.Rooms {
		if cfg.members(r) != 20 {
			t.Errorf("room %d: %d members", r, cfg.members(r))
		}
	}
	if a, b := cfg.roomsOf(0), cfg.roomsOf(1); slices.Equal(a, b) {
		t.Errorf("clients 0 and 1 in the same rooms %v", a)
	}
}

// TestMultiReceiver: a multi-room receiver counts, of each sender, the
// lines of the rooms it shares with it, and catches a line in a room that
// is not the line's, or one of a room it is not in.
func TestMultiReceiver(t *testing.T) {
	// Client 0 is in #bench0 and #bench1 of 3 rooms (the stride, 7, is 1
	// mod 3). Sender 1 sends to
	// #bench1 (even seq) and #bench2 (odd): client 0 gets its even lines.
	// Sender 2 sends to #bench2 and #bench0: client 0 gets its odd lines.
	cfg := &Config{Clients: 3, Rooms: 3, RoomsPerUser: 2, Senders: 3, Lines: 6, Size: 48}
	lat := &sharedHistogram{}
	r := newMultiReceiver(cfg, 0, newLatencyBatch(lat))
	const sent = 1_000_000
	line := func(id, seq int) []byte {
		return roomLineFor(roomName(cfg.lineRoom(id, seq)), id, seq, cfg.Size, sent)
	}
	for seq := range 6 { // sender 0: all six, in #bench0 and #bench1
		r.roomLine(line(0, seq), sent+1)
	}
	r.roomLine(line(1, 0), sent+1) // sender 1: 0, 4, 2, 4 again; none lost
	r.roomLine(line(1, 4), sent+1)
	r.roomLine(line(1, 2), sent+1)
	r.roomLine(line(1, 4), sent+1)
	r.roomLine(line(2, 1), sent+1) // sender 2: 1 only; 3 and 5 lost
	garbled := [][]byte{
		line(1, 1), // #bench2: not client 0's
		roomLineFor("#bench0", 1, 0, cfg.Size, sent), // sender 1's line 0 went to #bench1
		roomLineFor("#bench1", 0, 6, cfg.Size, sent), // beyond -lines
		roomLineFor("#bench1", 3, 0, cfg.Size, sent), // not a sender
		[]byte("#bench1 bench1 hello"),
	}
	for _, g := range garbled {
		r.roomLine(g, sent)
	}
	got := r.finish()
	want := tally{Delivered: 10, Lost: 2, Duplicated: 1, Reordered: 1, Garbled: int64(len(garbled))}
	if got != want {
		t.Errorf("tally %+v, want %+v", got, want)
	}
	if lat.h.count() != 10 {
		t.Errorf("%d latencies, want 10", lat.h.count())
	}
}

func TestMultiFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-addr", "a:1", "-clients", "200", "-rooms", "50", "-rooms-per-user", "5"}, io.Discard, false)
	if err != nil || !cfg.multi() || cfg.RoomsPerUser != 5 {
		t.Errorf("-rooms-per-user 5: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{
		{"-rooms-per-user", "-1"},
		{"-rooms", "2", "-rooms-per-user", "3"},
		{"-rooms", "1", "-rooms-per-user", "1", "-stalled", "1"},
		{"-rooms", "1", "-rooms-per-user", "1", "-flooders", "1", "-senders", "1"},
		{"-rooms", "20", "-rooms-per-user", "2", "-size", fmt.Sprint(maxSize - len("#bench19"))},
	} {
		if _, err := parseFlags(append([]string{"-addr", "a:1", "-clients", "20"}, args...), io.Discard, false); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-addr", "a:1", "-clients", "20", "-rooms", "20", "-rooms-per-user", "2", "-size", fmt.Sprint(maxSize - len("#bench19 "))}, io.Discard, false); err != nil {
		t.Errorf("the longest payload that fits: %v", err)
	}
}

func TestMultiReceiverDoesNotAllocate(t *testing.T) {
	cfg := &Config{Clients: 2, Rooms: 2, RoomsPerUser: 2, Senders: 2, Lines: 1 << 20, Size: 64}
	r := newMultiReceiver(cfg, 0, newLatencyBatch(&sharedHistogram{}))
	lines := make([][]byte, 1000)
	for i := range lines {
		lines[i] = roomLineFor(roomName(cfg.lineRoom(1, i)), 1, i, cfg.Size, 1)
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
