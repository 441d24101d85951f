package modelcheck

import (
	"errors"
	"fmt"
	"roomchat.dev/roomchat/conformance/dial"
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
//
// Every step is drawn whole, whatever the state (see step). A step that
// does not apply (a drop of a slot with no connection, a burst from a
// client in no room) does nothing, and a send from a slot with no
// connection connects it first. So removing a step leaves the others
// meaning what they meant, and rapid shrinks a failure to the few steps
// that matter; and no step is ever skipped after it acted.
type machine struct {
	opts    Options
	sfx     string
	p       pools
	steps   *rapid.Generator[step]
	d       *driver.Driver
	slots   map[int]*driver.Client // open connections by slot number
	watcher *driver.Client         // a named, roomless client that sees disconnects through
	step    int                    // steps so far: connects, sends and drops
	script  scriptWriter
	trk     *tracker
	fails   *failures // where a failure is recorded for Run's report
}

func label(n int) string { return "c" + strconv.Itoa(n) }

// barrierToken is the token of every barrier PING. It is the same at each
// step so that failure messages recur exactly when shrinking; each PONG is
// consumed by its own step, so a stray one still shows as an extra line.
const barrierToken = "sync"

func newMachine(opts Options, dialer dial.Dialer, addr, sfx string, fails *failures) *machine {
	m := &machine{
		opts:   opts,
		sfx:    sfx,
		p:      newPools(sfx),
		slots:  map[int]*driver.Client{},
		script: scriptWriter{sfx: sfx},
		trk:    newTracker(),
		fails:  fails,
	}
	m.steps = m.p.stepGen(opts.Clients, avgSteps())
	m.d = driver.New(driver.Config{
		Addr: addr, Dialer: dialer, Timeout: opts.Timeout, Token: barrierToken, NoPing: opts.NoPing, Quiet: opts.Quiet,
		Observe: m.trk.observe,
	})
	return m
}

// failf stops the test case. The message must be the same each time the
// same failure recurs, or rapid cannot shrink it: it names no step number
// and writes the case's name suffix as $U. It is one line, the rule and the
// difference; the full report goes to the log, which rapid prints for the
// shrunk case, and to the run's failures.
func (m *machine) failf(t *rapid.T, err error) {
	t.Helper()
	rule := m.trk.blame(err)
	summary := firstLine(err.Error())
	var mm *driver.Mismatch
	if errors.As(err, &mm) {
		summary = mm.Summary()
	}
	msg := m.anon(summary)
	if rule != "" {
		msg = rule + ": " + msg
	}
	detail := m.anon(strings.TrimRight(err.Error(), "\n"))
	m.script.failure(rule, msg+"\n"+detail)
	m.script.quiet(m.openLabels()) // the barrier the failing step did not reach
	f := failure{rule: rule, summary: msg, steps: m.step}
	if m.opts.SaveDir != "" {
		if path, err := m.script.save(m.opts.SaveDir); err == nil {
			f.script = path
		}
	}
	f.report = detail + "\n" + m.transcript()
	m.fails.record(f)
	t.Logf("%s", f.report)
	t.Fatalf("%s", msg)
}

// transcript is the driver's transcript of the case, with its suffix as $U.
func (m *machine) transcript() string {
	_, entries, _ := strings.Cut(m.d.Transcript(), "\n")
	return fmt.Sprintf("transcript of %d steps, $U=%s (> sent by a client, < received by it, : connection events):\n%s",
		m.step, m.sfx, m.anon(entries))
}

// anon writes the case's suffix as $U.
func (m *machine) anon(s string) string {
	if m.sfx == "" {
		return s
	}
	return strings.ReplaceAll(s, m.sfx, "$U")
}

func (m *machine) countStep() {
	m.step++
	stepCounter.Add(1)
	m.trk.begin()
}

// run runs one step of the sequence.
func (m *machine) run(t *rapid.T, st step) {
	switch st.kind {
	case "send", "sendLong":
		if st.kind == "sendLong" && len(st.data) == spec.MaxLineLen {
			m.trk.saw(sitExactLimit)
		}
		if c := m.client(t, st.slot); c != nil {
			m.write(t, c, st.data, st.how, st.chunks)
		}
	case "gather":
		m.gather(t, st.room, st.count)
	case "burst":
		// A client in no room does nothing.
		if c, ok := m.slots[st.slot]; ok && m.d.Model().RoomOf(c.ID()) != "" {
			m.write(t, c, st.data, st.how, st.chunks)
		}
	case "drop":
		// A slot with no connection does nothing.
		if c, ok := m.slots[st.slot]; ok {
			m.drop(t, st.slot, c, st.drop)
		}
	}
}

// client returns the open connection of slot n, connecting it first if
// need be; nil if the server refused it (LIMIT-2).
func (m *machine) client(t *rapid.T, n int) *driver.Client {
	if c, ok := m.slots[n]; ok {
		return c
	}
	c := m.open(t, label(n))
	if !c.Open() {
		return nil
	}
	m.slots[n] = c
	return c
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
		m.failf(t, err)
	}
	for n, c := range m.slots {
		if !c.Open() {
			delete(m.slots, n)
		}
	}
	m.script.quiet(m.openLabels())
}

