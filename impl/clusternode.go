package impl

import (
	"cmp"
	"slices"
	"time"

	"roomchat.dev/roomchat/impl/cluster"
	"roomchat.dev/roomchat/spec"
)

// A cluster node (docs/cluster.md). Every node publishes the events of its
// own clients to one log, and applies every entry of that log, its own
// included, in the log's order: the order of ORDER-1 for the whole
// cluster. So the loop does not apply a line of its own client when it is
// read, but when it comes back from the log; meanwhile the client's
// reader stays paused, which keeps each client's order. The users of the
// other nodes are ghosts here: clients without a connection, whose names
// and rooms are in the state like anyone's, and to whom nothing is
// written.
//
// What only this node can see, that a connection ended, became a slow
// consumer or stayed idle, is published as an entry too, and the user
// leaves when that entry is applied, at the same point on every node. A
// node never paces (Open turns pacing off): whether a queue is full is
// known here only, and pacing would apply lines at different points on
// different nodes.

// clusterLink is what the loop does with a cluster.Link.
type clusterLink interface {
	Node() string
	TryPublish(data []byte) bool
	Entries() <-chan cluster.Entry
	Dead() <-chan string
	Up() <-chan bool
	Errors() <-chan error
	Flush(timeout time.Duration) bool
	Close() error
}

var _ clusterLink = (*cluster.Link)(nil)

// ErrClusterUnavailable answers a line that a node cannot put in the log
// (docs/cluster.md, "When NATS is unreachable").
const ErrClusterUnavailable = spec.ErrClusterUnavailable

// outboxRetry is how soon entries that the link's queue refused are
// offered again.
const outboxRetry = 10 * time.Millisecond

// ghostKey names a connection of another node.
type ghostKey struct {
	node string
	conn uint64
}

// clusterState is the loop's part of a cluster node. Owned by the loop.
type clusterState struct {
	link    clusterLink
	node    string
	down    bool                 // the link to NATS is lost: lines are answered ErrClusterUnavailable
	broken  bool                 // for good (onLinkError)
	local   map[uint64]*client   // this node's open clients, by connection ID
	ghosts  map[ghostKey]*client // the other nodes' users
	maxConn map[string]uint64    // the largest connection ID of each node in the log so far
	gone    map[string]uint64    // nodes declared gone: their connections up to this ID are dead
	outbox  [][]byte             // entries to publish that the link's queue refused, oldest first
	retry   *time.Timer
	armed   bool
}

// clustered reports whether the server is a cluster node.
func (l *loop) clustered() bool { return l.cl != nil }

// newClusterState sets up the loop's part of a node linked by link.
func newClusterState(link clusterLink) *clusterState {
	return &clusterState{
		link:    link,
		node:    link.Node(),
		local:   make(map[uint64]*client),
		ghosts:  make(map[ghostKey]*client),
		maxConn: make(map[string]uint64),
		gone:    make(map[string]uint64),
		retry:   newStoppedTimer(),
	}
}

// publishRead publishes what a reader handed over: a line, an overlong
// line, or the end of the stream. A line the link cannot take is answered
// ErrClusterUnavailable at once: no earlier line of the client is in
// flight (its reader waits for each), so the answer keeps its order.
func (l *loop) publishRead(c *client, ev readEvent) {
	cl := l.cl
	if ev.terminal() {
		why := closeCause{reason: Disconnected, detail: ev.err.Error()}
		if c.phase == phaseMute {
			why = c.cause
		}
		l.endLocal(c, why)
		return
	}
	if !c.reading() {
		return // a slow consumer whose end is on its way
	}
	e := entry{kind: entryLine, conn: c.id, payload: ev.line}
	if ev.err == spec.ErrLineOverflow {
		e = entry{kind: entryOverlong, conn: c.id}
	}
	if cl.down || !cl.link.TryPublish(appendEntry(nil, e)) {
		l.reply(c, spec.ErrorLine(ErrClusterUnavailable))
		l.resumeIfFree(c)
	}
}

// endLocal is how a node ends one of its connections for a reason only it
// can see: the socket goes at once, as a single server's would (a slow
// consumer is reset), and the user leaves when the entry comes back.
func (l *loop) endLocal(c *client, why closeCause) {
	if c.endSent {
		return
	}
	c.endSent = true
	if c.phase == phaseOpen {
		c.phase = phaseDoomed // nothing more is queued or read
		c.cause = why
	}
	if closeRules[why.reason].end == endReset {
		c.out.close(abort)
		c.resetConn()
	}
	l.publishMust(entry{kind: entryEnd, conn: c.id, payload: []byte(why.reason.String())})
}

// publishMust publishes an entry that must not be lost (an end, an idle
// timeout, a node gone): if the link's queue is full it waits in the
// outbox and is offered again.
func (l *loop) publishMust(e entry) {
	cl := l.cl
	data := appendEntry(nil, e)
	if len(cl.outbox) == 0 && cl.link.TryPublish(data) {
		return
	}
	cl.outbox = append(cl.outbox, data)
	l.armOutbox()
}

// onOutboxTimer offers the outbox to the link again, in order.
func (l *loop) onOutboxTimer() {
	cl := l.cl
	cl.armed = false
	for len(cl.outbox) > 0 && cl.link.TryPublish(cl.outbox[0]) {
		cl.outbox = cl.outbox[1:]
	}
	l.armOutbox()
}

func (l *loop) armOutbox() {
	if cl := l.cl; len(cl.outbox) > 0 && !cl.armed {
		cl.retry.Reset(outboxRetry)
		cl.armed = true
	}
}

