package impl

import (
	"container/list"
	"net"
	"sync"
	"syscall"
	"time"

	"roomchat.dev/roomchat/spec"
)

// client is one connection. Its fields are grouped by the goroutine that
// may touch them.
type client struct {
	// Immutable after newClient.
	id   uint64
	conn net.Conn
	srv  *Server
	// raw is conn's raw socket, for the writes of writer groups that do
	// not wait (writer.go); nil if conn is no socket.
	raw syscall.RawConn

	// done is closed by the loop when it has forgotten the client: from
	// then on the reader discards what it reads instead of handing it over.
	done chan struct{}
	// resumeIn is loop -> reader (capacity 1): the line the reader handed
	// over has been processed, so it may read the next one. Withholding it
	// is how the loop reads more slowly from a sender (flow.go), keeps a
	// line's successors waiting while it waits for work outside the loop
	// (async.go), and pauses a connection after a failed login (logins.go).
	// The loop sends it exactly once per line.
	resumeIn chan struct{}
	// readerDone is closed by the reader goroutine when it exits.
	readerDone chan struct{}
	// rd is the reader goroutine's own state (reader.go).
	rd readerState

	// out is shared by the loop (push) and the writer goroutine (take); it
	// has its own mutex. The writer runs only while there is output.
	out outQueue

	// writeDeadline is the write deadline last set on conn, as a reading of
	// srv.clock. Owned by the writer that runs (writer.go).
	writeDeadline time.Duration

	slotOnce  sync.Once // frees the MaxClients slot once
	closeOnce sync.Once // closes conn once

	// Owned by the loop goroutine; no other goroutine touches these. The
	// flags and other small fields come last, together, so that padding
	// does not push the struct out of the 512-byte size class: every
	// connection, the lobby's included, costs what its size class costs
	// (TestClientSize).
	name string // "" in NEW; as spelled in USERNAME (NAME-3)
	fold string // spec.Fold(name): the key in loop.users
	// rooms are the rooms the user is in, in the order it joined them,
	// earliest first: none in NEW and LOBBY, one on a core connection in
	// IN_ROOM, up to Config.MaxRooms on one that enabled rooms (MULTI-2).
	rooms []*room
	// cause is why the client is ending, once its phase is not open
	// (lifecycle.go).
	cause closeCause

	lastActive time.Duration // when its last line arrived, by srv.clock (LIMIT-7)
	idleElem   *list.Element // its place in loop.idle

	// Flow control (flow.go); its flags are below.
	stallLeft time.Duration // what is left of its Config.StallBudget (LIMIT-9)
	waitLeft  time.Duration // how much longer its lines may wait for others, in all (LIMIT-9)
	stallFrom time.Duration // a now() reading: when its stall began, if stalling
	waiters   []waiter      // senders whose postponed line waits for this client to drain
	// more are the lines of the reader's last batch not yet processed
	// (readEvent.more).
	more [][]byte
	// deferred is a line taken from the reader but not yet processed,
	// postponed since deferredAt (a now() reading; 0 when no line is).
	deferred   *item
	deferredAt time.Duration
	waitCount  int    // how many hot recipients the postponed line waits for
	gateMark   uint64 // loop.gateEpoch when last collected by the gate, to count it once

	// task is the line whose processing waits for work outside the loop
	// (async.go), or nil. Its reader stays paused meanwhile.
	task *task
	// While a HISTORY fetch is in flight (holding, below), the lines
	// queued to the client are held, to follow its reply (loop.hold); nil
	// until the first is. A pointer, not the lines themselves: few
	// clients ever fetch, and every connection pays for the struct.
	held *heldLines
	// Failed logins (ACCT-5, logins.go): how many, and until when its
	// reader stays paused after the last one (a now() reading; 0: not
	// paused). wakeGen, below, tells its current wakeup from stale ones.
	failures   int
	pauseUntil time.Duration

	// A cluster node (clusternode.go). A ghost (below) is a user of
	// another node, named node, with no connection: nothing is written to
	// it; firstSeq is the log position of its first entry, which orders
	// the users of a node that is gone.
	node     string
	firstSeq uint64

	deferGen uint32   // counts the times a line of this client was postponed
	wakeGen  uint32   // the generation of its wakeup after a failed login
	phase    phase    // where the client is in its life (lifecycle.go)
	ext      spec.Ext // the extensions of section 13 enabled with CAPS (CAPS-2)

	flushQueued bool // on loop.flushList (flush.go)
	// Flow control (flow.go).
	over     bool // pending output over high water, as the loop last saw it
	hot      bool // over, with stall budget left: it may hold others back
	stalling bool // some line waits for it; its stall began at stallFrom
	listed   bool // on loop.stallers
	// moreListed: c is on loop.lined, its next line of more to be
	// processed when the turn settles.
	moreListed bool
	// readerWaits: the reader handed over its last line and waits to be
	// resumed, so the loop may take the lines it holds (takeBuffered).
	readerWaits     bool
	postponedListed bool // on loop.postponed
	holding         bool // a HISTORY fetch is in flight: lines go to held
	ghost           bool // a user of another cluster node
	endSent         bool // the entry that ends this node's client is published
}

// newClient wraps an accepted connection.
func newClient(s *Server, id uint64, conn net.Conn) *client {
	c := &client{
		id:         id,
		conn:       conn,
		srv:        s,
		raw:        rawConnOf(conn),
		done:       make(chan struct{}),
		resumeIn:   make(chan struct{}, 1),
		readerDone: make(chan struct{}),
		stallLeft:  s.cfg.StallBudget,
		waitLeft:   s.cfg.StallBudget,
	}
	return c
}

// remote returns the client's address, for logs.
func (c *client) remote() string {
	if c.conn == nil {
		return "node " + c.node // a ghost
	}
	return c.conn.RemoteAddr().String()
}

// freeSlot gives back the connection's MaxClients slot, once. The loop
// calls it when it processes the close; closeConn calls it for connections
// the loop never saw. Any goroutine may call it.
func (c *client) freeSlot() {
	c.slotOnce.Do(func() { c.srv.active.Add(-1) })
}

// resetConn closes the socket abortively, discarding what the kernel still
// holds for it, so that its buffers are freed at once and the client reads
// a reset (LIMIT-8).
func (c *client) resetConn() {
	if tc, ok := c.conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	c.closeConn()
}

// closeConn frees the slot and closes the socket, once. Any goroutine may
// call it: the writer at the end of a graceful close, the loop to abort a
// slow consumer, Shutdown when its deadline passes.
func (c *client) closeConn() {
	c.freeSlot()
	c.closeOnce.Do(func() {
		c.conn.Close()
		c.srv.forget(c)
	})
}