// open connects a client labelled lbl.
func (m *machine) open(t *rapid.T, lbl string) *driver.Client {
	m.countStep()
	m.script.connect(lbl)
	c, outs, err := m.d.Connect(lbl)
	m.expect(outs)
	m.settled(t, err)
	return c
}

// gather makes the clients of slots 1 to k take a name, if they have
// none, and join room, if they are not in it: a crowd in one room, for
// the rules about rosters and the order of members (JOIN-4, USERS-1).
func (m *machine) gather(t *rapid.T, room string, k int) {
	for n := 1; n <= k; n++ {
		c := m.client(t, n)
		if c == nil {
			continue
		}
		var lines []string
		if m.d.Model().Name(c.ID()) == "" {
			lines = append(lines, "USERNAME "+m.p.crowdName(n))
		}
		if spec.Fold(m.d.Model().RoomOf(c.ID())) != spec.Fold(room) {
			lines = append(lines, "JOIN "+room)
		}
		if len(lines) > 0 {
			data := frame(lines, "crlf")
			m.write(t, c, data, "crlf", cut(t, data, "crlf"))
		}
	}
}

// write sends data from c in chunks, which how describes, and checks what
// every client receives.
func (m *machine) write(t *rapid.T, c *driver.Client, data []byte, how string, chunks [][]byte) {
	m.countStep()
	switch lines := strings.Count(string(data), "\n"); {
	case how == "lf":
		m.trk.saw(sitLF)
	case how == "split" && len(chunks) > 1, how == "coalesced" && lines > 1:
		m.trk.saw(sitSplit)
	}
	m.script.send(c.Label(), data, how)
	_, outs, err := m.d.Send(c, chunks...)
	m.expect(outs)
	m.settled(t, err)
}

// drop closes the connection of slot n, c, without QUIT.
func (m *machine) drop(t *rapid.T, n int, c *driver.Client, how driver.DropHow) {
	name := m.d.Model().Name(c.ID())
	if name != "" && m.d.Asker(c) == nil {
		m.watch(t)
	}
	switch how {
	case driver.DropMidLine:
		m.trk.saw(sitMidLine)
	case driver.DropHalfClose:
		m.trk.saw(sitHalfClose)
	}
	m.countStep()
	asker := m.d.Asker(c)
	m.script.drop(c.Label(), how)
	outs, err := m.d.Drop(c, how)
	delete(m.slots, n)
	m.expect(outs)
	if name != "" {
		m.script.await(asker.Label(), name)
	}
	m.settled(t, err)
}

// watch makes sure the driver has a watcher, a client of its own that
// takes a name and joins no room: it sees the server forget a user who
// left without QUIT, when no other client with a name can.
func (m *machine) watch(t *rapid.T) {
	if m.watcher != nil {
		return
	}
	m.watcher = m.open(t, "watcher")
	data := []byte("USERNAME w" + m.sfx + "\r\n")
	m.write(t, m.watcher, data, "crlf", [][]byte{data})
	m.d.Watcher = m.watcher
}

func (m *machine) openLabels() []string {
	var ls []string
	for _, c := range m.d.Clients() {
		ls = append(ls, c.Label())
	}
	return ls
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
