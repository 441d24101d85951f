package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A cluster of chatd nodes (docs/cluster.md) shares one chat through one
// JetStream stream: every node applies every client event, in the
// stream's order, and writes only to its own clients. chatbench loads one
// as it loads a server, but spreads the load's clients over the nodes,
// client i on node i mod N, so that each node has its share of clients,
// senders and members of every room (as far as the rooms' membership
// allows: with -rooms R, a room's members are the clients i ≡ r mod R, so
// if N divides R each room lives on one node; -rooms-per-user spreads
// them). -nodes N starts the nodes from -exec; -addrs points at running
// ones. The report gives each node's CPU time, over all deliveries and
// over its own clients' deliveries, and their sum, and splits the latency
// by whether the sender's node is the receiver's.

// node is one server the load runs against: the only one, or a node of a
// cluster.
type node struct {
	addr  string
	pid   int    // 0 if unknown: no CPU or memory figures
	pprof string // host:port of its pprof listener, "" if unknown
}

// clustered reports whether the run is against a cluster (-nodes or
// -addrs), even of one node.
func (c Config) clustered() bool { return c.Nodes > 0 || len(c.Addrs) > 0 }

// nodeCount returns how many nodes the load is spread over.
func (c Config) nodeCount() int {
	switch {
	case c.Nodes > 0:
		return c.Nodes
	case len(c.Addrs) > 0:
		return len(c.Addrs)
	}
	return 1
}

// nodeOf returns the node, 0-based, of load client i; its lines come from
// that node to everyone.
func (c Config) nodeOf(i int) int { return i % c.nodeCount() }

// parseNodes parses -addrs and -pids, comma-separated lists.
func parseNodes(addrs, pids string) ([]string, []int, error) {
	var as []string
	var ps []int
	if addrs != "" {
		for a := range strings.SplitSeq(addrs, ",") {
			if _, _, err := net.SplitHostPort(a); err != nil {
				return nil, nil, fmt.Errorf("-addrs: %q: %v", a, err)
			}
			as = append(as, a)
		}
	}
	if pids != "" {
		for p := range strings.SplitSeq(pids, ",") {
			n, err := strconv.Atoi(p)
			if err != nil || n <= 0 {
				return nil, nil, fmt.Errorf("-pids: %q is not a PID", p)
			}
			ps = append(ps, n)
		}
	}
	return as, ps, nil
}

// btoi returns 1 for true, 0 for false.
func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// nodeCommand returns the command of node k (0-based) of a cluster
// started from command, whose node 0 runs the NATS server on nats
// (host:port): the cluster flags of chatd replace {cluster}, or are added
// at the end.
func nodeCommand(command string, k int, nats string) string {
	flags := fmt.Sprintf("-cluster nats://%s -cluster-node n%d", nats, k+1)
	if k == 0 {
		flags = fmt.Sprintf("-cluster-embedded %s -cluster-node n1", nats)
	}
	if strings.Contains(command, "{cluster}") {
		return strings.ReplaceAll(command, "{cluster}", flags)
	}
	return command + " " + flags
}

// execCluster is the nodes started by -exec with -nodes.
type execCluster struct {
	nats  string        // host:port of the NATS server in node 1
	nodes []*execServer // node k+1 is nodes[k]
	cmds  []string      // the command of each node
	exits []string      // how each ended, set by stop
	once  sync.Once     // stop runs once
}

