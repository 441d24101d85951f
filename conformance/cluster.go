package conformance

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
)

// A Cluster is a Server made of several nodes that serve one chat, as the
// cluster profile of PROTOCOL.md says. Addr is node 1's address; Shutdown
// asks every node to shut down; Stop stops the nodes and then the log.
// The scripts of the cluster tag connect to its nodes (connect -node N),
// stop or kill one (stopnode, killnode), and make its log unreachable
// (stoplog, startlog).
type Cluster interface {
	Server
	// NodeAddrs returns the address of every node, node 1 first.
	NodeAddrs() []string
	// KillNode ends node n (counted from 1) at once, as SIGKILL does, and
	// waits until it has ended.
	KillNode(n int) error
	// StopNode asks node n to shut down (SHUT-1), as SIGTERM does, and
	// waits until it has.
	StopNode(n int) error
	// StopLog stops the service that the nodes share (for chatd, the NATS
	// server): the cluster's log is unreachable until StartLog. Both return
	// an error wrapping ErrUnsupported if the cluster has no such service
	// under the suite's control.
	StopLog() error
	// StartLog starts the service again, where the nodes expect it, and
	// returns once it accepts connections.
	StartLog() error
}

// ClusterConfig says how ExecCluster starts the nodes of a cluster and the
// service they share.
type ClusterConfig struct {
	// Nodes is how many nodes to start, at least 2.
	Nodes int
	// Node is each node's command line, as ExecServer takes it, with two
	// more placeholders: {node} is the node's number, 1 to Nodes, and {log}
	// is the host:port of the shared service started by Log.
	Node string
	// Log, if not empty, is the command line of the service the nodes
	// share, started first: {port}, {addr} and {dir} as for ExecServer.
	// It is ready once it accepts a TCP connection (it need not speak the
	// chat protocol). Without it, {log} may not appear in Node, and the
	// scripts that stop the log are skipped.
	Log string
	// Ready is how long one process may take to accept connections;
	// DefaultStartTimeout if zero.
	Ready time.Duration
	// Dialer is the transport of the nodes' {port}.
	Dialer dial.Dialer
}

// ExecCluster returns a StartFunc that starts a cluster as cfg says: the
// log service if any, then each node in turn, each ready before the next
// starts. A script's server flags are given to every node. The servers it
// starts are Clusters.
func ExecCluster(cfg ClusterConfig) (StartFunc, error) {
	if cfg.Nodes < 2 {
		return nil, fmt.Errorf("a cluster needs at least 2 nodes, not %d", cfg.Nodes)
	}
	if cfg.Ready <= 0 {
		cfg.Ready = DefaultStartTimeout
	}
	if cfg.Log == "" && strings.Contains(cfg.Node, "{log}") {
		return nil, fmt.Errorf("the node command %q uses {log}, but no command starts a log service", cfg.Node)
	}
	if !strings.Contains(cfg.Node, "{node}") {
		return nil, fmt.Errorf("the node command %q has no {node}: the nodes of a cluster must be told apart", cfg.Node)
	}
	// Check the command lines once, now, rather than at every start.
	if _, err := ExecServerOver(cfg.Node, cfg.Ready, cfg.Dialer); err != nil {
		return nil, fmt.Errorf("node command: %w", err)
	}
	var startLog func() (*execServer, error)
	if cfg.Log != "" {
		argv, err := SplitWords(cfg.Log)
		if err != nil {
			return nil, fmt.Errorf("log command: %w", err)
		}
		if len(argv) == 0 || !strings.Contains(cfg.Log, "{port}") && !strings.Contains(cfg.Log, "{addr}") {
			return nil, fmt.Errorf("log command %q has no {port} or {addr} to tell the service where to listen", cfg.Log)
		}
		startLog = func() (*execServer, error) { return startExec(argv, nil, cfg.Ready, dial.Dialer{}, true) }
	}
	return func(flags []string) (Server, error) {
		c := &execCluster{}
		if startLog != nil {
			var err error
			if c.log, err = startLog(); err != nil {
				return nil, fmt.Errorf("log service: %w", err)
			}
		}
		for n := 1; n <= cfg.Nodes; n++ {
			command := strings.ReplaceAll(cfg.Node, "{node}", strconv.Itoa(n))
			if c.log != nil {
				command = strings.ReplaceAll(command, "{log}", c.log.Addr())
			}
			argv, err := SplitWords(command)
			if err != nil {
				c.Stop()
				return nil, err
			}
			node, err := startExec(argv, flags, cfg.Ready, cfg.Dialer, false)
			if err != nil {
				c.Stop()
				return nil, fmt.Errorf("node %d: %w", n, err)
			}
			c.nodes = append(c.nodes, node)
		}
		return c, nil
	}, nil
}

