package modelcheck

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// machine is one test case: the server under test, the model, and the
// clients connected to both.
type machine struct {
	opts    Options
	addr    string
	sfx     string
	lines   *rapid.Generator[string]
	model   model.State
	slots   map[int]*slot // open connections by slot number
	nextID  model.ClientID
	step    int
	tr      transcript
	script  scriptWriter
	watcher *client // a named, roomless connection that observes disconnects
}

// slot is one client position: a connection and its identity in the model.
type slot struct {
	c  *client
	id model.ClientID
}

func label(n int) string { return "c" + strconv.Itoa(n) }

func newMachine(opts Options, addr, sfx string) *machine {
	return &machine{
		opts:   opts,
		addr:   addr,
		sfx:    sfx,
		lines:  newPools(sfx).commandGen(),
		model:  model.New(model.Config{}),
		slots:  map[int]*slot{},
		nextID: 1,
		script: scriptWriter{sfx: sfx},
	}
}

// failf stops the test case. The message must be the same each time the
// same failure recurs, or rapid cannot shrink it: it names no step number
// and writes the case's name suffix as $U. The transcript of every client
// goes to the log, which rapid prints for the shrunk case.
func (m *machine) failf(t *rapid.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if m.sfx != "" {
		msg = strings.ReplaceAll(msg, m.sfx, "$U")
	}
	m.script.failure(msg)
	m.script.quiet(m.openLabels()) // the barrier the failing step did not reach
	t.Logf("failed at step %d\n%s", m.step, m.tr.String())
	if m.opts.SaveDir != "" {
		if path, err := m.script.save(m.opts.SaveDir); err == nil {
			t.Logf("the failing sequence is saved as the script %s", path)
		}
	}
	t.Fatalf("%s", msg)
}

func (m *machine) countStep() {
	m.step++
	stepCounter.Add(1)
}

// pick draws a slot that is open (or closed, for connect).
func (m *machine) pick(t *rapid.T, open bool) int {
	var free []int
	for n := 1; n <= m.opts.Clients; n++ {
		if _, ok := m.slots[n]; ok == open {
			free = append(free, n)
		}
	}
	if len(free) == 0 {
		t.Skip("no client in that state")
	}
	return rapid.SampledFrom(free).Draw(t, "client")
}

// apply runs events from one client through the model and returns the
// outputs, in order.
func (m *machine) apply(id model.ClientID, evs []model.Event) []model.Output {
	var outs []model.Output
	for _, ev := range evs {
		var o []model.Output
		m.model, o = m.model.Step(id, ev)
		outs = append(outs, o...)
	}
	return outs
}

// connect opens a connection in a free slot.
func (m *machine) connect(t *rapid.T) {
	n := m.pick(t, false)
	m.countStep()
	c, err := dial(m.addr, label(n), m.opts.Timeout)
	if err != nil {
		m.failf(t, "%v", err)
	}
	s := &slot{c: c, id: m.nextID}
	m.nextID++
	m.slots[n] = s
	m.tr.event(label(n), "connect")
	m.script.connect(label(n))
	m.settle(t, n, m.apply(s.id, []model.Event{{Kind: model.Connect}}))
}

// barrierToken is the token of every barrier PING. It is the same at each
// step so that failure messages recur exactly when shrinking; each PONG is
// consumed by its own step, so a stray one still shows as an extra line.
const barrierToken = "sync"

// transports are the ways a client's bytes are cut into writes (FRAME-2, FRAME-3).
var transports = []string{"crlf", "lf", "split", "coalesced"}

// send makes a client send one to three lines.
func (m *machine) send(t *rapid.T) {
	n := m.pick(t, true)
	lines := rapid.SliceOfN(m.lines, 1, 3).Draw(t, "lines")
	how := rapid.SampledFrom(transports).Draw(t, "transport")
	if i := slices.Index(lines, "QUIT"); i >= 0 {
		// Bytes sent after QUIT may meet a closed socket and turn the
		// server's close into a reset that destroys the goodbye in flight.
		lines = lines[:i+1]
	}
	var data []byte
	for _, l := range lines {
		data = append(data, l...)
		if how == "lf" {
			data = append(data, '\n')
		} else {
			data = append(data, '\r', '\n')
		}
	}
	m.write(t, n, data, how)
}

// sendLong sends a line near or over the length limit (FRAME-4, FRAME-5).
func (m *machine) sendLong(t *rapid.T) {
	n := m.pick(t, true)
	size := rapid.OneOf(rapid.IntRange(spec.MaxLineLen-3, spec.MaxLineLen+2), rapid.IntRange(spec.MaxLineLen+3, 4*spec.MaxLineLen)).Draw(t, "size")
	how := rapid.SampledFrom([]string{"crlf", "split"}).Draw(t, "transport")
	data := []byte("MSG " + strings.Repeat("x", size-len("MSG \r\n")) + "\r\n")
	m.write(t, n, data, how)
}

