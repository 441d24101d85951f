package concurrent

import (
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"roomchat.dev/roomchat/model"
)

// Verdict is the outcome of checking one history.
type Verdict string

// The verdicts.
const (
	Ok      Verdict = "Ok"      // a serialization exists: the server behaved as the model allows
	Illegal Verdict = "Illegal" // no serialization exists: the server broke the protocol
	Unknown Verdict = "Unknown" // the search ran out of time
)

// A Result is the verdict on one history, and on Illegal what the search
// got furthest with.
type Result struct {
	Verdict Verdict
	// Order is the longest serialization the search found, as indexes into
	// History.Ops: on Illegal, every op after it fails.
	Order []int
	// Explained is, for each connection, how many of its arrivals Order
	// explains; the first arrival beyond is where no serialization goes
	// further (Stuck).
	Explained []int
	// Stuck says why no op can follow Order: for each connection's next
	// op, what the model predicts that the server did not do.
	Stuck []string
	// Elapsed is how long the search took.
	Elapsed time.Duration
}

// Check searches for one serialization of h's operations that the model
// accepts and that produces exactly the lines each connection received, in
// order, within timeout (0: no limit). The search is porcupine's
// linearizability checker over a model whose state is the protocol model's
// state and, for each connection, how many of its ops have been applied
// and how many of its arrivals their outputs explain. Its constraints:
//   - each connection's ops in the order it sent them (ORDER-1);
//   - an op comes after every op whose outputs had arrived, at any client,
//     before its call: ORDER-4, checked exactly from the arrival times;
//   - an op comes before its Return (porcupine's real-time order);
//   - the outputs of each op, in the order chosen, are the next lines its
//     recipients received (ORDER-2), and at the end nothing is left over.
//
// The history is not partitioned: ORDER-1 is one order over everything,
// and names, PRIVMSG and ROOMS cross rooms.
func Check(h *History, timeout time.Duration) Result {
	start := time.Now()
	c := newChecker(h)
	res, info := porcupine.CheckOperationsVerbose(c.porcupineModel(), c.operations(), timeout)
	r := Result{Verdict: Verdict(res)}
	if r.Verdict != Ok {
		r.Order = longest(info)
		r.Explained, r.Stuck = c.explain(r.Order)
	}
	r.Elapsed = time.Since(start)
	return r
}

// A checker holds a history and what its search needs precomputed.
type checker struct {
	h      *History
	opsOf  [][]int // for each connection, the indexes of its ops, in order
	seq    []int   // for each op, its position among its connection's
	before [][]int // for each op, per connection, the arrivals before its call (ORDER-4)
	end    int     // the index of the end op
}

func newChecker(h *History) *checker {
	c := &checker{h: h, opsOf: make([][]int, len(h.Conns)), seq: make([]int, len(h.Ops)+1), end: len(h.Ops)}
	for i, op := range h.Ops {
		c.seq[i] = len(c.opsOf[op.Conn])
		c.opsOf[op.Conn] = append(c.opsOf[op.Conn], i)
	}
	c.before = make([][]int, len(h.Ops))
	for i, op := range h.Ops {
		c.before[i] = make([]int, len(h.Conns))
		for k, conn := range h.Conns {
			c.before[i][k] = sort.Search(len(conn.Received), func(j int) bool { return conn.Received[j].At >= op.Call })
		}
	}
	return c
}

// state is the search's state: it is never changed once made.
type state struct {
	model  model.State
	next   []int  // per connection: how many of its ops are applied
	cursor []int  // per connection: how many of its arrivals are explained
	key    string // all of the above, as one string: states are equal if their keys are
}

