package concurrent

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"roomchat.dev/roomchat/model"
)

// WriteTimeline writes h and its verdict r as one self-contained HTML page
// titled title: the verdict and, unless it is Ok, why no operation can
// come next (r.Stuck); a timeline of the run, drawn in inline SVG; on
// Illegal or Unknown, a close-up of the timeline around the point where
// the serialization stops; and, for each connection, a table of the lines
// it sent and received with their times, so that the page reads without
// hovering; the tables go lane by lane.
//
// The timeline has one horizontal lane per client (Conn.Lane), in which
// each connection is a segment labelled with Conn.Label; if the run used
// several nodes (History.Nodes), each lane and table names its client's
// node, and the facts say which clients each node had. Time runs left to
// right on a linear scale, in ms: the plot is at least 1,240 px wide (the
// picture about 1,400) and gains 12 px per item (op or line received) of
// its busiest lane, up to 24,000 px; the page scrolls sideways when the
// picture is wider than the window. Idle gaps are
// not compressed, so that distances compare; the close-up is there for
// races of a few microseconds. An operation is a bar from its Call (the
// thick left edge: the moment the client wrote the line) to its Return
// (a bound by which the server had surely processed it), labelled with
// its line and, if r.Order places it, its position there; an operation
// that Order does not place is hatched, and each connection's next one,
// which could not come next, is outlined in red. A line received is a
// dot at its arrival time; the first line of each connection that Order
// does not explain is a red ring, and a red vertical line marks the
// earliest of them (orange on Unknown, where the search ran out of time
// rather than proved that no order exists). Every full text is in an
// SVG <title> tooltip and in the tables, where a line received also names
// the operation of Order whose output it was.
//
// Everything that comes from the run (lines, labels) and title is escaped
// by html/template, and shown quoted if it holds characters that are not
// printable. The page loads nothing, runs no script and links nothing but
// itself. The output depends only on h, r and title.
func WriteTimeline(w io.Writer, h *History, r Result, title string) error {
	if err := drawable(h); err != nil {
		return fmt.Errorf("concurrent: timeline: %w", err)
	}
	t := newTimeline(h, r)
	var b bytes.Buffer
	if err := timelineTemplate.Execute(&b, t.page(title)); err != nil {
		return fmt.Errorf("concurrent: timeline: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// drawable checks that h's indexes are in range, so that drawing it
// cannot fail.
func drawable(h *History) error {
	for k, c := range h.Conns {
		if c.Lane < 0 {
			return fmt.Errorf("connection %d (%q) has lane %d", k, c.Label, c.Lane)
		}
		if len(h.Nodes) > 0 && (c.Node < 0 || c.Node >= len(h.Nodes)) {
			return fmt.Errorf("connection %d (%q) has node %d of %d", k, c.Label, c.Node, len(h.Nodes))
		}
	}
	for i, op := range h.Ops {
		if op.Conn < 0 || op.Conn >= len(h.Conns) {
			return fmt.Errorf("op %d names connection %d of %d", i, op.Conn, len(h.Conns))
		}
	}
	if h.End < 0 {
		return errors.New("the history ends before it begins")
	}
	return nil
}

// arrivalState is what a Result says of one line received.
type arrivalState uint8

const (
	arrivalPlain       arrivalState = iota // no verdict on it: the result has no Explained for its connection
	arrivalExplained                       // Order explains it
	arrivalUnexplained                     // the connection's first line that Order does not explain
	arrivalBeyond                          // after the connection's first unexplained line
)

// A timeline is a history and its result, with what the page derives from
// them.
type timeline struct {
	h *History
	r Result

	pos      []int            // per op: its 1-based position in r.Order; 0 if not placed
	placed   []bool           // per op: placed by r.Order, or every op when r is Ok
	stuck    []bool           // per op: the next op of its connection, which could not come next
	arrivals [][]arrivalState // per connection, per arrival
	cause    [][]int          // per connection, per arrival: the op of r.Order whose output it is, or -1
	lanes    [][]int          // per lane: its connections, in order
	span     time.Duration    // the end of the picture: the latest time in h

	frontier    time.Duration // on a result other than Ok, where the serialization stops
	hasFrontier bool
	frontierWhy string // what the frontier line says
}

func newTimeline(h *History, r Result) *timeline {
	t := &timeline{
		h: h, r: r,
		pos:      make([]int, len(h.Ops)),
		placed:   make([]bool, len(h.Ops)),
		stuck:    make([]bool, len(h.Ops)),
		arrivals: make([][]arrivalState, len(h.Conns)),
		cause:    make([][]int, len(h.Conns)),
		lanes:    make([][]int, h.Lanes()),
		span:     h.End,
	}
	for n, i := range r.Order {
		if i >= 0 && i < len(h.Ops) && t.pos[i] == 0 {
			t.pos[i] = n + 1
			t.placed[i] = true
		}
	}
	if r.Verdict == Ok {
		for i := range t.placed {
			t.placed[i] = true
		}
	}
	for k, c := range h.Conns {
		t.lanes[c.Lane] = append(t.lanes[c.Lane], k)
		t.arrivals[k] = make([]arrivalState, len(c.Received))
		t.cause[k] = make([]int, len(c.Received))
		for j, a := range c.Received {
			t.cause[k][j] = -1
			t.span = max(t.span, a.At)
		}
	}
	for _, op := range h.Ops {
		t.span = max(t.span, op.Call, op.Return)
	}
	t.judgeArrivals()
	if r.Verdict != Ok {
		t.findStuck()
		t.findFrontier()
	}
	t.attribute()
	return t
}

// judgeArrivals sets the state of every arrival from r.Explained.
func (t *timeline) judgeArrivals() {
	for k, states := range t.arrivals {
		if t.r.Verdict == Ok {
			for j := range states {
				states[j] = arrivalExplained
			}
			continue
		}
		if k >= len(t.r.Explained) {
			continue // nothing known of this connection
		}
		e := t.r.Explained[k]
		for j := range states {
			switch {
			case j < e:
				states[j] = arrivalExplained
			case j == e:
				states[j] = arrivalUnexplained
			default:
				states[j] = arrivalBeyond
			}
		}
	}
}

// findStuck marks each connection's first op that Order does not place:
// the ops that could not come next.
func (t *timeline) findStuck() {
	next := make([]bool, len(t.h.Conns)) // a connection's next op is found
	for i, op := range t.h.Ops {
		if !t.placed[i] && !next[op.Conn] {
			next[op.Conn] = true
			t.stuck[i] = true
		}
	}
}

// findFrontier sets where the serialization stops: the earliest first
// unexplained arrival, or if there is none, the earliest op that could not
// come next.
func (t *timeline) findFrontier() {
	for k, states := range t.arrivals {
		for j, s := range states {
			if at := t.h.Conns[k].Received[j].At; s == arrivalUnexplained && (!t.hasFrontier || at < t.frontier) {
				t.frontier, t.hasFrontier = at, true
				t.frontierWhy = "the earliest line the longest order does not explain"
			}
		}
	}
	if t.hasFrontier {
		return
	}
	for i, op := range t.h.Ops {
		if t.stuck[i] && (!t.hasFrontier || op.Call < t.frontier) {
			t.frontier, t.hasFrontier = op.Call, true
			t.frontierWhy = "no op can come next"
		}
	}
}

// attribute replays r.Order through the model, as Check does, to name the
// op whose output each explained arrival is. It stops at the first output
// that does not match what was received: attribution is for reading, the
// verdict is Check's.
func (t *timeline) attribute() {
	st := model.New(model.Config{})
	cursor := make([]int, len(t.h.Conns))
	for _, i := range t.r.Order {
		if i < 0 || i >= len(t.h.Ops) {
			return
		}
		op := t.h.Ops[i]
		ev := model.Event{Kind: model.Connect}
		if op.Kind == OpLine {
			ev = model.Event{Kind: model.Line, Line: op.Line}
		}
		next, outs := st.Step(model.ClientID(op.Conn+1), ev)
		for _, o := range outs {
			k := int(o.To) - 1
			if k < 0 || k >= len(t.h.Conns) || cursor[k] >= len(t.h.Conns[k].Received) {
				return
			}
			got := t.h.Conns[k].Received[cursor[k]]
			if got.Closed != o.Close || got.Line != o.Line {
				return
			}
			t.cause[k][cursor[k]] = i
			cursor[k]++
		}
		st = next
	}
}

// The page's data, as the template renders it.
type (
	timelinePage struct {
		Title        string
		Verdict      string
		VerdictClass string // ok, illegal or unknown
		Meaning      string
		Facts        []fact
		Frontier     string // on a result other than Ok, where the serialization stops
		Stuck        []string
		Views        []svgView
		Tables       []connTable
	}
	fact struct{ Name, Value string }

	svgView struct {
		ID, Caption, Note string
		W, H              float64
		Ticks             []tick
		Lanes             []laneView
		Lines             []vline
	}
	tick struct {
		X, Y1, Y2 float64
		Label     string
	}
	laneView struct {
		Alt         bool // every other lane, shaded
		Y, H, W     float64
		Name, Conns string
		Node        string // its client's node, if there are several
		NodeTitle   string // the same in full
		Segs        []segView
		Ops         []opView
		Marks       []markView
	}
	segView struct {
		Class, Label           string
		X, Y, W, H, TY, TrackY float64
		X2                     float64
	}
	opView struct {
		Class, Href, Title, Num, Label string
		X, Y, W, BarH, TX, TY          float64
	}
	markView struct {
		Class, Href, Title, Label string
		X, Y, Y0, R, LX, LY       float64 // Y0: the top of its stem; R: its dot's radius
		Closed                    bool
	}
	vline struct {
		Class, Label, Anchor string // Anchor: the label's text-anchor
		X, Y1, Y2, LX, LY    float64
	}

	connTable struct {
		ID, Label, Lane string
		Rows            []eventRow
	}
	eventRow struct {
		ID, Class, At, Dir, Text, Note, Href string
	}
)

// The geometry of a picture, in px.
const (
	gutterW      = 116.0 // the lane names, left of the plot
	rightPad     = 16.0
	axisH        = 30.0 // the time axis, above the lanes
	footH        = 34.0 // the labels of the vertical lines, below the lanes
	segRowH      = 16.0 // a lane's row of connection labels
	opRowH       = 18.0 // one row of op bars
	opBarH       = 13.0
	trackGap     = 10.0 // from the last op row to the arrivals' track
	markRowH     = 12.0 // one row of arrival labels
	markRows     = 2    // rows of arrival labels; a label that fits none is left out
	laneBottom   = 8.0
	charW        = 6.7 // the advance of one character of the 11 px monospace labels
	markCharW    = 6.1 // the same for the 10 px labels of arrivals
	opLabelMax   = 24  // runes of a line in an op's label
	nodeLabelMax = 18  // runes of a lane's node, under its name
	markLabMax   = 16  // runes of a line in an arrival's label; twice that for the first unexplained
	minPlotW     = 1240.0
	maxPlotW     = 24000.0
	pxPerItem    = 12.0
	closeupW     = 1240.0
	tickSpacing  = 110.0 // the wanted distance between two ticks
)

// page returns the data of the page titled title.
func (t *timeline) page(title string) timelinePage {
	h, r := t.h, t.r
	ops, recv := h.Size()
	p := timelinePage{
		Title:        display(title),
		Verdict:      string(r.Verdict),
		VerdictClass: verdictClass(r.Verdict),
		Meaning:      verdictMeaning(r.Verdict),
	}
	placed := 0
	for _, ok := range t.placed {
		if ok {
			placed++
		}
	}
	p.Facts = []fact{
		{"Clients", strconv.Itoa(len(t.lanes))},
		{"Connections", strconv.Itoa(len(h.Conns))},
		{"Operations", strconv.Itoa(ops)},
		{"Lines received", strconv.Itoa(recv)},
		{"End", "barrier complete at " + ms(h.End) + " ms"},
	}
	if nodes := h.nodeSummary(); nodes != "" {
		p.Facts = append(p.Facts, fact{"Nodes", display(fmt.Sprintf("%d of one service: %s", len(h.Nodes), nodes))})
	}
	switch {
	case r.Verdict == Ok && len(r.Order) == 0:
		p.Facts = append(p.Facts, fact{"Serialization", "exists (the result does not give its order)"})
	case r.Verdict == Ok:
		p.Facts = append(p.Facts, fact{"Serialization", "#n on an operation is its place in it"})
	default:
		p.Facts = append(p.Facts, fact{"Serialization", fmt.Sprintf("the longest found places %d of %d operations (#n on an operation is its place in it)", placed, ops)})
	}
	if r.Elapsed > 0 {
		unit := time.Millisecond
		if r.Elapsed < unit {
			unit = time.Microsecond
		}
		p.Facts = append(p.Facts, fact{"Search", r.Elapsed.Round(unit).String()})
	}
	if r.Verdict != Ok {
		for _, s := range r.Stuck {
			p.Stuck = append(p.Stuck, display(s))
		}
		if t.hasFrontier {
			p.Frontier = fmt.Sprintf("The serialization stops at %s ms (%s).", ms(t.frontier), t.frontierWhy)
		}
	}

	end, plotW := t.span+t.span/50+time.Microsecond, t.plotWidth()
	full := t.view("timeline", "The whole run", 0, end, plotW)
	full.Note = fmt.Sprintf("Linear time; 100 px = %s ms.", msStep(time.Duration(100*float64(end)/plotW)))
	p.Views = append(p.Views, full)
	if from, to, ok := t.closeup(); ok {
		v := t.view("closeup", fmt.Sprintf("Close-up: %s to %s ms, where the serialization stops", ms(from), ms(to)), from, to, closeupW)
		v.Note = fmt.Sprintf("Linear time; 100 px = %s ms. Bars cut by the edges go on outside.", msStep(time.Duration(100*float64(to-from)/closeupW)))
		p.Views = append(p.Views, v)
	}
	for _, conns := range t.lanes {
		for _, k := range conns {
			p.Tables = append(p.Tables, t.table(k))
		}
	}
	return p
}

// plotWidth is the width of the whole run's plot: wider the more items its
// busiest lane holds.
func (t *timeline) plotWidth() float64 {
	items := make([]int, len(t.lanes))
	for _, op := range t.h.Ops {
		items[t.h.Conns[op.Conn].Lane]++
	}
	for _, c := range t.h.Conns {
		items[c.Lane] += len(c.Received)
	}
	busiest := 0
	for _, n := range items {
		busiest = max(busiest, n)
	}
	return min(max(minPlotW, pxPerItem*float64(busiest)), maxPlotW)
}

// closeup returns the window of the close-up: from the ops that could
// not come next and were sent before the frontier, and the last op
// placed, to the frontier; and past it, as far again, to the other first
// unexplained arrivals and ops that could not come next that fall there.
// It is worth drawing only if it is much narrower than the run.
func (t *timeline) closeup() (from, to time.Duration, ok bool) {
	if !t.hasFrontier {
		return 0, 0, false
	}
	f := t.frontier
	lo, hi := f, f
	for i, op := range t.h.Ops {
		if t.stuck[i] && op.Call <= f {
			lo = min(lo, op.Call)
		}
	}
	if n := len(t.r.Order); n > 0 {
		if i := t.r.Order[n-1]; i >= 0 && i < len(t.h.Ops) && t.h.Ops[i].Call <= f {
			lo = min(lo, t.h.Ops[i].Call)
		}
	}
	reach := f + max(f-lo, 200*time.Microsecond)
	for k, states := range t.arrivals {
		for j, s := range states {
			if at := t.h.Conns[k].Received[j].At; s == arrivalUnexplained && at <= reach {
				hi = max(hi, at)
			}
		}
	}
	for i, op := range t.h.Ops {
		if t.stuck[i] && op.Call <= reach {
			hi = max(hi, op.Call)
		}
	}
	pad := max((hi-lo)/5, 50*time.Microsecond)
	from, to = max(lo-pad, 0), min(hi+pad, t.span)
	if to <= from || float64(to-from) > 0.4*float64(t.span) {
		return 0, 0, false
	}
	return from, to, true
}

// view lays out the picture of the window [from, to) of the history,
// plotW px wide.
func (t *timeline) view(id, caption string, from, to time.Duration, plotW float64) svgView {
	if to <= from {
		to = from + time.Millisecond
	}
	scale := plotW / float64(to-from)
	x := func(d time.Duration) float64 { return gutterW + float64(d-from)*scale }
	clampX := func(d time.Duration) float64 { return min(max(x(d), gutterW), gutterW+plotW) }
	inside := func(a, b time.Duration) bool { return b >= from && a <= to }
	v := svgView{ID: id, Caption: caption}
	right := gutterW + plotW // the rightmost thing drawn: labels may pass the plot

	y := axisH
	for l, conns := range t.lanes {
		lv := laneView{Alt: l%2 == 1, Y: y, Name: fmt.Sprintf("client %d", l+1)}
		for n, k := range conns {
			if n > 0 {
				lv.Conns += ", "
			}
			lv.Conns += display(t.h.Conns[k].Label)
		}
		if len(conns) > 0 {
			if node := t.h.node(conns[0]); node != "" {
				lv.Node, lv.NodeTitle = truncate(display(node), nodeLabelMax), "node "+display(node)
			}
		}

		// Ops, packed into rows so that neither bars nor labels overlap.
		var ends []float64 // per row, where its last item ends
		for i, op := range t.h.Ops {
			if t.h.Conns[op.Conn].Lane != l || !inside(op.Call, op.Return) {
				continue
			}
			o := t.opView(i)
			x1, x2 := clampX(op.Call), clampX(op.Return)
			end := max(x2, x1+float64(utf8.RuneCountInString(o.Num+o.Label))*charW+8) + 3
			row := 0
			for row < len(ends) && ends[row] > x1 {
				row++
			}
			if row == len(ends) {
				ends = append(ends, 0)
			}
			ends[row] = end
			right = max(right, end)
			o.X, o.W = x1, max(x2-x1, 2)
			o.Y, o.BarH = y+segRowH+float64(row)*opRowH+2, opBarH
			o.TX, o.TY = x1+5, o.Y+10
			if op.Call < from {
				o.Class += " cut"
			}
			lv.Ops = append(lv.Ops, o)
		}
		rows := max(len(ends), 1)
		trackY := y + segRowH + float64(rows)*opRowH + trackGap
		lv.H = trackY - y + 8 + markRows*markRowH + laneBottom

		// Connections, as segments of the lane.
		for n, k := range conns {
			start, end := t.connSpan(k)
			if !inside(start, end) {
				continue
			}
			x1, x2 := clampX(start), clampX(end)
			lv.Segs = append(lv.Segs, segView{
				Class: fmt.Sprintf("seg seg-%d", n%2), Label: display(t.h.Conns[k].Label),
				X: x1, W: max(x2-x1, 1), X2: x2, Y: y + 1, H: lv.H - 2, TY: y + 12, TrackY: trackY,
			})
		}

		// Arrivals: a dot each, and a label where a row has room for it;
		// the highlighted ones drawn last, on top.
		var marks, top []markView
		labelEnds := make([]float64, markRows)
		for i := range labelEnds {
			labelEnds[i] = math.Inf(-1)
		}
		for _, k := range conns {
			for j, a := range t.h.Conns[k].Received {
				if !inside(a.At, a.At) {
					continue
				}
				m := t.markView(k, j)
				m.X, m.Y, m.Y0, m.R = x(a.At), trackY, trackY-9, 3
				if t.arrivals[k][j] == arrivalUnexplained {
					m.R = 5.5
				}
				lx := m.X - 2
				for row := range labelEnds {
					if labelEnds[row]+10 <= lx {
						m.LX, m.LY = lx, trackY+8+float64(row+1)*markRowH-2
						labelEnds[row] = lx + float64(utf8.RuneCountInString(m.Label))*markCharW
						right = max(right, labelEnds[row])
						break
					}
				}
				if m.LY == 0 {
					m.Label = ""
				}
				if t.arrivals[k][j] == arrivalUnexplained {
					top = append(top, m)
				} else {
					marks = append(marks, m)
				}
			}
		}
		lv.Marks = append(marks, top...)
		v.Lanes = append(v.Lanes, lv)
		y += lv.H
	}
	bottom := y
	v.H = bottom + footH
	v.W = max(gutterW+plotW, right) + rightPad
	for i := range v.Lanes {
		v.Lanes[i].W = v.W
	}

	for _, tk := range ticks(from, to, plotW) {
		v.Ticks = append(v.Ticks, tick{X: x(tk), Y1: axisH - 6, Y2: bottom, Label: ms(tk)})
	}
	if t.h.End >= from && t.h.End <= to {
		v.Lines = append(v.Lines, vline{Class: "end-line", Label: "end of the run", Anchor: "end", X: x(t.h.End), Y1: axisH, Y2: bottom + 18, LX: x(t.h.End) - 4, LY: bottom + 28})
	}
	if t.hasFrontier && t.frontier >= from && t.frontier <= to {
		class := "frontier-line"
		if t.r.Verdict == Illegal {
			class = "stuck-line"
		}
		l := vline{Class: class, Label: t.frontierWhy + " (" + ms(t.frontier) + " ms)", Anchor: "start", X: x(t.frontier), Y1: axisH - 4, Y2: bottom + 4, LX: x(t.frontier) + 4, LY: bottom + 14}
		if l.LX+float64(utf8.RuneCountInString(l.Label))*markCharW > v.W-4 {
			l.Anchor, l.LX = "end", l.X-4
		}
		v.Lines = append(v.Lines, l)
	}
	return v
}

// connSpan returns when connection k was open, as far as the history
// tells: from its connect (or its first item) to its close (or the end).
func (t *timeline) connSpan(k int) (start, end time.Duration) {
	c := t.h.Conns[k]
	start, end = t.span, t.span
	found := false
	for _, op := range t.h.Ops {
		if op.Conn == k {
			if op.Kind == OpConnect {
				start, found = op.Call, true
				break
			}
			start = min(start, op.Call)
		}
	}
	if !found && len(c.Received) > 0 {
		start = min(start, c.Received[0].At)
	}
	if n := len(c.Received); n > 0 && c.Received[n-1].Closed {
		end = c.Received[n-1].At
	}
	return start, max(end, start)
}

// opView is op i's bar, but for its place.
func (t *timeline) opView(i int) opView {
	op := t.h.Ops[i]
	o := opView{Class: "op", Href: "#" + opID(i), Label: "connect"}
	if op.Kind == OpLine {
		o.Label = truncate(display(op.Line), opLabelMax)
	} else {
		o.Class += " connect"
	}
	switch {
	case t.stuck[i]:
		o.Class += " unplaced stuck"
	case t.placed[i]:
		o.Class += " placed"
	default:
		o.Class += " unplaced"
	}
	if t.pos[i] > 0 {
		o.Num = "#" + strconv.Itoa(t.pos[i]) + " "
	}
	o.Title = fmt.Sprintf("%s%s\nsent at %s ms, processed by %s ms\n%s", o.Num, display(t.h.describe(op)), ms(op.Call), ms(op.Return), t.opStatus(i))
	return o
}

// opStatus says what the result did with op i.
func (t *timeline) opStatus(i int) string {
	switch {
	case t.pos[i] > 0:
		return fmt.Sprintf("placed %d of the serialization", t.pos[i])
	case t.placed[i]:
		return "placed"
	case t.stuck[i]:
		return "not placed: its connection's next, which could not come next"
	}
	return "not placed"
}

// markView is arrival j of connection k's dot, but for its place.
func (t *timeline) markView(k, j int) markView {
	a := t.h.Conns[k].Received[j]
	m := markView{Class: "arrival", Href: "#" + arrivalID(k, j), Closed: a.Closed}
	text := display(a.Line)
	if a.Closed {
		m.Class += " closed"
		text = "(closed)"
	}
	m.Class += arrivalClass(t.r.Verdict, t.arrivals[k][j])
	m.Label = truncate(text, markLabMax)
	if t.arrivals[k][j] == arrivalUnexplained {
		m.Label = truncate(text, 2*markLabMax)
	}
	m.Title = fmt.Sprintf("%s< %s\nat %s ms", display(t.h.Conns[k].Label), text, ms(a.At))
	if note := t.arrivalNote(k, j); note != "" {
		m.Title += "\n" + note
	}
	return m
}

// arrivalClass is the CSS class of an arrival in state s, with a leading
// space: unexplained on Illegal, frontier on Unknown.
func arrivalClass(v Verdict, s arrivalState) string {
	switch s {
	case arrivalExplained:
		return " explained"
	case arrivalUnexplained:
		if v == Illegal {
			return " unexplained"
		}
		return " frontier"
	case arrivalBeyond:
		return " beyond"
	}
	return ""
}

// arrivalNote says what the result did with arrival j of connection k.
func (t *timeline) arrivalNote(k, j int) string {
	if i := t.cause[k][j]; i >= 0 {
		return fmt.Sprintf("output of #%d %s", t.pos[i], display(t.h.describe(t.h.Ops[i])))
	}
	switch t.arrivals[k][j] {
	case arrivalUnexplained:
		if t.r.Verdict == Illegal {
			return "the first line of its connection that the longest order does not explain: no serialization goes further"
		}
		return "the first line of its connection that the longest order found does not explain: the search got no further"
	case arrivalBeyond:
		return "after the first line the longest order does not explain"
	}
	return ""
}

// table is connection k's lines sent and received, in time order.
func (t *timeline) table(k int) connTable {
	c := t.h.Conns[k]
	ct := connTable{ID: fmt.Sprintf("conn-%d", k), Label: display(c.Label), Lane: fmt.Sprintf("client %d", c.Lane+1)}
	if node := t.h.node(k); node != "" {
		ct.Lane += ", node " + display(node)
	}
	type item struct {
		at  time.Duration
		row eventRow
	}
	var items []item
	for i, op := range t.h.Ops {
		if op.Conn != k {
			continue
		}
		row := eventRow{ID: opID(i), At: ms(op.Call), Dir: ">", Text: display(op.Line), Class: "sent"}
		if op.Kind == OpConnect {
			row.Dir, row.Text, row.Class = ":", "(connect)", "sent connect"
		}
		switch {
		case t.stuck[i]:
			row.Class += " stuck"
		case !t.placed[i]:
			row.Class += " unplaced"
		}
		row.Note = t.opStatus(i) + "; processed by " + ms(op.Return) + " ms"
		if t.pos[i] > 0 {
			row.Note = fmt.Sprintf("#%d; processed by %s ms", t.pos[i], ms(op.Return))
		}
		items = append(items, item{op.Call, row})
	}
	for j, a := range c.Received {
		row := eventRow{ID: arrivalID(k, j), At: ms(a.At), Dir: "<", Text: display(a.Line), Class: "received"}
		if a.Closed {
			row.Dir, row.Text, row.Class = ":", "(closed by the server)", "received closed"
		}
		row.Class += arrivalClass(t.r.Verdict, t.arrivals[k][j])
		row.Note = t.arrivalNote(k, j)
		if i := t.cause[k][j]; i >= 0 {
			row.Href = "#" + opID(i)
		}
		items = append(items, item{a.At, row})
	}
	slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.at, b.at) })
	for _, it := range items {
		ct.Rows = append(ct.Rows, it.row)
	}
	return ct
}

