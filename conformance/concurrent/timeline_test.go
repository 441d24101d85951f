package concurrent

import (
	"bytes"
	"encoding/xml"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/internal/racyserver"
)

// hostile is a line a server under test might send to the page's reader.
const hostile = "<script>alert(1)</script>"

// twoWelcomes is TestCheckerFindsTwoWelcomes' history, with name for the
// second client's name, and after its welcome two lines a hostile server
// could send: markup, and control and bidirectional characters.
func twoWelcomes(name string) *History {
	ms := time.Millisecond
	welcome2 := "OK Welcome, " + name + "!"
	return &History{
		Conns: []Conn{
			{Lane: 0, Label: "c1", Received: []Arrival{{Line: "OK Welcome, ann!", At: 3 * ms}}},
			{Lane: 1, Label: "c2", Received: []Arrival{
				{Line: welcome2, At: 4 * ms},
				{Line: hostile, At: 4*ms + 200*time.Microsecond},
				{Line: "\x1b[2J\u202eevil\x00", At: 4*ms + 300*time.Microsecond},
			}},
		},
		Ops: []Op{
			{Conn: 0, Kind: OpConnect, Call: 0, Return: 5 * ms},
			{Conn: 1, Kind: OpConnect, Call: 0, Return: 5 * ms},
			{Conn: 0, Kind: OpLine, Line: "USERNAME ann", Call: 1 * ms, Return: 5 * ms},
			{Conn: 1, Kind: OpLine, Line: "USERNAME " + name, Call: 1 * ms, Return: 5 * ms},
		},
		End: 6 * ms,
	}
}

// render writes h and r's page, checks what every page must be, and
// returns it and its parsed tree.
func render(t *testing.T, h *History, r Result, title string) (string, *node) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTimeline(&b, h, r, title); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	var again bytes.Buffer
	if err := WriteTimeline(&again, h, r, title); err != nil {
		t.Fatal(err)
	}
	if again.String() != page {
		t.Error("two renderings of one history differ")
	}
	for _, bad := range []string{"<script", "http://", "https://", "javascript:"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	root, err := parse(page)
	if err != nil {
		t.Fatalf("the page is not well-formed: %v", err)
	}
	svg := root.byID("timeline")
	if svg == nil || svg.name != "svg" {
		t.Fatal("no <svg id=timeline>")
	}
	if n := len(svg.all("lane")); n != h.Lanes() {
		t.Errorf("%d lanes, want %d", n, h.Lanes())
	}
	if n := len(svg.all("op")); n != len(h.Ops) {
		t.Errorf("%d ops, want %d", n, len(h.Ops))
	}
	if _, recv := h.Size(); len(svg.all("arrival")) != recv {
		t.Errorf("%d arrivals, want %d", len(svg.all("arrival")), recv)
	}
	if n := len(root.all("events")); n != len(h.Conns) {
		t.Errorf("%d tables, want one per connection, %d", n, len(h.Conns))
	}
	return page, root
}

