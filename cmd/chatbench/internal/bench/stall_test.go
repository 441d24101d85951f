package bench

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The observer's notes place each stalled member's JOIN and LEAVE in the
// bytes of the room's lines, and mark those bytes once per read.
func TestStallNotes(t *testing.T) {
	cfg := &Config{Stalled: 2}
	n := newStallNotes(cfg, true)
	if newStallNotes(&Config{}, true) != nil {
		t.Fatal("notes without -stalled")
	}
	// line returns what follows the command of line s, and its size.
	line := func(s string) ([]byte, int) {
		_, rest, _ := strings.Cut(s, " ")
		return []byte(rest), len(s) + 2
	}
	n.roomLine(100, 1) // before any stalled member: not marked
	r, s := line("JOIN #bench0 bench7")
	n.join(r, s, 1) // a healthy member: counted only
	r, s = line("JOIN #bench0 stalled0")
	n.join(r, s, 2)
	if n.joined[0] != n.bytes || len(n.marks) != 1 {
		t.Fatalf("after stalled0's JOIN: %+v", n)
	}
	n.roomLine(500, 3)
	n.roomLine(500, 3) // the same read: one mark
	r, s = line("LEAVE #bench0 bench7")
	if n.leave(r, s, 4) {
		t.Error("a healthy member's LEAVE taken for a stalled one")
	}
	before := n.bytes
	r, s = line("LEAVE #bench0 stalled0")
	if !n.leave(r, s, 5) || n.left[0] != before || n.leftAt[0] != 5 || n.in != 0 {
		t.Errorf("stalled0's LEAVE: %+v", n)
	}
	for _, bad := range []string{"LEAVE #bench0 stalled0", "LEAVE #bench0 stalled1", "LEAVE #bench1 stalled0", "LEAVE #bench0 stalled01"} {
		r, s := line(bad)
		if n.leave(r, s, 6) {
			t.Errorf("%q taken for a stalled member's first LEAVE", bad)
		}
	}
	if len(n.marks) != 4 || n.marks[1] != (mark{at: 3, bytes: n.joined[0] + 1000}) {
		t.Errorf("marks %+v", n.marks)
	}
	var none *stallNotes // without -stalled
	none.roomLine(1, 1)
	if r, s := line("LEAVE #bench0 stalled0"); none.leave(r, s, 1) {
		t.Error("nil notes took a LEAVE")
	}
}

func TestOverLimit(t *testing.T) {
	ms := int64(time.Millisecond)
	// 1000 bytes per ms from 0 to 100 ms; the drop at 100 ms.
	var marks []mark
	for i := int64(0); i <= 100; i++ {
		marks = append(marks, mark{at: i * ms, bytes: i * 1000})
	}
	if d, ok := overLimit(marks, 100_000, 100*ms, 60_000); !ok || d != 39*time.Millisecond {
		t.Errorf("passed at 61 ms: got %v, %v; want 39ms", d, ok)
	}
	// Dropped 10,000 bytes short of the threshold: -10 ms at the last
	// second's rate.
	if d, ok := overLimit(marks, 100_000, 100*ms, 109_999); !ok || d != -10*time.Millisecond {
		t.Errorf("short by 10,000 bytes: got %v, %v; want -10ms", d, ok)
	}
	if _, ok := overLimit(nil, 100, 100*ms, 1000); ok {
		t.Error("an estimate from no marks")
	}
}

func TestTimelineCSV(t *testing.T) {
	tl := &timeline{}
	t0 := int64(1e18)
	tl.t0.Store(t0)
	ms := int64(time.Millisecond)
	for i := range int64(100) {
		tl.record(t0+2*ms, (i+1)*ms/10) // 0.1 .. 10 ms in the first bucket
	}
	tl.record(t0+35*ms, 250*ms) // a stall, in the fourth
	var b bytes.Buffer
	if err := tl.writeCSV(&b, []tlEvent{{"socket", 0.04, "stalled0"}, {"leave", 0.0351, "stalled0"}}); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	var p50, p99, mx float64
	_, err := fmt.Sscanf(strings.ReplaceAll(rows[1], ",", " "), "latency 0.000 100 %g %g %g", &p50, &p99, &mx)
	// Quantiles are the top of a bucket at most 1/16 of its value wide.
	if len(rows) != 5 || rows[0] != "kind,t_s,n,p50_ms,p99_ms,max_ms,client" || err != nil ||
		p50 < 5 || p50 > 5.0*17/16 || p99 < 9.9 || p99 > 10 || mx != 10 ||
		rows[2] != "latency,0.030,1,250.000,250.000,250.000," ||
		rows[3] != "leave,0.0351,,,,,stalled0" || rows[4] != "socket,0.0400,,,,,stalled0" {
		t.Errorf("timeline (%v):\n%s", err, b.String())
	}
}