// startExec starts one process of argv and flags, as ExecServer's servers
// are started; with tcpOnly, it is ready once it accepts a connection.
func startExec(argv, flags []string, ready time.Duration, d dial.Dialer, tcpOnly bool) (*execServer, error) {
	s := &execServer{argv: argv, flags: flags, ready: ready, dialer: d, tcpOnly: tcpOnly, log: &tailBuffer{max: 64 << 10}}
	if usesDir(argv) {
		var err error
		if s.dir, err = mkServerDir(); err != nil {
			return nil, err
		}
	}
	if err := s.start(0); err != nil {
		s.removeDir()
		return nil, err
	}
	return s, nil
}

var _ Cluster = (*execCluster)(nil)

// execCluster is a cluster started by ExecCluster. Like execServer, its
// methods are called by one script at a time.
type execCluster struct {
	log   *execServer // nil without a log command
	nodes []*execServer
}

func (c *execCluster) Addr() string { return c.nodes[0].Addr() }

func (c *execCluster) NodeAddrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// node returns node n, counted from 1.
func (c *execCluster) node(n int) (*execServer, error) {
	if n < 1 || n > len(c.nodes) {
		return nil, fmt.Errorf("no node %d: the cluster has nodes 1 to %d", n, len(c.nodes))
	}
	return c.nodes[n-1], nil
}

// Shutdown asks every node that still runs to shut down.
func (c *execCluster) Shutdown() error {
	var errs []error
	for _, n := range c.nodes {
		if !n.proc.exited() {
			errs = append(errs, n.Shutdown())
		}
	}
	return errors.Join(errs...)
}

func (c *execCluster) KillNode(n int) error {
	node, err := c.node(n)
	if err != nil {
		return err
	}
	node.kill()
	return nil
}

func (c *execCluster) StopNode(n int) error {
	node, err := c.node(n)
	if err != nil {
		return err
	}
	if node.proc.exited() {
		return fmt.Errorf("node %d has already exited (%v)", n, node.proc.err)
	}
	if err := node.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("node %d: SIGTERM: %w", n, err)
	}
	select {
	case <-node.proc.done:
		return nil
	case <-time.After(RestartTimeout):
		node.kill()
		return fmt.Errorf("node %d did not exit within %v of SIGTERM; killed", n, RestartTimeout)
	}
}

func (c *execCluster) StopLog() error {
	if c.log == nil {
		return fmt.Errorf("%w: no log service under the suite's control (-cluster-log)", ErrUnsupported)
	}
	if c.log.proc.exited() {
		return fmt.Errorf("the log service is not running (%v)", c.log.proc.err)
	}
	c.log.kill()
	return nil
}

func (c *execCluster) StartLog() error {
	if c.log == nil {
		return fmt.Errorf("%w: no log service under the suite's control (-cluster-log)", ErrUnsupported)
	}
	if !c.log.proc.exited() {
		return errors.New("the log service is already running")
	}
	addr := c.log.Addr()
	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	if err := c.log.startOn(p); err != nil {
		return fmt.Errorf("start the log service again on %s: %w", addr, err)
	}
	return nil
}

// Stop stops every node, then the log service.
func (c *execCluster) Stop() error {
	var errs []error
	for i, n := range c.nodes {
		if err := n.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("node %d: %w", i+1, err))
		}
	}
	if c.log != nil {
		if err := c.log.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("log service: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Log returns the output of every node and of the log service, each under
// a heading.
func (c *execCluster) Log() string {
	var b strings.Builder
	for i, n := range c.nodes {
		if out := n.Log(); out != "" {
			fmt.Fprintf(&b, "--- node %d (%s)\n%s", i+1, n.Addr(), ensureNewline(out))
		}
	}
	if c.log != nil {
		if out := c.log.Log(); out != "" {
			fmt.Fprintf(&b, "--- log service (%s)\n%s", c.log.Addr(), ensureNewline(out))
		}
	}
	return b.String()
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