// onEntry applies one entry of the log: one item of ORDER-1.
func (l *loop) onEntry(en cluster.Entry) {
	cl := l.cl
	e, err := decodeEntry(en.Data)
	if err != nil {
		l.log.Error("cluster entry skipped", "seq", en.Seq, "node", en.Node, "err", err)
		return
	}
	if e.kind == entryGone {
		if _, ok := cl.gone[en.Node]; ok {
			// A node declared gone may have been paused rather than dead:
			// what it declares once it runs again is not believed.
			return
		}
		l.nodeGone(string(e.payload))
		return
	}
	cl.maxConn[en.Node] = max(cl.maxConn[en.Node], e.conn)
	c := l.entryClient(en, e.conn, e.kind == entryLine || e.kind == entryOverlong)
	if c == nil || c.phase == phaseClosed {
		return
	}
	switch e.kind {
	case entryLine, entryOverlong:
		ev := readEvent{c: c, line: e.payload}
		if e.kind == entryOverlong {
			ev.err = spec.ErrLineOverflow
		}
		if !c.ghost && l.debugEnabled() {
			l.log.Debug("line", "conn", c.id, "seq", en.Seq)
		}
		l.process(c, parse(ev, l.words(c)))
	case entryIdle:
		if !c.ghost {
			c.freeSlot() // before the notice, which a writer may send at once (DISC-4)
		}
		l.reply(c, spec.ErrorLine(spec.ErrIdleTimeout))
		l.closeClient(c, closeCause{reason: IdleTimeout, detail: "no line for " + l.cfg.IdleTimeout.String()})
	case entryEnd:
		why := c.cause
		if c.ghost || why.reason == 0 {
			why = closeCause{reason: reasonNamed(string(e.payload))}
		}
		l.closeClient(c, why)
	}
}

// entryClient returns the client an entry of its node's connection conn
// is about: one of this node's, or a ghost, created for a line if it is
// new. It returns nil for a connection that is gone.
func (l *loop) entryClient(en cluster.Entry, conn uint64, create bool) *client {
	cl, node := l.cl, en.Node
	if node == cl.node {
		return cl.local[conn]
	}
	k := ghostKey{node, conn}
	if g := cl.ghosts[k]; g != nil {
		return g
	}
	if dead, ok := cl.gone[node]; !create || ok && conn <= dead {
		return nil
	}
	g := &client{id: conn, srv: l.srv, ghost: true, node: node, firstSeq: en.Seq}
	cl.ghosts[k] = g
	return g
}

// dropGhost forgets a ghost whose connection ended: it leaves its rooms
// (MULTI-7) and its name is freed, as closeClient does for a client of
// this node.
func (l *loop) dropGhost(g *client, why closeCause) {
	cl := l.cl
	g.phase = phaseClosed
	if closeRules[why.reason].leave {
		l.leaveAll(g)
	}
	if g.name != "" && l.users[g.fold] == g {
		delete(l.users, g.fold)
	}
	delete(cl.ghosts, ghostKey{g.node, g.id})
}

// nodeGone applies the entry that a node is gone: each of its users is
// disconnected, in the order of their first entries in the log, and the
// entries of its connections that come later are ignored. If the node is this one, it
// was declared dead while it lived: it closes every connection it has,
// and tells the others that they ended, for entries of them that were in
// flight.
func (l *loop) nodeGone(node string) {
	cl := l.cl
	if _, ok := cl.gone[node]; ok {
		return // declared once already
	}
	cl.gone[node] = cl.maxConn[node]
	l.log.Warn("cluster node gone", "node", node, "self", node == cl.node)
	if node != cl.node {
		var theirs []*client
		for k, g := range cl.ghosts {
			if k.node == node {
				theirs = append(theirs, g)
			}
		}
		slices.SortFunc(theirs, func(a, b *client) int { return cmp.Compare(a.firstSeq, b.firstSeq) })
		for _, g := range theirs {
			l.closeClient(g, closeCause{reason: Disconnected, detail: "node gone"})
		}
		return
	}
	mine := make([]*client, 0, len(cl.local))
	for _, c := range cl.local {
		mine = append(mine, c)
	}
	slices.SortFunc(mine, func(a, b *client) int { return cmp.Compare(a.id, b.id) })
	for _, c := range mine {
		l.reply(c, spec.ErrorLine(ErrClusterUnavailable))
		l.closeClient(c, closeCause{reason: Disconnected, detail: "this node was declared gone"})
		l.publishMust(entry{kind: entryEnd, conn: c.id, payload: []byte(Disconnected.String())})
	}
}

// onNodeDead publishes that a node whose heartbeats stopped is gone; every
// node that notices does, and the first entry counts.
func (l *loop) onNodeDead(node string) {
	if _, ok := l.cl.gone[node]; ok || node == l.cl.node {
		return
	}
	l.publishMust(entry{kind: entryGone, payload: []byte(node)})
}

// onLinkError handles what the link cannot recover from, such as a log
// that was lost: the node can apply nothing more, so from now on it
// answers every line ErrClusterUnavailable.
func (l *loop) onLinkError(err error) {
	l.cl.broken = true
	l.cl.down = true
	l.log.Error("cluster link failed; every line is now answered "+ErrClusterUnavailable, "err", err)
}

// onLinkUp records whether the link to NATS is up.
func (l *loop) onLinkUp(up bool) {
	l.cl.down = !up || l.cl.broken
	l.log.Info("cluster link", "up", up)
}

// reasonNamed is the CloseReason whose String is name; Disconnected for a
// name it does not know.
func reasonNamed(name string) CloseReason {
	for r, n := range reasonNames {
		if n == name && n != "" {
			return CloseReason(r)
		}
	}
	return Disconnected
}
