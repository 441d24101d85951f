package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNodeSpread(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		count int
	}{
		{Config{}, 1},
		{Config{Nodes: 1}, 1},
		{Config{Nodes: 3}, 3},
		{Config{Addrs: []string{"a:1", "b:2"}}, 2},
	} {
		if got := tc.cfg.nodeCount(); got != tc.count {
			t.Errorf("%+v: nodeCount %d, want %d", tc.cfg, got, tc.count)
		}
		if got := tc.cfg.clustered(); got != (tc.cfg.Nodes > 0 || len(tc.cfg.Addrs) > 0) {
			t.Errorf("%+v: clustered %v", tc.cfg, got)
		}
		for i := range 10 {
			if got := tc.cfg.nodeOf(i); got != i%tc.count {
				t.Errorf("%+v: nodeOf(%d) = %d, want %d", tc.cfg, i, got, i%tc.count)
			}
		}
	}
	// 50 clients over 3 nodes: 17, 17, 16, and as many senders.
	cfg := Config{Nodes: 3, Clients: 50}
	res, _ := nodeResults(&cfg, make([]*procSample, 3), make([]*procSample, 3), []int64{1, 2, 3})
	for k, want := range []int{17, 17, 16} {
		if res[k].Node != k+1 || res[k].Clients != want || res[k].Delivered != int64(k+1) || res[k].Server != nil {
			t.Errorf("node %d: %+v, want %d clients", k+1, res[k], want)
		}
	}
}

func TestNodeCommand(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		k    int
		want string
	}{
		{"chatd -addr 127.0.0.1:{port}", 0, "chatd -addr 127.0.0.1:{port} -cluster-embedded 127.0.0.1:4222 -cluster-node n1"},
		{"chatd -addr 127.0.0.1:{port}", 2, "chatd -addr 127.0.0.1:{port} -cluster nats://127.0.0.1:4222 -cluster-node n3"},
		{"chatd {cluster} -addr 127.0.0.1:{port} 2>/dev/null", 1, "chatd -cluster nats://127.0.0.1:4222 -cluster-node n2 -addr 127.0.0.1:{port} 2>/dev/null"},
	} {
		if got := nodeCommand(tc.cmd, tc.k, "127.0.0.1:4222"); got != tc.want {
			t.Errorf("nodeCommand(%q, %d) = %q, want %q", tc.cmd, tc.k, got, tc.want)
		}
	}
}

func TestClusterFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-addrs", "127.0.0.1:1,127.0.0.1:2", "-pids", "10,20", "-clients", "4"}, io.Discard, false)
	if err != nil || len(cfg.Addrs) != 2 || cfg.PIDs[1] != 20 || !cfg.clustered() || cfg.nodeCount() != 2 {
		t.Errorf("-addrs, -pids: %+v, %v", cfg, err)
	}
	cfg, err = parseFlags([]string{"-exec", "chatd {port}", "-nodes", "3", "-clients", "4"}, io.Discard, false)
	if err != nil || cfg.Nodes != 3 || cfg.nodeCount() != 3 {
		t.Errorf("-nodes: %+v, %v", cfg, err)
	}
	for _, args := range [][]string{
		{"-addr", "a:1", "-nodes", "2"},
		{"-exec", "x", "-nodes", "-1"},
		{"-addrs", "a:1,b:2", "-addr", "a:1"},
		{"-addrs", "a:1,b:2", "-exec", "x"},
		{"-addrs", "a:1,b:2", "-pid", "5"},
		{"-addrs", "a:1,b:2", "-pids", "5"},
		{"-addr", "a:1", "-pids", "5"},
		{"-addrs", "a:1,nocolon"},
		{"-addrs", "a:1", "-pids", "x"},
		{"-exec", "x", "-nodes", "2", "-stalled", "1"},
		{"-exec", "x", "-nodes", "2", "-flooders", "1"},
		{"-addrs", "a:1,b:2", "-idle", "10"},
	} {
		if _, err := parseFlags(append([]string{"-clients", "4"}, args...), io.Discard, false); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestNodeResults(t *testing.T) {
	cfg := Config{Nodes: 2, Clients: 10}
	before := []*procSample{{cpu: 1, rssKB: 100, hwmKB: 150}, {cpu: 5, rssKB: 50, hwmKB: 60}}
	after := []*procSample{{cpu: 3, rssKB: 200, hwmKB: 250}, {cpu: 6, rssKB: 70, hwmKB: 80}}
	// 2 s and 1 s of CPU for 1,000,000 deliveries, 400,000 to node 1's clients.
	res, total := nodeResults(&cfg, before, after, []int64{400_000, 600_000})
	if total == nil || total.CPUSeconds != 3 || total.CPUPerDeliveryUS != 3 || total.RSSBeforeKB != 150 || total.RSSAfterKB != 270 || total.PeakRSSKB != 330 {
		t.Errorf("total %+v", total)
	}
	if u := res[0].Server; u == nil || u.CPUPerDeliveryUS != 2 || res[0].CPUPerOwnDeliveryUS != 5 || res[0].Clients != 5 {
		t.Errorf("node 1: %+v %+v", res[0], u)
	}
	if u := res[1].Server; u == nil || u.CPUPerDeliveryUS != 1 || math.Abs(res[1].CPUPerOwnDeliveryUS*600_000-1e6) > 1e-3 {
		t.Errorf("node 2: %+v %+v", res[1], u)
	}
	// A node without a PID: its own figures are missing, and so is the total.
	res, total = nodeResults(&cfg, []*procSample{before[0], nil}, []*procSample{after[0], nil}, []int64{1, 1})
	if total != nil || res[0].Server == nil || res[1].Server != nil {
		t.Errorf("node 2 unknown: total %+v, nodes %+v", total, res)
	}
}

// A receiver on node 1 of 3 splits its latency by the sender's node:
// senders 1 and 4 are on its node, 0, 2, 3 and 5 on others.
func TestLatencySplit(t *testing.T) {
	cfg := &Config{Clients: 6, Rooms: 1, Senders: 6, Lines: 3, Size: 40, Nodes: 3}
	lat := &sharedHistogram{split: true}
	r := newReceiver(cfg, 0, newLatencyBatch(lat))
	r.onNode(cfg.nodeOf(1), cfg.nodeCount())
	for s := range cfg.Senders {
		for seq := range cfg.Lines {
			line := fmt.Sprintf("#bench0 bench%d %s", s, appendPayload(nil, s, seq, 1000, cfg.Size))
			r.roomLine([]byte(line), 1000+int64(1+s)*1000) // sender s: latency (s+1) µs
		}
	}
	if tl := r.finish(); tl.Delivered != 18 || tl.bad() {
		t.Fatalf("tally %+v", tl)
	}
	if lat.h.count() != 18 || lat.same.count() != 6 || lat.cross.count() != 12 {
		t.Fatalf("all %d, same %d, cross %d; want 18, 6, 12", lat.h.count(), lat.same.count(), lat.cross.count())
	}
	if lat.same.min != 2000 || lat.same.max != 5000 || lat.cross.min != 1000 || lat.cross.max != 6000 {
		t.Errorf("same %d–%d ns, cross %d–%d ns; want 2000–5000 and 1000–6000", lat.same.min, lat.same.max, lat.cross.min, lat.cross.max)
	}

	// The multi-room receiver does the same.
	cfg = &Config{Clients: 4, Rooms: 2, RoomsPerUser: 2, Senders: 4, Lines: 2, Size: 40, Nodes: 2}
	lat = &sharedHistogram{split: true}
	r = newMultiReceiver(cfg, 0, newLatencyBatch(lat))
	r.onNode(cfg.nodeOf(0), cfg.nodeCount())
	for s := range cfg.Senders {
		for seq := range cfg.Lines {
			line := fmt.Sprintf("%s bench%d %s", roomName(cfg.lineRoom(s, seq)), s, appendPayload(nil, s, seq, 1000, cfg.Size))
			r.roomLine([]byte(line), 2000)
		}
	}
	if tl := r.finish(); tl.Delivered != 8 || tl.bad() || lat.same.count() != 4 || lat.cross.count() != 4 {
		t.Errorf("multi-room: tally %+v, same %d, cross %d; want 8, 4, 4", tl, lat.same.count(), lat.cross.count())
	}
}

func TestClusterText(t *testing.T) {
	rep := &Report{
		Server: ServerInfo{Addr: "127.0.0.1:1", PID: 11, Exec: "chatd", Nodes: []NodeInfo{
			{Node: 1, Addr: "127.0.0.1:1", PID: 11, Exec: "chatd -cluster-embedded 127.0.0.1:9", Exit: "exit status 0", NATS: "127.0.0.1:9"},
			{Node: 2, Addr: "127.0.0.1:2", PID: 12, Exec: "chatd -cluster nats://127.0.0.1:9", Exit: "exit status 0"},
		}},
		Load: &LoadResult{
			Clients: 4, Rooms: 1, Senders: 4, Lines: 10, Size: 32,
			Server: &Usage{CPUSeconds: 0.3, CPUPerDeliveryUS: 1.875},
			Nodes: []NodeResult{
				{Node: 1, Clients: 2, Delivered: 80, Server: &Usage{CPUSeconds: 0.2, CPUPerDeliveryUS: 1.25}, CPUPerOwnDeliveryUS: 2.5},
				{Node: 2, Clients: 2, Delivered: 80, Server: &Usage{CPUSeconds: 0.1, CPUPerDeliveryUS: 0.625}, CPUPerOwnDeliveryUS: 1.25},
			},
			SameNode:  &SplitLatency{Deliveries: 80, Latency: Latency{P50: 500, P99: 900}},
			CrossNode: &SplitLatency{Deliveries: 80, Latency: Latency{P50: 600, P99: 1500}},
		},
		OK: true,
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"2 chatd nodes of one cluster, started by -exec; node 1 runs its NATS server at 127.0.0.1:9",
		"node 2   127.0.0.1:2  pid 12; after SIGTERM: exit status 0",
		"same node   p50 500µs  p99 900µs",
		"cross node  p50 600µs  p99 1.50ms",
		"1.875 µs per delivery, the sum of 2 nodes (node 1's with its NATS server)",
		"node 1   2 clients received 80; CPU 0.20s = 1.250 µs per delivery of all, 2.500 µs per delivery to its clients",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}

// listenAlso makes the fake server accept connections on one more
// address, as another node of one cluster with the same state, and
// returns it. Each name registered there is added to names[addr].
func (s *fakeServer) listenAlso(t *testing.T, names map[string][]string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(&fakeConn{Conn: c, names: names, addr: addr}) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return addr
}

// Against a "cluster" of three addresses of one fake server, load client
// i registers on the (i mod 3)th, and the report has a result per node and
// the latency split.
func TestAddrsSpreadClients(t *testing.T) {
	s := startFake(t, func(int) int { return 1 })
	names := map[string][]string{}
	addrs := []string{s.listenAlso(t, names), s.listenAlso(t, names), s.listenAlso(t, names)}
	code, rep, stderr := runMain(t, "-addrs", strings.Join(addrs, ","), "-clients", "7", "-rooms", "1", "-senders", "4", "-lines", "10")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range addrs {
		var want []string
		for i := k; i < 7; i += 3 {
			want = append(want, clientName(i))
		}
		got := names[a] // in the order they registered, in parallel
		slices.Sort(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("node %d registered %q, want %q", k+1, got, want)
		}
	}
	l := rep.Load
	if len(rep.Server.Nodes) != 3 || rep.Server.Nodes[2].Addr != addrs[2] || rep.Server.Addr != addrs[0] {
		t.Errorf("server: %+v", rep.Server)
	}
	// 4 senders, 10 lines each, to 7 members; sender s is on node s mod 3.
	if l.Delivered != 280 || len(l.Nodes) != 3 || l.Nodes[0].Delivered != 120 || l.Nodes[1].Delivered != 80 || l.Nodes[2].Clients != 2 {
		t.Errorf("load: %d delivered, nodes %+v", l.Delivered, l.Nodes)
	}
	// Same node: receivers 0, 3, 6 get senders 0 and 3; 1 and 4 get 1; 2 and 5 get 2.
	if l.SameNode == nil || l.CrossNode == nil || l.SameNode.Deliveries != (3*2+2+2)*10 || l.CrossNode.Deliveries != 280-100 {
		t.Errorf("same %+v, cross %+v", l.SameNode, l.CrossNode)
	}
	if l.Server != nil || l.Nodes[0].Server != nil {
		t.Errorf("CPU figures without -pids: %+v", l.Server)
	}
}

// A cluster of two chatd nodes started by -nodes, with the core load, and
// the same pair given by -addrs and -pids, with the multi-room load.
func TestChatdCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short: starts two clusters of chatd")
	}
	chatd := buildChatd(t)
	exec := fmt.Sprintf("'%s' -addr 127.0.0.1:{port}", chatd)
	code, rep, stderr := runMain(t, "-exec", exec, "-nodes", "2",
		"-clients", "6", "-senders", "6", "-lines", "20", "-rate", "100")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("-nodes 2: exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	checkCluster(t, rep, 6*6*20)
	nodes := rep.Server.Nodes
	if len(nodes) != 2 || nodes[0].NATS == "" || !strings.Contains(nodes[0].Exec, "-cluster-embedded "+nodes[0].NATS) ||
		!strings.Contains(nodes[1].Exec, "-cluster nats://"+nodes[0].NATS) || nodes[0].Exit != "exit status 0" || nodes[1].Exit != "exit status 0" {
		t.Errorf("nodes: %+v", nodes)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := Config{Exec: exec, Nodes: 2}
	cl, err := startCluster(ctx, &cfg, nil, time.Now().Add(20*time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.stop()
	addrs, pids := cl.nodes[0].addr+","+cl.nodes[1].addr, strconv.Itoa(cl.nodes[0].pid)+","+strconv.Itoa(cl.nodes[1].pid)
	code, rep, stderr = runMain(t, "-addrs", addrs, "-pids", pids,
		"-clients", "12", "-rooms", "5", "-rooms-per-user", "2", "-lines", "10")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("-addrs: exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	want := Config{Clients: 12, Rooms: 5, RoomsPerUser: 2, Senders: 12, Lines: 10}
	checkCluster(t, rep, want.expected())
	cl.stop()
	if cl.exits[0] != "exit status 0" || cl.exits[1] != "exit status 0" {
		t.Errorf("nodes after SIGTERM: %q", cl.exits)
	}
}

// checkCluster checks the figures of a run against two chatd nodes.
func checkCluster(t *testing.T, rep *Report, deliveries int64) {
	t.Helper()
	l := rep.Load
	if l.Delivered != deliveries || l.bad() || len(l.Nodes) != 2 || l.Nodes[0].Delivered+l.Nodes[1].Delivered != deliveries {
		t.Errorf("load: %d of %d delivered, nodes %+v", l.Delivered, deliveries, l.Nodes)
	}
	if l.SameNode == nil || l.CrossNode == nil || l.CrossNode.Deliveries == 0 || int64(l.SameNode.Deliveries+l.CrossNode.Deliveries) != deliveries {
		t.Errorf("latency split: same %+v, cross %+v", l.SameNode, l.CrossNode)
	}
	if l.Server == nil || l.Nodes[0].Server == nil || l.Nodes[1].Server == nil ||
		l.Server.CPUSeconds != l.Nodes[0].Server.CPUSeconds+l.Nodes[1].Server.CPUSeconds {
		t.Errorf("CPU: total %+v, nodes %+v", l.Server, l.Nodes)
	}
}