func opID(i int) string         { return fmt.Sprintf("op-%d", i) }
func arrivalID(k, j int) string { return fmt.Sprintf("conn-%d-in-%d", k, j) }

// ticks returns the times of the axis ticks of [from, to], a round number
// of ms apart, about tickSpacing px apart on a plot plotW px wide.
func ticks(from, to time.Duration, plotW float64) []time.Duration {
	step := niceStep(time.Duration(float64(to-from) * tickSpacing / plotW))
	var ts []time.Duration
	for d := (from + step - 1) / step * step; d <= to; d += step {
		ts = append(ts, d)
	}
	return ts
}

// niceStep rounds d up to 1, 2 or 5 times a power of ten nanoseconds.
func niceStep(d time.Duration) time.Duration {
	p := time.Duration(1)
	for p*10 <= d {
		p *= 10
	}
	for _, m := range []time.Duration{1, 2, 5, 10} {
		if m*p >= d {
			return m * p
		}
	}
	return 10 * p
}

// ms formats d in milliseconds with microseconds.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
}

// msStep formats a distance in ms with as many digits as it needs.
func msStep(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'g', 2, 64)
}

// display returns s as it is if every rune of it prints, else quoted, so
// that control characters, invalid UTF-8 and bidirectional overrides from
// the server show as escapes rather than act.
func display(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// truncate returns s cut to n runes, with an ellipsis if it was longer.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func verdictClass(v Verdict) string {
	switch v {
	case Ok:
		return "ok"
	case Illegal:
		return "illegal"
	}
	return "unknown"
}