// write sends data from slot n, cut into writes as how says, and checks
// what every client receives.
func (m *machine) write(t *rapid.T, n int, data []byte, how string) {
	var chunks [][]byte
	switch how {
	case "split":
		for rest := data; len(rest) > 0; {
			k := min(len(rest), rapid.IntRange(1, 8).Draw(t, "chunk"))
			chunks, rest = append(chunks, rest[:k]), rest[k:]
		}
	case "coalesced":
		chunks = [][]byte{data}
	default: // one write per line
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if l != "" {
				chunks = append(chunks, []byte(l))
			}
		}
	}
	m.countStep()
	s := m.slots[n]
	m.tr.sent(label(n), data, how)
	m.script.send(label(n), data, how)
	if err := s.c.write(chunks); err != nil {
		m.failf(t, "%v", err)
	}
	m.settle(t, n, m.apply(s.id, frame(data)))
}

// dropHows are the ways a client leaves without QUIT (DISC-1, DISC-2, FRAME-10).
var dropHows = []string{"close", "reset", "half-close", "close mid-line"}

// drop closes a client's connection without QUIT.
func (m *machine) drop(t *rapid.T) {
	n := m.pick(t, true)
	how := rapid.SampledFrom(dropHows).Draw(t, "how")
	m.countStep()
	s := m.slots[n]
	name := m.model.Name(s.id)
	m.tr.event(label(n), how)
	m.script.drop(label(n), how)
	switch how {
	case "reset":
		s.c.conn.SetLinger(0)
		s.c.conn.Close()
	case "half-close":
		s.c.conn.CloseWrite()
	case "close mid-line":
		s.c.write([][]byte{[]byte("MSG this line never ends")})
		s.c.conn.Close()
	default:
		s.c.conn.Close()
	}
	outs := m.apply(s.id, []model.Event{{Kind: model.Disconnect}})
	delete(m.slots, n)
	m.settle(t, 0, outs)
	if how == "half-close" { // the server must close its side too
		if line, err := s.c.readLine(m.opts.Timeout); !errors.Is(err, errEOF) {
			m.failf(t, "%s half-closed; want the server to close the connection, got %q, %v", label(n), line, err)
		}
		s.c.conn.Close()
	}
	if name != "" {
		m.awaitGone(t, name)
	}
	m.barrier(t, m.openSlots())
	m.script.quiet(m.openLabels())
}

// settle checks one step's effects: each client must receive exactly the
// lines the model predicts, then nothing more.
//
// actor is the slot whose line caused the step. Its barrier goes first:
// its lines are processed in order, so once its PONG arrives every effect of
// the step has been queued (ORDER-1), and the others' barriers come after
// them. actor is 0 for a dropped connection, whose processing the server
// does at a time of its own (DISC-3): then each client first waits for its
// expected lines, and the caller proves the disconnect done before the
// barrier.
func (m *machine) settle(t *rapid.T, actor int, outs []model.Output) {
	want := map[model.ClientID][]model.Output{}
	for _, o := range outs {
		want[o.To] = append(want[o.To], o)
		if o.Close {
			m.script.closed(m.labelOf(o.To))
		} else {
			m.script.recv(m.labelOf(o.To), o.Line)
		}
	}
	others := slices.DeleteFunc(m.openSlots(), func(n int) bool { return n == actor })
	if actor == 0 {
		for _, n := range others {
			m.read(t, n, want[m.slots[n].id])
		}
		return
	}
	mine := want[m.slots[actor].id]
	closing := len(mine) > 0 && mine[len(mine)-1].Close
	if !closing { // bytes after QUIT could turn the server's close into a reset
		m.ping(t, actor)
	}
	if !m.read(t, actor, mine) {
		m.quiet(t, actor)
	}
	for _, n := range others {
		m.ping(t, n)
	}
	for _, n := range others {
		if !m.read(t, n, want[m.slots[n].id]) {
			m.quiet(t, n)
		}
	}
	m.script.quiet(m.openLabels())
}

// barrier proves that the given slots have nothing more to read: a PING to
// each, then each must answer with its PONG as the very next line.
func (m *machine) barrier(t *rapid.T, slots []int) {
	for _, n := range slots {
		m.ping(t, n)
	}
	for _, n := range slots {
		m.quiet(t, n)
	}
}

func (m *machine) labelOf(id model.ClientID) string {
	for n, s := range m.slots {
		if s.id == id {
			return label(n)
		}
	}
	return "?"
}