// newState makes a state and its key.
func newState(m model.State, next, cursor []int) *state {
	var b strings.Builder
	for _, v := range next {
		b.WriteString(strconv.Itoa(v))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	for _, v := range cursor {
		b.WriteString(strconv.Itoa(v))
		b.WriteByte(',')
	}
	b.WriteByte('|')
	fingerprint(&b, m)
	return &state{model: m, next: next, cursor: cursor, key: b.String()}
}

func (c *checker) initial() *state {
	return newState(model.New(model.Config{}), make([]int, len(c.h.Conns)), make([]int, len(c.h.Conns)))
}

// step applies op i to st, or says why it cannot come next.
func (c *checker) step(st *state, i int) (*state, string) {
	if i == c.end {
		for k, conn := range c.h.Conns {
			if st.cursor[k] < len(conn.Received) {
				return nil, fmt.Sprintf("%s received %s, which no item explains", conn.Label, show(conn.Received[st.cursor[k]]))
			}
		}
		return st, ""
	}
	op := c.h.Ops[i]
	if st.next[op.Conn] != c.seq[i] {
		return nil, "not the connection's next line"
	}
	for k, n := range c.before[i] {
		if st.cursor[k] < n {
			conn := c.h.Conns[k]
			return nil, fmt.Sprintf("%s had received %s before %s was sent, so the item that caused it comes first (ORDER-4)",
				conn.Label, show(conn.Received[st.cursor[k]]), c.h.describe(op))
		}
	}
	id := model.ClientID(op.Conn + 1)
	ev := model.Event{Kind: model.Connect}
	if op.Kind == OpLine {
		ev = model.Event{Kind: model.Line, Line: op.Line}
	}
	next, outs := st.model.Step(id, ev)
	cursor := slices.Clone(st.cursor)
	for _, o := range outs {
		k := int(o.To) - 1
		conn := c.h.Conns[k]
		want := Arrival{Line: o.Line, Closed: o.Close}
		if cursor[k] >= len(conn.Received) {
			return nil, fmt.Sprintf("%s would send %s %s, but %s received nothing more", c.h.describe(op), conn.Label, show(want), conn.Label)
		}
		got := conn.Received[cursor[k]]
		if got.Closed != want.Closed || got.Line != want.Line {
			return nil, fmt.Sprintf("%s would send %s %s, but %s received %s next", c.h.describe(op), conn.Label, show(want), conn.Label, show(got))
		}
		cursor[k]++
	}
	nx := slices.Clone(st.next)
	nx[op.Conn]++
	return newState(next, nx, cursor), ""
}

// show formats an arrival (or a predicted one) for an explanation.
func show(a Arrival) string {
	if a.Closed {
		return "the close of the connection"
	}
	return fmt.Sprintf("%q", a.Line)
}

// porcupineModel is the search's model for porcupine: an op's input is its
// index.
func (c *checker) porcupineModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return c.initial() },
		Step: func(s, in, _ any) (bool, any) {
			next, why := c.step(s.(*state), in.(int))
			if why != "" {
				return false, s
			}
			return true, next
		},
		Equal: func(a, b any) bool { return a.(*state).key == b.(*state).key },
		Hash: func(s any) uint64 {
			h := fnv.New64a()
			io.WriteString(h, s.(*state).key)
			return h.Sum64()
		},
		DescribeOperation: func(in, _ any) string {
			if i := in.(int); i < len(c.h.Ops) {
				return c.h.describe(c.h.Ops[i])
			}
			return "end"
		},
	}
}

// operations returns the history for porcupine, with the end op last:
// called after every other op has returned, it checks that every arrival
// is explained.
func (c *checker) operations() []porcupine.Operation {
	ops := make([]porcupine.Operation, 0, len(c.h.Ops)+1)
	for i, op := range c.h.Ops {
		ops = append(ops, porcupine.Operation{ClientId: c.h.Conns[op.Conn].Lane, Input: i, Call: int64(op.Call), Return: int64(op.Return)})
	}
	end := int64(c.h.End) + 1
	for _, op := range c.h.Ops {
		end = max(end, int64(op.Return)+1)
	}
	return append(ops, porcupine.Operation{ClientId: c.h.Lanes(), Input: c.end, Call: end, Return: end + 1})
}