func verdictMeaning(v Verdict) string {
	switch v {
	case Ok:
		return "Some order of the operations, one at a time, explains every line each client received: the server behaved as the model allows."
	case Illegal:
		return "No order of the operations, one at a time, explains the lines the clients received: the server broke the protocol. The picture shows the longest order the search found and where it stops."
	}
	return "The search ran out of time: the picture shows how far it got, which proves nothing."
}

// px formats a coordinate.
func px(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

var timelineTemplate = template.Must(template.New("timeline").Funcs(template.FuncMap{"px": px}).Parse(timelineHTML))

// timelineStyle is the page's style sheet; the palette is the HTML
// report's (conformance/html_templates.go).
const timelineStyle = `
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f; background: #fff; margin: 1.2rem 1rem 3rem; }
h1 { font-size: 1.45rem; margin: .3rem 0 .6rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; padding-bottom: .15rem; border-bottom: 1px solid #d0d0d0; }
h3 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
.prose { max-width: 78rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .4rem 0 1rem; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; }
.muted { color: #666; }
.small { font-size: .85em; }
.v { display: inline-block; padding: 0 .5rem; border-radius: 3px; font-weight: 600; font-size: .9em; }
.v-ok { background: #d8f3dc; color: #145a24; }
.v-illegal { background: #fbd5d5; color: #8b1111; }
.v-unknown { background: #ffe9b3; color: #6b4500; }
.callout { border-left: 4px solid #c00; background: #fff0f0; padding: .35rem .7rem; margin: .6rem 0; max-width: 78rem; }
.callout.unknown { border-left-color: #d08a00; background: #fff7df; }
.callout ul { margin: .2rem 0; padding-left: 1.2rem; }
.callout li { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .85em; overflow-wrap: anywhere; }
.legend { font-size: .85em; margin: .4rem 0; }
.legend span { margin-right: 1.1rem; white-space: nowrap; }
.sw { display: inline-block; width: 1.6em; height: .8em; vertical-align: middle; margin-right: .3em; border: 1px solid #0b5394; }
.sw-placed { background: #cfe2f3; border-left: 3px solid #0b5394; }
.sw-unplaced { background: repeating-linear-gradient(45deg, #fff 0 2px, #aaa 2px 3px); border-color: #888; }
.sw-stuck { background: repeating-linear-gradient(45deg, #fff 0 2px, #e99 2px 3px); border: 2px solid #c00; }
.sw-dot, .sw-ring { width: .7em; height: .7em; border-radius: 50%; background: #38761d; border: none; }
.sw-ring { background: #d00; box-shadow: 0 0 0 2px #fff, 0 0 0 3.5px #d00; }
.sw-vline { width: 0; border: none; border-left: 2px dashed #d00; height: 1.1em; }
.scroll { overflow-x: auto; border: 1px solid #e0e0e0; margin: .3rem 0 .3rem; }
svg.timeline { display: block; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
:where(svg.timeline) text { font-size: 11px; fill: #222; }
.axis text { fill: #555; font-size: 10px; }
.axis line { stroke: #e4e4e4; }
.axis line.tk { stroke: #999; }
.lane-bg { fill: #fff; }
.lane-bg.alt { fill: #f7f7f7; }
.lane-sep { stroke: #ccc; }
text.lane-name { font: 600 12px system-ui, sans-serif; fill: #222; }
text.lane-conns { font-size: 10px; fill: #666; }
text.lane-node { font-size: 10px; fill: #0b5394; }
.seg-0 { fill: #eef4fb; }
.seg-1 { fill: #f3eefb; }
.seg { stroke: #c9d6e6; }
text.seg-label { font-weight: 600; fill: #345; }
.track { stroke: #9ab89a; stroke-width: 1; }
.op .bar { fill: #cfe2f3; stroke: #0b5394; stroke-width: .8; }
.op .send { fill: #0b5394; }
.op.connect .bar { fill: #e6e6e6; stroke: #777; }
.op.connect .send { fill: #555; }
.op.unplaced .bar { fill: url(#hatch); stroke: #888; }
.op.unplaced .send { fill: #777; }
.op.stuck .bar { fill: url(#hatch-red); stroke: #c00; stroke-width: 2; }
.op.stuck .send { fill: #c00; }
.op.stuck text { fill: #900; font-weight: 600; }
.op.cut .send { display: none; }
.op text .num { font-weight: 700; fill: #0b5394; }
.arrival .dot { fill: #38761d; }
.arrival .stem { stroke: #38761d; stroke-width: 1; }
.arrival text { font-size: 10px; fill: #38761d; }
.arrival.closed .dot { fill: #222; }
.arrival.beyond .dot { fill: #fff; stroke: #999; }
.arrival.beyond .stem { stroke: #bbb; }
.arrival.beyond text { fill: #999; }
.arrival .ring { display: none; }
.arrival.unexplained .dot, .arrival.frontier .dot { fill: #d00; stroke: #fff; stroke-width: 1.5; }
.arrival.unexplained .ring, .arrival.frontier .ring { display: inline; fill: none; stroke: #d00; stroke-width: 2; }
.arrival.unexplained text { fill: #b00; font-weight: 700; }
.arrival.frontier .dot, .arrival.frontier .ring { fill: #d08a00; stroke: #d08a00; }
.arrival.frontier .dot { stroke: #fff; }
.arrival.frontier text { fill: #8a5a00; font-weight: 700; }
.end-line { stroke: #555; stroke-dasharray: 2 3; }
.stuck-line { stroke: #d00; stroke-width: 2; stroke-dasharray: 6 3; }
.frontier-line { stroke: #d08a00; stroke-width: 2; stroke-dasharray: 6 3; }
text.vlabel { font-size: 10px; fill: #555; }
text.stuck-line-label { fill: #c00; font-weight: 700; }
text.frontier-line-label { fill: #a06a00; font-weight: 700; }
svg.timeline a:hover .bar, svg.timeline a:hover .dot { stroke: #000; stroke-width: 2; }
table { border-collapse: collapse; margin: .4rem 0 1rem; max-width: 78rem; width: 100%; }
th, td { border: 1px solid #d6d6d6; padding: .15rem .45rem; text-align: left; vertical-align: top; }
thead th { background: #f2f2f2; }
td.at, td.dir { white-space: nowrap; width: 1%; color: #555; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em; }
td.text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: .88em; white-space: pre-wrap; overflow-wrap: anywhere; }
td.note { font-size: .85em; color: #444; }
tr.sent td.dir { color: #0b5394; font-weight: 600; }
tr.received td.dir { color: #38761d; font-weight: 600; }
tr.unplaced td { color: #777; }
tr.stuck td { background: #fff0f0; color: #900; }
tr.beyond td { color: #999; }
tr.unexplained td { background: #fbd5d5; color: #000; font-weight: 600; }
tr.frontier td { background: #ffe9b3; color: #000; font-weight: 600; }
tr:target td { outline: 2px solid #0b5394; }
@media print {
  .scroll { overflow: visible; border: none; }
  .v, .callout, tr.unexplained td, tr.stuck td { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  tr { break-inside: avoid; }
}
`

// timelineHTML is the page's template. It keeps to XML syntax (every
// element closed, no named entities beyond the five of XML), so that the
// page parses as XML too.
const timelineHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"/>
<meta name="referrer" content="no-referrer"/>
<title>{{.Title}}</title>
<style>` + timelineStyle + `</style>
</head>
<body>
<h1>{{.Title}} <span class="v v-{{.VerdictClass}}">{{.Verdict}}</span></h1>
<p class="prose">{{.Meaning}}</p>
{{if .Stuck}}<div class="callout {{.VerdictClass}}">
<p>{{if .Frontier}}{{.Frontier}} {{end}}Why no operation can come next:</p>
<ul>
{{range .Stuck}}<li>{{.}}</li>
{{end}}</ul>
</div>
{{else if .Frontier}}<p class="callout {{.VerdictClass}}">{{.Frontier}}</p>
{{end}}<dl class="meta">
{{range .Facts}}<dt>{{.Name}}</dt><dd>{{.Value}}</dd>
{{end}}</dl>
<p class="legend"><span><i class="sw sw-placed"></i>a line sent: from its write (the thick edge) to the time by which it was surely processed; #n is its place in the serialization</span>{{if ne .VerdictClass "ok"}}<span><i class="sw sw-unplaced"></i>not placed</span><span><i class="sw sw-stuck"></i>could not come next</span>{{end}}<span><i class="sw sw-dot"></i>a line received</span>{{if ne .VerdictClass "ok"}}<span><i class="sw sw-ring"></i>the first line of a connection that the order does not explain</span><span><i class="sw sw-vline"></i>where the serialization stops</span>{{end}}</p>
<svg class="defs" width="0" height="0" style="position:absolute" aria-hidden="true">
<defs>
<pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#fff"/><line x1="0" y1="0" x2="0" y2="5" stroke="#aaa" stroke-width="1.5"/></pattern>
<pattern id="hatch-red" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#fff"/><line x1="0" y1="0" x2="0" y2="5" stroke="#e88" stroke-width="1.5"/></pattern>
</defs>
</svg>
{{range .Views}}<h2>{{.Caption}}</h2>
<p class="small muted">{{.Note}} Hover a bar or a dot for its full text; click it to find it in the tables.</p>
<div class="scroll">
<svg id="{{.ID}}" class="timeline" width="{{px .W}}" height="{{px .H}}" viewBox="0 0 {{px .W}} {{px .H}}" role="img">
<title>{{.Caption}}</title>
<g class="backdrop">
{{range .Lanes}}<rect class="lane-bg{{if .Alt}} alt{{end}}" x="0" y="{{px .Y}}" width="{{px .W}}" height="{{px .H}}"/>
{{range .Segs}}<rect class="{{.Class}}" x="{{px .X}}" y="{{px .Y}}" width="{{px .W}}" height="{{px .H}}"/>
<line class="track" x1="{{px .X}}" x2="{{px .X2}}" y1="{{px .TrackY}}" y2="{{px .TrackY}}"/>
{{end}}<line class="lane-sep" x1="0" x2="{{px .W}}" y1="{{px .Y}}" y2="{{px .Y}}"/>
{{end}}</g>
<g class="axis">
{{range .Ticks}}<line x1="{{px .X}}" x2="{{px .X}}" y1="{{px .Y1}}" y2="{{px .Y2}}"/><line class="tk" x1="{{px .X}}" x2="{{px .X}}" y1="{{px .Y1}}" y2="30"/><text x="{{px .X}}" y="16" text-anchor="middle">{{.Label}}</text>
{{end}}<text x="8" y="16">ms</text>
</g>
{{range .Lanes}}<g class="lane">
<text class="lane-name" x="8" y="{{px .Y}}" dy="16">{{.Name}}</text>
<text class="lane-conns" x="8" y="{{px .Y}}" dy="30">{{.Conns}}</text>
{{if .Node}}<text class="lane-node" x="8" y="{{px .Y}}" dy="44"><title>{{.NodeTitle}}</title>{{.Node}}</text>
{{end}}{{range .Segs}}<text class="seg-label" x="{{px .X}}" dx="4" y="{{px .TY}}">{{.Label}}</text>
{{end}}{{range .Ops}}<a href="{{.Href}}"><g class="{{.Class}}"><title>{{.Title}}</title><rect class="bar" x="{{px .X}}" y="{{px .Y}}" width="{{px .W}}" height="{{px .BarH}}"/><rect class="send" x="{{px .X}}" y="{{px .Y}}" width="3" height="{{px .BarH}}"/><text x="{{px .TX}}" y="{{px .TY}}">{{if .Num}}<tspan class="num">{{.Num}}</tspan>{{end}}{{.Label}}</text></g></a>
{{end}}{{range .Marks}}<a href="{{.Href}}"><g class="{{.Class}}"><title>{{.Title}}</title><line class="stem" x1="{{px .X}}" x2="{{px .X}}" y1="{{px .Y0}}" y2="{{px .Y}}"/><circle class="ring" cx="{{px .X}}" cy="{{px .Y}}" r="10"/>{{if .Closed}}<rect class="dot" x="{{px .X}}" y="{{px .Y}}" width="7" height="7" transform="translate(-3.5,-3.5)"/>{{else}}<circle class="dot" cx="{{px .X}}" cy="{{px .Y}}" r="{{px .R}}"/>{{end}}{{if .Label}}<text x="{{px .LX}}" y="{{px .LY}}">{{.Label}}</text>{{end}}</g></a>
{{end}}</g>
{{end}}{{range .Lines}}<line class="{{.Class}}" x1="{{px .X}}" x2="{{px .X}}" y1="{{px .Y1}}" y2="{{px .Y2}}"/><text class="vlabel {{.Class}}-label" x="{{px .LX}}" y="{{px .LY}}" text-anchor="{{.Anchor}}">{{.Label}}</text>
{{end}}</svg>
</div>
{{end}}<h2>Lines of each connection</h2>
<p class="small muted"><code>&gt;</code> sent by the client, <code>&lt;</code> received, <code>:</code> the connection opened or closed. Times in ms since the run began.</p>
{{range .Tables}}<h3 id="{{.ID}}">{{.Label}} <span class="small muted">{{.Lane}}</span></h3>
<table class="events">
<thead><tr><th>Time</th><th></th><th>Line</th><th>Serialization</th></tr></thead>
<tbody>
{{range .Rows}}<tr id="{{.ID}}" class="{{.Class}}"><td class="at">{{.At}}</td><td class="dir">{{.Dir}}</td><td class="text">{{.Text}}</td><td class="note">{{if .Href}}<a href="{{.Href}}">{{.Note}}</a>{{else}}{{.Note}}{{end}}</td></tr>
{{end}}</tbody>
</table>
{{end}}</body>
</html>
`
