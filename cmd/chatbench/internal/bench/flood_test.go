package bench

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestFloodFlags(t *testing.T) {
	for _, tc := range []struct {
		args string
		err  string // "" if valid
	}{
		{"-addr x:1 -clients 3 -senders 1 -flooders 2", ""},
		{"-addr x:1 -clients 3 -senders 1 -flooders 1 -stalled 1 -stalled-senders 1", ""},
		{"-addr x:1 -clients 4 -rooms 2 -flooders 1", "-rooms 1"},
		{"-addr x:1 -clients 3 -senders 0 -flooders 1", "-senders"},
		{"-addr x:1 -clients 3 -lines 0 -flooders 1", "-lines"},
		{"-addr x:1 -idle 5 -flooders 1", "-flooders needs -clients"},
		{"-addr x:1 -clients 3 -flooders -1", "-flooders cannot be negative"},
	} {
		_, err := parseFlags(strings.Fields(tc.args), new(bytes.Buffer), false)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one about %q", tc.args, err, tc.err)
		}
	}
}

// A flooder counts its own lines coming back in order, by their header
// alone, and ignores everyone else's.
func TestEchoCounter(t *testing.T) {
	cfg := &Config{Clients: 3, Stalled: 2, Size: 64}
	id := cfg.flooderID(1)
	e := newEchoCounter(flooderName(1), id)
	own := func(seq int) []byte {
		return appendPayload([]byte("#bench0 flooder1 "), id, seq, 7, cfg.Size)
	}
	for _, l := range [][]byte{
		own(0), own(1),
		appendPayload([]byte("#bench0 bench0 "), 0, 5, 7, cfg.Size),      // someone else's
		appendPayload([]byte("#bench0 flooder0 "), id-1, 9, 7, cfg.Size), // another flooder's
		appendPayload([]byte("#bench1 flooder1 "), id, 2, 7, cfg.Size),   // another room: not its own
		own(2),
	} {
		e.roomLine(l)
	}
	if e.n.Load() != 3 || e.bad != 0 {
		t.Fatalf("in order: %d back, %d bad; want 3, 0", e.n.Load(), e.bad)
	}
	for _, l := range [][]byte{
		own(2),                               // twice
		own(5),                               // lines 3 and 4 skipped
		[]byte("#bench0 flooder1 s99 6 7 x"), // not its id
		[]byte("#bench0 flooder1 hello"),
	} {
		e.roomLine(l)
	}
	e.roomLine(own(6))
	if e.n.Load() != 4 || e.bad != 4 {
		t.Errorf("after faults: %d back, %d bad; want 4, 4", e.n.Load(), e.bad)
	}
}

// The healthy members check a flooder's lines for duplicates, order and
// garbling, and count them apart: not delivered, not lost, no latency.
func TestReceiverFlooderLines(t *testing.T) {
	cfg := &Config{Clients: 2, Rooms: 1, Senders: 1, Lines: 2, Size: 48, Stalled: 1, StalledSenders: 1, Flooders: 2}
	lat := &sharedHistogram{}
	r := newReceiver(cfg, 0, newLatencyBatch(lat))
	fl := func(f, seq int) []byte {
		id := cfg.flooderID(f)
		return appendPayload(fmt.Appendf(nil, "#bench0 flooder%d ", f), id, seq, 1, cfg.Size)
	}
	for _, l := range [][]byte{
		roomLineFor("#bench0", 0, 0, cfg.Size, 1),
		fl(0, 0), fl(0, 1), fl(1, 0), fl(0, 2), fl(0, 3),
		roomLineFor("#bench0", 0, 1, cfg.Size, 1),
		fl(1, 1), fl(1, 1), // a duplicate
		fl(0, 5), fl(0, 4), // reordered
		appendPayload([]byte("#bench0 flooder0 "), cfg.flooderID(1), 2, 1, cfg.Size), // wrong name
		appendPayload([]byte("#bench0 flooder2 "), cfg.flooderID(2), 0, 1, cfg.Size), // no such flooder
	} {
		r.roomLine(l, 2)
	}
	got := r.finish()
	if want := (tally{Delivered: 2, Duplicated: 1, Reordered: 1, Garbled: 2}); got != want {
		t.Errorf("tally %+v, want %+v", got, want)
	}
	if r.fromFlooders[0] != 6 || r.fromFlooders[1] != 2 || r.fromStalled != 0 || lat.h.count() != 2 {
		t.Errorf("from flooders %v, from stalled %d, %d latencies; want [6 2], 0, 2", r.fromFlooders, r.fromStalled, lat.h.count())
	}
}

func TestFlooderText(t *testing.T) {
	rep := &Report{Load: &LoadResult{Flooders: []FlooderResult{{
		Name: "flooder0", Sent: 9000, Echoed: 1010, Seconds: 20, LinesPerSec: 50.5, Delivered: 3030,
	}}}, OK: true}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil ||
		!strings.Contains(b.String(), "the server took 1010 lines of flooder0 in 20s: 50 lines/s (9000 handed to its kernel)") {
		t.Errorf("text:\n%s", b.String())
	}
}
