package concurrent

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
)

// A Program is what each client of a concurrent run does: one lane of
// actions per client, all lanes at once.
type Program struct {
	Lanes [][]Action
	// Nodes, if not nil, is the node of each lane, an index into the
	// addresses RunNodes is given: every connection of lane i goes to
	// node Nodes[i]. If nil, lane i's node is i mod the number of
	// addresses. Search sets it when the target has several nodes, and
	// shrinking keeps each remaining lane's node.
	Nodes []int
}

// An Action is one line a client sends, after a pause. QUIT ends the
// lane's connection: the lane waits for the server to close it, and its
// next action, if any, opens a new connection first.
type Action struct {
	Pause time.Duration
	Line  string
}

// Size returns the number of actions in p.
func (p Program) Size() int {
	n := 0
	for _, l := range p.Lanes {
		n += len(l)
	}
	return n
}

// String formats p, one lane a line, for reports and shrinking logs:
// "c2 (n3): ..." if p.Nodes gives lane 2 the third node.
func (p Program) String() string {
	var b strings.Builder
	for i, lane := range p.Lanes {
		fmt.Fprintf(&b, "c%d", i+1)
		if i < len(p.Nodes) {
			fmt.Fprintf(&b, " (%s)", nodeName(p.Nodes[i]))
		}
		b.WriteString(":")
		for _, a := range lane {
			if a.Pause > 0 {
				fmt.Fprintf(&b, " [%v]", a.Pause)
			}
			fmt.Fprintf(&b, " %q", a.Line)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Run runs p against the server at addr and records its history. Every
// lane starts at once; each action waits its pause and writes its line
// without waiting for any answer. When every lane is done, a closing
// barrier makes the history complete: each open connection sends a PING
// and waits for its PONG, which proves that all its lines were processed;
// once all have, each sends a second PING, whose PONG proves that every
// line caused by anything sent before has reached it (ORDER-2, ORDER-4).
// timeout bounds each wait for the server. An error means the run could
// not be completed (the server did not answer a PING, or close after
// QUIT): that is a failure of the server, or of the connection to it.
func Run(addr string, p Program, timeout time.Duration) (*History, error) {
	return RunOver(dial.Dialer{}, addr, p, timeout)
}

// RunOver is Run over the transport of d (PROTOCOL.md 2.1).
func RunOver(d dial.Dialer, addr string, p Program, timeout time.Duration) (*History, error) {
	return RunNodes(d, []string{addr}, p, timeout)
}

// RunNodes is RunOver against a service of several nodes, at addrs: every
// connection of lane i goes to addrs[p.Nodes[i]], or, if p.Nodes is nil,
// to addrs[i mod len(addrs)]; the history records each connection's node
// (Conn.Node, History.Nodes). The closing barrier is the same: it proves
// the history complete if each node answers a PING only once the PING has
// its place in the service's one order of items, after the connection's
// earlier lines, and every line that items earlier in that order caused
// for the connection has been sent to it.
func RunNodes(d dial.Dialer, addrs []string, p Program, timeout time.Duration) (*History, error) {
	if len(addrs) == 0 {
		return nil, errors.New("concurrent: no address to run against")
	}
	nodes := p.Nodes
	if nodes == nil {
		nodes = roundRobin(len(p.Lanes), len(addrs))
	}
	if len(nodes) != len(p.Lanes) {
		return nil, fmt.Errorf("concurrent: a program of %d lanes gives %d nodes", len(p.Lanes), len(nodes))
	}
	for i, n := range nodes {
		if n < 0 || n >= len(addrs) {
			return nil, fmt.Errorf("concurrent: lane %d has node %d of %d", i+1, n, len(addrs))
		}
	}
	d.Timeout = timeout
	r := &recorder{dialer: d, addrs: slices.Clone(addrs), nodes: nodes, timeout: timeout, start: time.Now()}
	var wg sync.WaitGroup
	errs := make([]error, len(p.Lanes))
	for lane, actions := range p.Lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[lane] = r.runLane(lane, actions)
		}()
	}
	wg.Wait()
	defer r.closeAll()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for round := 1; round <= 2; round++ {
		if err := r.barrier(round); err != nil {
			return nil, err
		}
	}
	return r.history(), nil
}

// A recorder runs the lanes and records what happens.
type recorder struct {
	dialer  dial.Dialer
	addrs   []string // one per node
	nodes   []int    // per lane: its node, an index into addrs
	timeout time.Duration
	start   time.Time

	mu    sync.Mutex
	conns []*conn
	ops   []Op
}

// conn is one connection of a run.
type conn struct {
	index int
	lane  int
	node  int    // an index into recorder.addrs
	label string // "c2'"
	where string // the label in errors: with its node, if there are several
	nc    net.Conn
	pings int // PINGs sent by the lane so far, for unique tokens

	mu       sync.Mutex
	received []Arrival
	notify   chan struct{} // capacity 1: signalled on every arrival
	done     chan struct{} // closed when the reader ends
}

func (r *recorder) since() time.Duration { return time.Since(r.start) }

// open dials a new connection for lane and records its opening.
func (r *recorder) open(lane, nth int) (*conn, error) {
	label := fmt.Sprintf("c%d", lane+1) + strings.Repeat("'", nth)
	node := r.nodes[lane]
	where := label
	if len(r.addrs) > 1 {
		where = fmt.Sprintf("%s (%s %s)", label, nodeName(node), r.addrs[node])
	}
	call := r.since()
	nc, err := r.dialer.Dial(r.addrs[node], dial.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	r.mu.Lock()
	c := &conn{index: len(r.conns), lane: lane, node: node, label: label, where: where, nc: nc, notify: make(chan struct{}, 1), done: make(chan struct{})}
	r.conns = append(r.conns, c)
	r.ops = append(r.ops, Op{Conn: c.index, Kind: OpConnect, Call: call})
	r.mu.Unlock()
	go r.read(c)
	return c, nil
}

// read records every line c receives, and its end.
func (r *recorder) read(c *conn) {
	defer close(c.done)
	br := bufio.NewReader(c.nc)
	for {
		line, err := br.ReadString('\n')
		at := r.since()
		if err != nil {
			c.add(Arrival{Closed: true, At: at})
			return
		}
		c.add(Arrival{Line: strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r"), At: at})
	}
}

func (c *conn) add(a Arrival) {
	c.mu.Lock()
	c.received = append(c.received, a)
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// send writes line to c and records it as an op.
func (r *recorder) send(c *conn, line string) error {
	r.mu.Lock()
	r.ops = append(r.ops, Op{Conn: c.index, Kind: OpLine, Line: line, Call: r.since()})
	r.mu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(r.timeout))
	if _, err := io.WriteString(c.nc, line+"\r\n"); err != nil {
		return fmt.Errorf("%s: writing %q: %w", c.where, line, err)
	}
	return nil
}

// waitFor waits until c has received an arrival that ok accepts, after the
// first from of them.
func (r *recorder) waitFor(c *conn, what string, ok func(Arrival) bool) error {
	deadline := time.NewTimer(r.timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		for _, a := range c.received {
			if ok(a) {
				c.mu.Unlock()
				return nil
			}
		}
		closed := len(c.received) > 0 && c.received[len(c.received)-1].Closed
		c.mu.Unlock()
		if closed {
			return fmt.Errorf("%s: the server closed the connection while it waited for %s", c.where, what)
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			return fmt.Errorf("%s: no %s within %v", c.where, what, r.timeout)
		}
	}
}

// runLane runs one lane's actions.
func (r *recorder) runLane(lane int, actions []Action) error {
	var c *conn
	nth := 0
	for _, a := range actions {
		if a.Pause > 0 {
			time.Sleep(a.Pause)
		}
		if c == nil {
			var err error
			if c, err = r.open(lane, nth); err != nil {
				return err
			}
			nth++
		}
		if err := r.send(c, a.Line); err != nil {
			return err
		}
		if strings.EqualFold(strings.Fields(a.Line + " x")[0], "QUIT") {
			if err := r.waitFor(c, "close after QUIT", func(a Arrival) bool { return a.Closed }); err != nil {
				return err
			}
			c = nil
		}
	}
	return nil
}

// barrier sends one PING on every open connection and waits for every
// PONG.
func (r *recorder) barrier(round int) error {
	r.mu.Lock()
	conns := append([]*conn(nil), r.conns...)
	r.mu.Unlock()
	for _, c := range conns {
		c.mu.Lock()
		closed := len(c.received) > 0 && c.received[len(c.received)-1].Closed
		c.mu.Unlock()
		if closed {
			continue
		}
		token := fmt.Sprintf("end%d-%s", round, strings.ReplaceAll(c.label, "'", "x"))
		if err := r.send(c, "PING "+token); err != nil {
			return err
		}
		if err := r.waitFor(c, "PONG "+token, func(a Arrival) bool { return a.Line == "PONG "+token }); err != nil {
			return err
		}
	}
	return nil
}

// closeAll ends every connection with QUIT, waits until the server has
// closed it, so that the next run on the same server starts with no users
// and no rooms (ROOMS lists every room), then closes its socket and waits
// for its reader. QUIT goes after the history: it is not recorded.
func (r *recorder) closeAll() {
	deadline := time.Now().Add(r.timeout)
	for _, c := range r.conns {
		c.nc.SetWriteDeadline(deadline)
		io.WriteString(c.nc, "QUIT\r\n")
	}
	for _, c := range r.conns {
		select {
		case <-c.done:
		case <-time.After(time.Until(deadline)):
		}
		c.nc.Close()
		<-c.done
	}
}

// history assembles the history: each connection's arrivals up to its
// last barrier PONG (or its close), and each op's Return.
func (r *recorder) history() *History {
	h := &History{End: r.since(), Nodes: r.addrs}
	for _, c := range r.conns {
		c.mu.Lock()
		h.Conns = append(h.Conns, Conn{Lane: c.lane, Node: c.node, Label: c.label, Received: append([]Arrival(nil), c.received...)})
		c.mu.Unlock()
	}
	h.Ops = append(h.Ops, r.ops...)
	for k := range h.Conns {
		h.Conns[k].Received = upToBarrier(h.Conns[k].Received)
	}
	bound(h, true)
	return h
}

// upToBarrier cuts a connection's arrivals after its last barrier PONG:
// what comes after (the close the recorder itself caused) is not part of
// the history.
func upToBarrier(rs []Arrival) []Arrival {
	for i := len(rs) - 1; i >= 0; i-- {
		if strings.HasPrefix(rs[i].Line, "PONG end2-") {
			return rs[:i+1]
		}
	}
	return rs
}

// bound gives each op the earliest time by which it has surely been
// processed (ORDER-1: a connection's lines are processed in order), the
// earliest of:
//   - the arrival of the PONG of a later PING of its connection (a PING's
//     token names it), or of the close that followed its QUIT;
//   - the arrival of the connection's k-th reply line, for its k-th op
//     (see tighten);
//   - with texts, the first arrival, at any connection, of a line that
//     carries the op's text, which Generate makes unique (see textOf);
//   - the end of the history.
func bound(h *History, texts bool) {
	defer tighten(h, texts)
	bound := make([]time.Duration, len(h.Conns))
	for k := range bound {
		bound[k] = h.End
	}
	for i := len(h.Ops) - 1; i >= 0; i-- {
		op := &h.Ops[i]
		conn := h.Conns[op.Conn]
		if token, ok := strings.CutPrefix(op.Line, "PING "); ok && op.Kind == OpLine {
			for _, a := range conn.Received {
				if a.Line == "PONG "+token && a.At > op.Call {
					bound[op.Conn] = a.At
					break
				}
			}
		}
		if op.Kind == OpLine && strings.EqualFold(strings.Fields(op.Line + " x")[0], "QUIT") {
			if n := len(conn.Received); n > 0 && conn.Received[n-1].Closed {
				bound[op.Conn] = conn.Received[n-1].At
			}
		}
		op.Return = max(bound[op.Conn], op.Call+1)
	}
}

// replyWords are the first words of the lines a server sends a client only
// in answer to that client's own line: each line causes at most one of
// them (PROTOCOL.md section 10).
var replyWords = map[string]bool{"OK": true, "ERROR": true, "PONG": true, "USERLIST": true, "ROOMLIST": true}

// tighten lowers each op's Return to the reply bounds and, with
// withTexts, the text bounds.
func tighten(h *History, withTexts bool) {
	texts := map[string]time.Duration{}
	if withTexts {
		texts = textArrivals(h)
	}
	var opsOf = make([][]int, len(h.Conns))
	for i, op := range h.Ops {
		opsOf[op.Conn] = append(opsOf[op.Conn], i)
	}
	for k, conn := range h.Conns {
		// If the m-th reply line arrived at t, at least m of the
		// connection's lines were processed by t, so its first m were.
		lines := 0 // the connection's ops that are lines, in order
		replies := make([]time.Duration, 0, len(conn.Received))
		for _, a := range conn.Received {
			if word, _, _ := strings.Cut(a.Line, " "); !a.Closed && replyWords[word] {
				replies = append(replies, a.At)
			}
		}
		for _, i := range opsOf[k] {
			op := &h.Ops[i]
			if op.Kind != OpLine {
				continue
			}
			if lines < len(replies) && replies[lines] > op.Call {
				op.Return = min(op.Return, replies[lines])
			}
			lines++
			if t, ok := texts[textOf(op.Line)]; ok && t > op.Call {
				op.Return = min(op.Return, t)
			}
		}
		// An op is processed before the connection's next one, and so by
		// that one's bound too: this bounds each opening by its first line.
		for j := len(opsOf[k]) - 2; j >= 0; j-- {
			op, next := &h.Ops[opsOf[k][j]], h.Ops[opsOf[k][j+1]]
			op.Return = max(min(op.Return, next.Return), op.Call+1)
		}
	}
}

// textOf returns the text a line carries to others that names it alone in
// a generated program (m3-7, t3-7, p3-7: lane and position), or "".
func textOf(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return ""
	}
	last := f[len(f)-1]
	if len(last) > 1 && strings.ContainsRune("mtp", rune(last[0])) && strings.Contains(last, "-") {
		return last
	}
	return ""
}

// textArrivals returns, for each generated text, when a line carrying it
// first arrived anywhere: its sender's line was processed by then.
func textArrivals(h *History) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, conn := range h.Conns {
		for _, a := range conn.Received {
			w := strings.Fields(a.Line)
			if len(w) == 0 || (w[0] != "ROOM" && w[0] != "PRIVMSG") {
				continue
			}
			if t := textOf(a.Line); t != "" {
				if at, ok := out[t]; !ok || a.At < at {
					out[t] = a.At
				}
			}
		}
	}
	return out
}