// startCluster starts cfg.Nodes nodes from cfg.Exec: node 1, which runs
// the NATS server, then the others, each once the one before answers PING
// (through the stream, so it has joined). If one fails, those started are
// stopped.
func startCluster(ctx context.Context, cfg *Config, verbose io.Writer, deadline time.Time, prog *progress) (*execCluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cl := &execCluster{nats: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	for k := range cfg.Nodes {
		cmd := nodeCommand(cfg.Exec, k, cl.nats)
		prog.set("start", func() string { return fmt.Sprintf("node %d of %d: %s", k+1, cfg.Nodes, cmd) })
		s, err := startServer(ctx, cmd, fmt.Sprintf("node%d", k+1), cfg.dialer(deadline), false, verbose, deadline)
		if err != nil {
			cl.stop()
			return nil, fmt.Errorf("node %d: %w", k+1, err)
		}
		cl.nodes = append(cl.nodes, s)
		cl.cmds = append(cl.cmds, cmd)
	}
	return cl, nil
}

// stop stops the nodes, the others before node 1, whose NATS server they
// need to leave the cluster cleanly, and records how each ended.
func (cl *execCluster) stop() {
	cl.once.Do(func() {
		cl.exits = make([]string, len(cl.nodes))
		var wg sync.WaitGroup
		for k := 1; k < len(cl.nodes); k++ {
			wg.Go(func() { cl.exits[k] = cl.nodes[k].stop() })
		}
		wg.Wait()
		if len(cl.nodes) > 0 {
			cl.exits[0] = cl.nodes[0].stop()
		}
	})
}

// NodeInfo says which node of a cluster was measured.
type NodeInfo struct {
	Node int    `json:"node"` // 1, 2, ...: load client i is on node i mod N + 1
	Addr string `json:"addr"`
	PID  int    `json:"pid,omitempty"`
	Exec string `json:"exec,omitempty"` // its command, if started by -exec
	Exit string `json:"exit,omitempty"` // how it ended after SIGTERM
	// NATS is where the NATS server of the cluster listens, if this node
	// runs it (-cluster-embedded): its CPU time and memory are the node's.
	NATS string `json:"nats,omitempty"`
}

// NodeResult is what one node of a cluster did over the measured phase.
type NodeResult struct {
	Node      int   `json:"node"`
	Clients   int   `json:"clients"`   // load clients connected to it
	Delivered int64 `json:"delivered"` // deliveries to those clients
	// Server is its usage; its CPUPerDeliveryUS is its CPU time over all
	// the cluster's deliveries, so that the nodes' figures add up to the
	// total. Nil without its PID.
	Server *Usage `json:"server,omitempty"`
	// CPUPerOwnDeliveryUS is its CPU time over its own clients' deliveries.
	CPUPerOwnDeliveryUS float64 `json:"cpu_us_per_own_delivery,omitempty"`
}

// SplitLatency is the latency of some of the deliveries.
type SplitLatency struct {
	Deliveries uint64  `json:"deliveries"`
	Latency    Latency `json:"latency_us"`
}

// sampleNodes reads the counters of every node, nil for those whose PID
// is unknown.
func sampleNodes(nodes []node) []*procSample {
	s := make([]*procSample, len(nodes))
	for k, n := range nodes {
		s[k] = sample(n.pid)
	}
	return s
}

// nodeResults returns what each node did, given its counters before and
// after and the deliveries to its clients, and the cluster's total usage,
// which is nil unless every node's counters are known.
func nodeResults(cfg *Config, before, after []*procSample, delivered []int64) ([]NodeResult, *Usage) {
	var all int64
	for _, d := range delivered {
		all += d
	}
	res := make([]NodeResult, len(delivered))
	total := &Usage{}
	for k := range res {
		res[k] = NodeResult{Node: k + 1, Clients: countMod(cfg.Clients, cfg.nodeCount(), k), Delivered: delivered[k]}
		if before[k] == nil || after[k] == nil {
			total = nil
			continue
		}
		u := usage(before[k], after[k], all)
		res[k].Server = u
		if delivered[k] > 0 {
			res[k].CPUPerOwnDeliveryUS = u.CPUSeconds * 1e6 / float64(delivered[k])
		}
		if total != nil {
			total.CPUSeconds += u.CPUSeconds
			total.SystemSeconds += u.SystemSeconds
			total.RSSBeforeKB += u.RSSBeforeKB
			total.RSSAfterKB += u.RSSAfterKB
			total.PeakRSSKB += u.PeakRSSKB
		}
	}
	if total != nil && all > 0 {
		total.CPUPerDeliveryUS = total.CPUSeconds * 1e6 / float64(all)
	}
	return res, total
}