// TestTimelineIllegal: the page of an Illegal result shows where no
// serialization goes further, escapes what the server sent, and parses.
//
// With CHAT_TIMELINE_OUT set to the path of an HTML file, the tests write
// their pages for a person to look at: this one there, and next to it
// NAME-model.html (TestTimelineRun) and NAME-racy.html
// (TestTimelineRacyServer, if a race showed):
//
//	CHAT_TIMELINE_OUT=/tmp/timeline.html go test ./conformance/concurrent -run Timeline
func TestTimelineIllegal(t *testing.T) {
	h := twoWelcomes("ann")
	r := Check(h, time.Second)
	if r.Verdict != Illegal {
		t.Fatalf("verdict %s, want Illegal", r.Verdict)
	}
	page, root := render(t, h, r, "Two welcomes "+hostile)
	writeOut(t, "", page)

	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the hostile line is not shown escaped")
	}
	text := root.text()
	if !strings.Contains(text, hostile) {
		t.Error("the hostile line is not shown")
	}
	if !strings.Contains(text, `"\x1b[2J\u202eevil\x00"`) {
		t.Error("a line with control characters is not shown quoted")
	}
	for _, s := range r.Stuck {
		if !strings.Contains(text, s) {
			t.Errorf("the page does not say %q", s)
		}
	}

	svg := root.byID("timeline")
	unexplained := 0
	for k, c := range h.Conns {
		j := r.Explained[k]
		if j >= len(c.Received) {
			continue
		}
		unexplained++
		id := arrivalID(k, j)
		if row := root.byID(id); row == nil || !row.hasClass("unexplained") {
			t.Errorf("the row of %s's first unexplained line is not highlighted", c.Label)
		}
		found := false
		for _, a := range svg.allNamed("a") {
			if a.attr("href") == "#"+id {
				found = len(a.all("unexplained")) == 1
			}
		}
		if !found {
			t.Errorf("the mark of %s's first unexplained line is not highlighted", c.Label)
		}
	}
	if unexplained == 0 || len(svg.all("unexplained")) != unexplained {
		t.Errorf("%d marks highlighted, want %d (one per connection with an unexplained line)", len(svg.all("unexplained")), unexplained)
	}
	if len(svg.all("stuck-line")) != 1 {
		t.Error("no line marks where the serialization stops")
	}
	if len(svg.all("stuck")) == 0 {
		t.Error("no op is marked as unable to come next")
	}
	for n, i := range r.Order {
		if !strings.Contains(root.byID(opID(i)).text(), "#"+strconv.Itoa(n+1)) {
			t.Errorf("op %d's row does not give its place #%d", i, n+1)
		}
	}
}

// TestTimelineOk: the page of an Ok result highlights nothing.
func TestTimelineOk(t *testing.T) {
	h := twoWelcomes("bob")
	h.Conns[1].Received = h.Conns[1].Received[:1]
	r := Check(h, time.Second)
	if r.Verdict != Ok {
		t.Fatalf("verdict %s, want Ok\n%s", r.Verdict, r.Report(h))
	}
	_, root := render(t, h, r, "Two names")
	for _, class := range []string{"unexplained", "frontier", "beyond", "stuck", "unplaced", "stuck-line", "frontier-line", "callout"} {
		if n := len(root.all(class)); n > 0 {
			t.Errorf("%d elements of class %s on an Ok page", n, class)
		}
	}
	if root.byID("closeup") != nil {
		t.Error("a close-up on an Ok page")
	}
}

// TestTimelineUnknown: a search that ran out of time is shown in orange,
// not as a proof.
func TestTimelineUnknown(t *testing.T) {
	h := twoWelcomes("ann")
	r := Check(h, time.Second)
	r.Verdict = Unknown
	_, root := render(t, h, r, "Out of time")
	if len(root.all("unexplained")) > 0 || len(root.all("stuck-line")) > 0 {
		t.Error("an Unknown result is drawn as Illegal")
	}
	if len(root.byID("timeline").all("frontier")) == 0 || len(root.all("frontier-line")) == 0 {
		t.Error("an Unknown result does not show how far the search got")
	}
}

// TestTimelineEdges: an empty history draws; one whose indexes are out of
// range is an error, not a panic.
func TestTimelineEdges(t *testing.T) {
	render(t, &History{}, Result{Verdict: Ok}, "")
	render(t, &History{}, Result{Verdict: Illegal, Explained: []int{3}, Order: []int{-1, 5}}, "")
	bad := &History{Conns: []Conn{{Label: "c1"}}, Ops: []Op{{Conn: 1, Kind: OpConnect}}}
	if err := WriteTimeline(io.Discard, bad, Result{}, ""); err == nil {
		t.Error("an op of a connection that does not exist draws")
	}
}