// longest returns the longest partial serialization porcupine reports.
func longest(info porcupine.LinearizationInfo) []int {
	var best []int
	for _, part := range info.PartialLinearizations() {
		for _, lin := range part {
			if len(lin) > len(best) {
				best = lin
			}
		}
	}
	return slices.Clone(best)
}

// explain replays order and says, for each connection's next op, why it
// cannot come next; and how far each connection's arrivals are explained.
func (c *checker) explain(order []int) ([]int, []string) {
	st := c.initial()
	for _, i := range order {
		next, why := c.step(st, i)
		if why != "" {
			return st.cursor, []string{"the search's order does not replay: " + why}
		}
		st = next
	}
	// The model's objections first; the ORDER-4 ones, which are many
	// when one line is unexplained, once for each line that blocks.
	var stuck []string
	blocked := map[string][]string{}
	var blockers []string
	for k := range c.h.Conns {
		if st.next[k] < len(c.opsOf[k]) {
			i := c.opsOf[k][st.next[k]]
			_, why := c.step(st, i)
			switch line, ok := c.blockedBy(st, i); {
			case why == "":
			case ok:
				if blocked[line] == nil {
					blockers = append(blockers, line)
				}
				blocked[line] = append(blocked[line], c.h.describe(c.h.Ops[i]))
			default:
				stuck = append(stuck, why)
			}
		}
	}
	for _, line := range blockers {
		ops := blocked[line]
		stuck = append(stuck, fmt.Sprintf("%s before %s was sent, so no item can come next that does not explain it first (ORDER-4)",
			line, strings.Join(ops, ", ")))
	}
	if _, why := c.step(st, c.end); why != "" && len(stuck) == 0 {
		stuck = append(stuck, why)
	}
	return st.cursor, stuck
}

// Report formats a result: the verdict, and on Illegal the serialization
// found and why it stops.
func (r Result) Report(h *History) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s after %v", r.Verdict, r.Elapsed.Round(time.Millisecond))
	if r.Verdict == Ok {
		return b.String() + "\n"
	}
	ops, recv := h.Size()
	fmt.Fprintf(&b, ": %d operations, %d lines received; the longest serialization places %d operations, then:\n", ops, recv, len(r.Order))
	for _, s := range r.Stuck {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	if nodes := h.nodeSummary(); nodes != "" {
		fmt.Fprintf(&b, "the clients were spread over %d nodes of one service: %s\n", len(h.Nodes), nodes)
	}
	return b.String()
}

// blockedBy says which arrival, received before op i was sent and not yet
// explained in st, keeps i from coming next (ORDER-4).
func (c *checker) blockedBy(st *state, i int) (string, bool) {
	for k, n := range c.before[i] {
		if st.cursor[k] < n {
			conn := c.h.Conns[k]
			return fmt.Sprintf("%s had received %s", conn.Label, show(conn.Received[st.cursor[k]])), true
		}
	}
	return "", false
}

// fingerprint writes what tells model states apart, through the model's
// accessors: each client's name and room, each room's members and
// history, in order.
func fingerprint(b *strings.Builder, m model.State) {
	// In the order of their IDs, not of their openings: the order in
	// which connections opened changes nothing a client can see, and
	// states that differ only in it are one.
	ids := m.Clients()
	slices.Sort(ids)
	for _, id := range ids {
		b.WriteString(strconv.Itoa(int(id)))
		b.WriteByte(' ')
		b.WriteString(m.Name(id))
		b.WriteByte(' ')
		b.WriteString(m.RoomOf(id))
		b.WriteByte(';')
	}
	for _, r := range m.Rooms() {
		b.WriteString(r)
		b.WriteByte(':')
		for _, x := range m.Members(r) {
			b.WriteString(x)
			b.WriteByte(',')
		}
		b.WriteByte('|')
		for _, x := range m.History(r) {
			b.WriteString(x)
			b.WriteByte('\n')
		}
		b.WriteByte(';')
	}
}