func TestStallFlags(t *testing.T) {
	for _, tc := range []struct {
		args string
		err  string // "" if valid
	}{
		{"-addr x:1 -clients 3 -stalled 2 -stalled-senders 1", ""},
		{"-addr x:1 -clients 3 -stalled 1 -max-queue-bytes 65536 -timeline t.csv", ""},
		{"-addr x:1 -clients 4 -rooms 2 -stalled 1", "-rooms 1"},
		{"-addr x:1 -clients 3 -stalled 1 -stalled-senders 2", "-stalled-senders"},
		{"-addr x:1 -clients 3 -stalled-senders 1", "-stalled-senders"},
		{"-addr x:1 -idle 5 -stalled 1", "-stalled needs -clients"},
		{"-addr x:1 -clients 3 -max-queue-bytes 100", "only used with -stalled"},
		{"-addr x:1 -clients 3 -stalled 1 -max-queue-bytes 0", "-max-queue-bytes must be positive"},
		{"-addr x:1 -idle 5 -timeline t.csv", "-timeline needs -clients"},
	} {
		_, err := parseFlags(strings.Fields(tc.args), new(bytes.Buffer), false)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one about %q", tc.args, err, tc.err)
		}
	}
	// The estimate takes the server's limit from -exec unless told.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-exec", "chatd -addr 127.0.0.1:{port} -max-queue-bytes 65536", "-stalled", "1"}, 65536},
		{[]string{"-exec", "chatd --max-queue-bytes=4096 -p {port}", "-stalled", "1"}, 4096},
		{[]string{"-exec", "chatd -max-queue-bytes 65536", "-stalled", "1", "-max-queue-bytes", "100"}, 100},
		{[]string{"-exec", "chatd -addr 127.0.0.1:{port}", "-stalled", "1"}, 1 << 20},
	} {
		c, err := parseFlags(tc.args, new(bytes.Buffer), false)
		if err != nil || c.MaxQueueBytes != tc.want {
			t.Errorf("%q: -max-queue-bytes %d, %v; want %d", tc.args, c.MaxQueueBytes, err, tc.want)
		}
	}
}

// results reads the drop from the healthy members' notes and the kernel's
// share from the last sample before it; without samples the share and the
// estimate are unknown, and the run goes on.
func TestStallResults(t *testing.T) {
	cfg := &Config{Clients: 2, Stalled: 2, StalledSenders: 1, MaxQueueBytes: 1000}
	ms := int64(time.Millisecond)
	t0 := time.Unix(0, 1000*ms)
	obs, other := newStallNotes(cfg, true), newStallNotes(cfg, false)
	for _, n := range []*stallNotes{obs, other} {
		for k := range 2 {
			r, s := []byte("#bench0 "+stalledName(k)), 30
			n.join(r, s, t0.UnixNano()-ms)
		}
	}
	// 100 bytes a millisecond for 100 ms; stalled0 is dropped after 60 ms,
	// seen by the other member first; stalled1 stays.
	for i := int64(1); i <= 100; i++ {
		at := t0.UnixNano() + i*ms
		for _, n := range []*stallNotes{obs, other} {
			if i == 61 {
				r, s := []byte("#bench0 stalled0"), 24
				if n == other {
					at -= ms / 2
				}
				n.leave(r, s, at)
			}
			n.roomLine(100, at)
		}
	}
	s := &stallSet{clients: []*stalledClient{{k: 0}, {k: 1}}}
	s.clients[0].sent.Store(7)
	s.clients[0].sockErr, s.clients[0].sockErrAt = syscall.ECONNRESET, t0.UnixNano()+62*ms
	for i := int64(0); i <= 60; i += 20 {
		s.clients[0].samples = append(s.clients[0].samples, kernelSample{at: t0.UnixNano() + i*ms, tx: 4000, rx: 500})
	}
	members := []*loadClient{{notes: obs, fromStalled: 3}, {notes: other, fromStalled: 4}}
	res := s.results(cfg, members, t0)
	if res.FromStalled != 7 || res.KernelNote == "" || len(res.Members) != 2 {
		t.Fatalf("result %+v", res)
	}
	m := res.Members[0]
	if !m.Disconnected || !m.Sender || m.Sent != 7 || m.LeaveSeconds == nil || *m.LeaveSeconds != 0.0605 ||
		m.SocketSeconds == nil || *m.SocketSeconds != 0.062 || m.SocketError != "connection reset by peer" {
		t.Errorf("stalled0's drop: %+v", m)
	}
	// 60 ms of 100 bytes plus the JOIN of stalled1 (30 bytes); the kernel
	// held 4,500, so the queue passed 1,000 bytes when 5,500 had come
	// after its JOIN: at 55 ms, 6 ms before the LEAVE at the observer.
	if m.AddressedBytes != 6030 || m.Kernel == nil || m.Kernel.Bytes != 4500 || m.Kernel.AtSeconds != 0.06 ||
		*m.PendingBytes != 1530 || m.OverLimitSeconds == nil || *m.OverLimitSeconds != 0.006 {
		t.Errorf("stalled0's bytes: %+v %+v", m, m.Kernel)
	}
	m = res.Members[1]
	if m.Disconnected || m.AddressedBytes != 100*100+24 || m.Kernel != nil || m.PendingBytes != nil || m.OverLimitSeconds != nil {
		t.Errorf("stalled1: %+v", m)
	}
	var b bytes.Buffer
	if err := (&Report{Load: &LoadResult{Stall: res}, OK: true}).WriteText(&b); err != nil ||
		!strings.Contains(b.String(), "stalled0 sent 7 lines; dropped: LEAVE at 61ms") ||
		!strings.Contains(b.String(), "stalled1 still connected at the end") || !strings.Contains(b.String(), "kernel share unknown") {
		t.Errorf("text:\n%s", b.String())
	}
}