// TestTimelineRun: the page of a real run against the model server.
func TestTimelineRun(t *testing.T) {
	addr := startModel(t)
	rng := rand.New(rand.NewPCG(7, 1))
	p := Generate(rng, GenConfig{Clients: 3, Actions: 12, Suffix: suffix(rng)})
	h, err := Run(addr, p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(h, 10*time.Second)
	if r.Verdict != Ok {
		t.Fatalf("%s\n%s", r.Report(h), p)
	}
	page, _ := render(t, h, r, "Model server")
	writeOut(t, "-model", page)
	if len(page) < 1000 {
		t.Errorf("a page of %d bytes", len(page))
	}
}

// TestTimelineRacyServer: the page of a real race, when one shows: the
// racy server with NameCheckThenSet, under programs whose clients race for
// names.
func TestTimelineRacyServer(t *testing.T) {
	s, err := racyserver.Start("127.0.0.1:0", racyserver.Races{NameCheckThenSet: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	for seed := range 10 {
		rng := rand.New(rand.NewPCG(uint64(seed), 2))
		p := Generate(rng, GenConfig{Clients: 4, Actions: 12, Suffix: suffix(rng)})
		h, err := Run(s.Addr(), p, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		r := Check(h, 10*time.Second)
		if r.Verdict != Illegal {
			continue
		}
		page, root := render(t, h, r, "Racy server: NameCheckThenSet")
		if len(root.byID("timeline").all("stuck-line")) != 1 {
			t.Error("no line marks where the serialization stops")
		}
		writeOut(t, "-racy", page)
		return
	}
	t.Skip("no race showed in 10 runs")
}

// writeOut writes page to $CHAT_TIMELINE_OUT with suffix before its
// extension, if that is set.
func writeOut(t *testing.T, suffix, page string) {
	t.Helper()
	out := os.Getenv("CHAT_TIMELINE_OUT")
	if out == "" {
		return
	}
	ext := filepath.Ext(out)
	file := strings.TrimSuffix(out, ext) + suffix + ext
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", file)
}

// A node is an element of a parsed page.
type node struct {
	name     string
	attrs    []xml.Attr
	children []*node
	chars    strings.Builder // its text and its children's, in order
}

// parse parses page as XML.
func parse(page string) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(page))
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: slices.Clone(tok.Attr)}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			for _, n := range stack {
				n.chars.Write(tok)
			}
		}
	}
}

func (n *node) attr(name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *node) hasClass(class string) bool {
	return slices.Contains(strings.Fields(n.attr("class")), class)
}

func (n *node) text() string { return n.chars.String() }

// walk calls f on n and every element below it, in document order.
func (n *node) walk(f func(*node)) {
	f(n)
	for _, c := range n.children {
		c.walk(f)
	}
}

// all returns the elements at or below n of class class.
func (n *node) all(class string) []*node {
	var found []*node
	n.walk(func(m *node) {
		if m.hasClass(class) {
			found = append(found, m)
		}
	})
	return found
}

// allNamed returns the elements at or below n named name.
func (n *node) allNamed(name string) []*node {
	var found []*node
	n.walk(func(m *node) {
		if m.name == name {
			found = append(found, m)
		}
	})
	return found
}

// byID returns the element with id id, or nil.
func (n *node) byID(id string) *node {
	var found *node
	n.walk(func(m *node) {
		if found == nil && m.attr("id") == id {
			found = m
		}
	})
	return found
}

// BenchmarkWriteTimeline renders a large made-up history: 16 clients of
// 200 lines each, each line answered twice.
func BenchmarkWriteTimeline(b *testing.B) {
	h := &History{}
	for l := range 16 {
		c := Conn{Lane: l, Label: "c" + strconv.Itoa(l+1)}
		h.Ops = append(h.Ops, Op{Conn: l, Kind: OpConnect, Call: time.Duration(l) * time.Microsecond, Return: time.Millisecond})
		for i := range 200 {
			call := time.Duration(i)*100*time.Microsecond + time.Duration(l)*7*time.Microsecond
			h.Ops = append(h.Ops, Op{Conn: l, Kind: OpLine, Line: "MSG m" + strconv.Itoa(i), Call: call, Return: call + 2*time.Millisecond})
			c.Received = append(c.Received, Arrival{Line: "ROOM #a x m" + strconv.Itoa(i), At: call + 30*time.Microsecond}, Arrival{Line: "OK", At: call + 40*time.Microsecond})
		}
		h.Conns = append(h.Conns, c)
	}
	h.End = 21 * time.Millisecond
	r := Result{Verdict: Ok}
	var size int
	for b.Loop() {
		var w bytes.Buffer
		if err := WriteTimeline(&w, h, r, "big"); err != nil {
			b.Fatal(err)
		}
		size = w.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}