func (m *machine) openSlots() []int {
	var ns []int
	for n := range m.slots {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

func (m *machine) openLabels() []string {
	var ls []string
	for _, n := range m.openSlots() {
		ls = append(ls, label(n))
	}
	return ls
}

// ping sends the barrier PING to slot n, unless the server lacks PING.
func (m *machine) ping(t *rapid.T, n int) {
	if m.opts.NoPing {
		return
	}
	if err := m.slots[n].c.write([][]byte{[]byte("PING " + barrierToken + "\r\n")}); err != nil {
		m.failf(t, "barrier: %v", err)
	}
}

// read reads the lines slot n must receive, in order, and reports whether
// the server closed the connection after them (as the model said it would).
func (m *machine) read(t *rapid.T, n int, want []model.Output) (closed bool) {
	s := m.slots[n]
	lbl := label(n)
	for i, w := range want {
		line, err := s.c.readLine(m.opts.Timeout)
		if w.Close {
			if !errors.Is(err, errEOF) {
				m.failf(t, "%s: want the server to close the connection, got %q (%v)\n%s", lbl, line, err, pending(lbl, want[i:]))
			}
			m.tr.event(lbl, "closed by the server")
			s.c.conn.Close()
			delete(m.slots, n)
			return true
		}
		if err != nil {
			m.failf(t, "%s: want %q: %v\n%s", lbl, w.Line, err, pending(lbl, want[i:]))
		}
		m.tr.received(lbl, line)
		if line != w.Line {
			m.failf(t, "%s: want %q\n%*sgot  %q\n%s", lbl, w.Line, len(lbl)+2, "", line, pending(lbl, want[i:]))
		}
	}
	return false
}

// quiet proves that slot n has nothing more to read: the next line is the
// PONG of the barrier, or, without PING, nothing arrives for a while.
func (m *machine) quiet(t *rapid.T, n int) {
	s := m.slots[n]
	lbl := label(n)
	if m.opts.NoPing {
		line, err := s.c.readLine(m.opts.Quiet)
		if !errors.Is(err, errTimeout) {
			m.tr.received(lbl, line)
			m.failf(t, "%s: want nothing more, got %q (%v)", lbl, line, err)
		}
		return
	}
	token := barrierToken
	line, err := s.c.readLine(m.opts.Timeout)
	if err != nil {
		m.failf(t, "%s: want PONG %s (the barrier), got %v", lbl, token, err)
	}
	if line != "PONG "+token {
		m.tr.received(lbl, line)
		m.failf(t, "%s: want nothing more before \"PONG %s\", got %q", lbl, token, line)
	}
}

func pending(lbl string, want []model.Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the model expected %s to receive, from here on:\n", lbl)
	for _, w := range want {
		if w.Close {
			b.WriteString("    (the server closes the connection)\n")
		} else {
			fmt.Fprintf(&b, "    %s\n", show(w.Line))
		}
	}
	return b.String()
}

// awaitGone waits until the server has processed a disconnect (DISC-3):
// the watcher asks for the user until it is no longer found. Each try is a
// round trip, bounded in time.
func (m *machine) awaitGone(t *rapid.T, name string) {
	if m.watcher == nil {
		w, err := dial(m.addr, "watcher", m.opts.Timeout)
		if err != nil {
			m.failf(t, "%v", err)
		}
		m.watcher = w
		wname := "w" + m.sfx
		w.write([][]byte{[]byte("USERNAME " + wname + "\r\n")})
		if line, err := w.readLine(m.opts.Timeout); err != nil || line != "OK "+spec.OKWelcome(wname) {
			m.failf(t, "watcher connection: USERNAME %s answered %q (%v)", wname, line, err)
		}
	}
	deadline := time.Now().Add(m.opts.Timeout)
	for tries := 1; ; tries++ {
		m.watcher.write([][]byte{[]byte("PRIVMSG " + name + " are you there?\r\n")})
		line, err := m.watcher.readLine(m.opts.Timeout)
		switch {
		case err != nil:
			m.failf(t, "watcher: %v", err)
		case line == "ERROR "+spec.ErrUserNotFound:
			m.script.awaitGone(name)
			return
		case line != "OK "+spec.OKSent:
			m.failf(t, "watcher: PRIVMSG %s answered %q", name, line)
		case time.Now().After(deadline):
			m.failf(t, "%q still exists %v after its connection ended (%d tries)", name, m.opts.Timeout, tries)
		}
	}
}

// cleanup ends the case: every client quits, so a shared server is left as
// it was found.
func (m *machine) cleanup() {
	for _, n := range m.openSlots() {
		c := m.slots[n].c
		c.write([][]byte{[]byte("QUIT\r\n")})
		for {
			if _, err := c.readLine(m.opts.Timeout); err != nil {
				break
			}
		}
		c.conn.Close()
	}
	if m.watcher != nil {
		m.watcher.write([][]byte{[]byte("QUIT\r\n")})
		for {
			if _, err := m.watcher.readLine(m.opts.Timeout); err != nil {
				break
			}
		}
		m.watcher.conn.Close()
	}
}

// frame splits bytes into events exactly as a server's line reader does.
func frame(data []byte) []model.Event {
	var evs []model.Event
	lr := spec.NewLineReader(strings.NewReader(string(data)), spec.MaxLineLen)
	for {
		line, err := lr.ReadLine()
		switch {
		case errors.Is(err, spec.ErrLineOverflow):
			evs = append(evs, model.Event{Kind: model.LineTooLong})
		case err == io.EOF:
			return evs
		case err != nil:
			panic(err) // a strings.Reader fails with io.EOF only
		default:
			evs = append(evs, model.Event{Kind: model.Line, Line: string(line)})
		}
	}
}
