package concurrent

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A History is what a concurrent run recorded: every connection, every
// line each sent with the time its write began, and every line each
// received with the time it arrived, all on one clock (the time since the
// run began).
type History struct {
	// Conns are the connections, in the order they were opened. Conn i is
	// the model's client i+1.
	Conns []Conn
	// Ops are the items the server processes, each connection's in the
	// order it sent them: a connection opening, and each line.
	Ops []Op
	// End is when the run's closing barrier was complete: everything sent
	// before it has been processed and its lines received.
	End time.Duration
	// Nodes are the addresses the run dialled, one per node of the
	// service under test (Conn.Node is an index into it): one for a
	// single server, none if unknown (NewHistory). Reports name node i
	// "n<i+1>" when there are several.
	Nodes []string
}

// A Conn is one connection of a history.
type Conn struct {
	Lane  int    // the client (a lane of the timeline) whose connection it is; a lane may open several, one after another
	Node  int    // the node it was dialled to, an index into History.Nodes; every connection of a lane has its lane's
	Label string // its name in reports, such as "c2" or "c2'" for the lane's second connection
	// Received is every line the connection received, in order, and, if the
	// server closed it, a last Arrival with Closed set.
	Received []Arrival
}

// An Arrival is one line received, or the end of a connection.
type Arrival struct {
	Line   string        // without its terminator; "" when Closed
	Closed bool          // the server closed the connection here
	At     time.Duration // when the client's reader got it
}

// OpKind is what an Op is.
type OpKind uint8

// The kinds of Op.
const (
	OpConnect OpKind = iota + 1 // the connection opened (model.Connect)
	OpLine                      // a line sent (model.Line)
	opEnd                       // the end of the history (the checker's own)
)

// An Op is one item of a history: a connection opening or a line it sent.
type Op struct {
	Conn int // index into History.Conns
	Kind OpKind
	Line string // OpLine: the line, without terminator
	// Call is when the client began to write the line (or to dial); the
	// server cannot have processed it before. Return is a time by which it
	// has surely been processed: the arrival of the PONG of the next PING
	// the same connection sent (or of its close after QUIT), since a
	// server processes a client's lines in order (ORDER-1).
	Call, Return time.Duration
}

// String describes op, for reports: "c2> JOIN #a" or "c2: connect".
func (h *History) describe(op Op) string {
	label := h.Conns[op.Conn].Label
	switch op.Kind {
	case OpConnect:
		return label + ": connect"
	case OpLine:
		return label + "> " + op.Line
	}
	return "end"
}

// nodeName names node i in reports: "n1" for the first.
func nodeName(i int) string { return "n" + strconv.Itoa(i+1) }

// multiNode reports whether h ran against several nodes, whose names the
// reports then show.
func (h *History) multiNode() bool { return len(h.Nodes) > 1 }

// node describes connection k's node, "n2 127.0.0.1:4001", or returns ""
// if h does not have several nodes or k's is not one of them.
func (h *History) node(k int) string {
	if n := h.Conns[k].Node; h.multiNode() && n >= 0 && n < len(h.Nodes) {
		return nodeName(n) + " " + h.Nodes[n]
	}
	return ""
}

// nodeSummary says which clients used which node, "n1 127.0.0.1:4001:
// c1, c4; n2 127.0.0.1:4002: c2", or returns "" if h does not have
// several nodes.
func (h *History) nodeSummary() string {
	if !h.multiNode() {
		return ""
	}
	lanes := make([][]int, len(h.Nodes))
	seen := map[int]bool{}
	for _, c := range h.Conns {
		if c.Node >= 0 && c.Node < len(h.Nodes) && !seen[c.Lane] {
			seen[c.Lane] = true
			lanes[c.Node] = append(lanes[c.Node], c.Lane)
		}
	}
	var parts []string
	for n, ls := range lanes {
		slices.Sort(ls)
		names := make([]string, len(ls))
		for i, l := range ls {
			names[i] = "c" + strconv.Itoa(l+1)
		}
		if len(names) == 0 {
			names = []string{"no client"}
		}
		parts = append(parts, fmt.Sprintf("%s %s: %s", nodeName(n), h.Nodes[n], strings.Join(names, ", ")))
	}
	return strings.Join(parts, "; ")
}

// Lanes returns how many lanes (clients) the history has.
func (h *History) Lanes() int {
	n := 0
	for _, c := range h.Conns {
		n = max(n, c.Lane+1)
	}
	return n
}

// Size is the number of operations and of lines received, for progress and
// benchmarks.
func (h *History) Size() (ops, received int) {
	for _, c := range h.Conns {
		received += len(c.Received)
	}
	return len(h.Ops), received
}

func (a Arrival) String() string {
	if a.Closed {
		return fmt.Sprintf("+%.6fs (closed)", a.At.Seconds())
	}
	return fmt.Sprintf("+%.6fs %s", a.At.Seconds(), a.Line)
}

// Transcripts formats each connection's lines, sent and received, in time
// order, each connection headed by its node if there are several:
//
//	c1 (n1 127.0.0.1:4001):
//	  +0.001204s > USERNAME ann
//	  +0.001390s < OK Welcome, ann!
func (h *History) Transcripts() string {
	var b strings.Builder
	for k, conn := range h.Conns {
		if node := h.node(k); node != "" {
			fmt.Fprintf(&b, "%s (%s):\n", conn.Label, node)
		} else {
			fmt.Fprintf(&b, "%s:\n", conn.Label)
		}
		type row struct {
			at   time.Duration
			text string
		}
		var rows []row
		for _, op := range h.Ops {
			if op.Conn == k && op.Kind == OpLine {
				rows = append(rows, row{op.Call, "> " + op.Line})
			}
		}
		for _, a := range conn.Received {
			if a.Closed {
				rows = append(rows, row{a.At, ": closed by the server"})
			} else {
				rows = append(rows, row{a.At, "< " + a.Line})
			}
		}
		slices.SortStableFunc(rows, func(x, y row) int { return cmp.Compare(x.at, y.at) })
		for _, r := range rows {
			fmt.Fprintf(&b, "  +%.6fs %s\n", r.at.Seconds(), r.text)
		}
	}
	return b.String()
}
