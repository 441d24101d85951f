package impl

import (
	"errors"
	"fmt"
	"time"

	"roomchat.dev/roomchat/impl/cluster"
	"roomchat.dev/roomchat/spec"
)

// ClusterConfig makes a server a node of a cluster of chatd nodes that
// share one chat through NATS (docs/cluster.md).
type ClusterConfig struct {
	// URL is the NATS server's, such as nats://127.0.0.1:4222. Its
	// JetStream holds the log.
	URL string
	// Node is this node's ID, unique in the cluster for the life of the
	// process; a random one if empty.
	Node string
	// Heartbeat is how often the node tells the others it lives, and
	// NodeTimeout how long after the last one it is declared gone.
	// Zero means package cluster's defaults.
	Heartbeat   time.Duration
	NodeTimeout time.Duration

	// link, if set (by tests), is used instead of dialing URL.
	link clusterLink
}

// errClusterExt is the error of a cluster node asked for what only one
// server can do.
var errClusterExt = errors.New("impl: a cluster node offers the extension rooms only: " +
	"accounts and history need storage shared by the nodes, which is not built (docs/cluster.md)")

// openCluster links the server to its cluster, if it is a node of one.
// Pacing is turned off (clusternode.go).
func (s *Server) openCluster() error {
	cc := s.cfg.Cluster
	if cc == nil {
		return nil
	}
	if s.cfg.DB != "" || s.cfg.Offer&^spec.ExtRooms != 0 {
		return errClusterExt
	}
	s.cfg.StallBudget = -1
	link := cc.link
	if link == nil {
		node := cc.Node
		if node == "" {
			node = cluster.NewNode()
		}
		l, err := cluster.Dial(cluster.Config{
			URL: cc.URL, Node: node, Heartbeat: cc.Heartbeat, DeadAfter: cc.NodeTimeout, Logger: s.log,
		})
		if err != nil {
			return fmt.Errorf("impl: joining the cluster at %s: %w", cc.URL, err)
		}
		link = l
	}
	l := s.loop
	l.cl = newClusterState(link)
	l.entriesIn, l.deadIn, l.upIn, l.linkErrIn = link.Entries(), link.Dead(), link.Up(), link.Errors()
	l.outboxFired = l.cl.retry.C
	s.log.Info("cluster node", "node", l.cl.node, "nats", cc.URL)
	return nil
}

// linkFlushTimeout bounds how long closeCluster waits for the loop's last
// entries to be stored.
const linkFlushTimeout = 2 * time.Second

// closeCluster closes the link to the cluster, if any, once the loop has
// stopped (closeBackends) or Open failed.
func (s *Server) closeCluster() {
	if cl := s.loop.cl; cl != nil {
		// The loop's last entries, such as this node's "node gone" at a
		// shutdown, are stored before the link goes, if the log takes them
		// soon enough.
		if !cl.link.Flush(linkFlushTimeout) {
			s.log.Warn("cluster: entries not stored before the link closed", "waited", linkFlushTimeout)
		}
		if err := cl.link.Close(); err != nil {
			s.log.Error("closing the cluster link", "err", err)
		}
	}
}
