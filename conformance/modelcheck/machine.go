package modelcheck

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// machine is one test case: rapid's draws turned into the steps of a
// driver, which applies each to the model and to the server under test,
// and the script that replays them.
type machine struct {
	opts    Options
	sfx     string
	lines   *rapid.Generator[string]
	d       *driver.Driver
	slots   map[int]*driver.Client // open connections by slot number
	watcher *driver.Client         // a named, roomless client that sees disconnects through
	step    int
	script  scriptWriter
}

func label(n int) string { return "c" + strconv.Itoa(n) }

// barrierToken is the token of every barrier PING. It is the same at each
// step so that failure messages recur exactly when shrinking; each PONG is
// consumed by its own step, so a stray one still shows as an extra line.
const barrierToken = "sync"

func newMachine(opts Options, addr, sfx string) *machine {
	return &machine{
		opts:  opts,
		sfx:   sfx,
		lines: newPools(sfx).commandGen(),
		d: driver.New(driver.Config{
			Addr: addr, Timeout: opts.Timeout, Token: barrierToken, NoPing: opts.NoPing, Quiet: opts.Quiet,
		}),
		slots:  map[int]*driver.Client{},
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
	t.Logf("failed at step %d\n%s", m.step, m.d.Transcript())
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

// expect writes the lines the model predicts into the script.
func (m *machine) expect(outs []model.Output) {
	for _, o := range outs {
		if o.Close {
			m.script.closed(m.d.Label(o.To))
		} else {
			m.script.recv(m.d.Label(o.To), o.Line)
		}
	}
}

// settled ends a step: it fails the case if the driver found the server at
// odds with the model, forgets the connections the server closed, and
// records the barrier that proved every open client quiet.
func (m *machine) settled(t *rapid.T, err error) {
	if err != nil {
		m.failf(t, "%v", err)
	}
	for n, c := range m.slots {
		if !c.Open() {
			delete(m.slots, n)
		}
	}
	m.script.quiet(m.openLabels())
}

// connect opens a connection in a free slot.
func (m *machine) connect(t *rapid.T) {
	n := m.pick(t, false)
	m.countStep()
	if c := m.open(t, label(n)); c.Open() { // not if the server is full
		m.slots[n] = c
	}
}

// open connects a client labelled lbl.
func (m *machine) open(t *rapid.T, lbl string) *driver.Client {
	m.script.connect(lbl)
	c, outs, err := m.d.Connect(lbl)
	m.expect(outs)
	m.settled(t, err)
	return c
}

// transports are the ways a client's bytes are cut into writes (FRAME-2, FRAME-3).
var transports = []string{"crlf", "lf", "split", "coalesced"}

// send makes a client send one to three lines.
func (m *machine) send(t *rapid.T) {
	n := m.pick(t, true)
	lines := rapid.SliceOfN(m.lines, 1, 3).Draw(t, "lines")
	how := rapid.SampledFrom(transports).Draw(t, "transport")
	if i := slices.Index(lines, "QUIT"); i >= 0 {
		// The script sends what the driver sends: nothing after QUIT.
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
	m.write(t, m.slots[n], data, how)
}

// sendLong sends a line near or over the length limit (FRAME-4, FRAME-5).
func (m *machine) sendLong(t *rapid.T) {
	n := m.pick(t, true)
	size := rapid.OneOf(rapid.IntRange(spec.MaxLineLen-3, spec.MaxLineLen+2), rapid.IntRange(spec.MaxLineLen+3, 4*spec.MaxLineLen)).Draw(t, "size")
	how := rapid.SampledFrom([]string{"crlf", "split"}).Draw(t, "transport")
	data := []byte("MSG " + strings.Repeat("x", size-len("MSG \r\n")) + "\r\n")
	m.write(t, m.slots[n], data, how)
}

// write sends data from c, cut into writes as how says, and checks what
// every client receives.
func (m *machine) write(t *rapid.T, c *driver.Client, data []byte, how string) {
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
	m.script.send(c.Label(), data, how)
	_, outs, err := m.d.Send(c, chunks...)
	m.expect(outs)
	m.settled(t, err)
}

// dropHows are the ways a client leaves without QUIT (DISC-1, DISC-2, FRAME-10).
var dropHows = []driver.DropHow{driver.DropClose, driver.DropReset, driver.DropHalfClose, driver.DropMidLine}

// drop closes a client's connection without QUIT.
func (m *machine) drop(t *rapid.T) {
	n := m.pick(t, true)
	how := rapid.SampledFrom(dropHows).Draw(t, "how")
	m.countStep()
	c := m.slots[n]
	name := m.d.Model().Name(c.ID())
	if name != "" {
		m.watch(t)
	}
	m.script.drop(c.Label(), how)
	outs, err := m.d.Drop(c, how)
	delete(m.slots, n)
	m.expect(outs)
	if name != "" {
		m.script.await(m.watcher.Label(), name)
	}
	m.settled(t, err)
}

// watch makes sure the driver has a watcher, a client of its own that
// takes a name and joins no room: it sees the server forget a user who
// left without QUIT.
func (m *machine) watch(t *rapid.T) {
	if m.watcher != nil {
		return
	}
	m.watcher = m.open(t, "watcher")
	m.write(t, m.watcher, []byte("USERNAME w"+m.sfx+"\r\n"), "crlf")
	m.d.Watcher = m.watcher
}

func (m *machine) openLabels() []string {
	var ls []string
	for _, c := range m.d.Clients() {
		ls = append(ls, c.Label())
	}
	return ls
}
