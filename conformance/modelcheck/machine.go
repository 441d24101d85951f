package modelcheck

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/conformance/dial"
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
	// restart restarts the server at an address, keeping its storage;
	// nil unless the sequence may restart it (Options.Durable).
	restart func(addr string) (string, error)
	// loginFails counts the failed logins of the sequence (ACCT-5), which
	// maxLoginFails bounds: maxFailedLogins in a sequence that may fail
	// logins (failLoginsGen), else 0.
	loginFails, maxLoginFails int
}

func label(n int) string { return "c" + strconv.Itoa(n) }

// barrierToken is the token of every barrier PING. It is the same at each
// step so that failure messages recur exactly when shrinking; each PONG is
// consumed by its own step, so a stray one still shows as an extra line.
const barrierToken = "sync"

func newMachine(opts Options, dialer dial.Dialer, addr, sfx string, fails *failures, restart func(string) (string, error)) *machine {
	m := &machine{
		opts:    opts,
		sfx:     sfx,
		p:       newPools(sfx, opts.Ext),
		slots:   map[int]*driver.Client{},
		script:  scriptWriter{sfx: sfx, ext: opts.Ext},
		trk:     newTracker(),
		fails:   fails,
		restart: restart,
	}
	m.steps = m.p.stepGen(opts.Clients, avgSteps(), restart != nil)
	m.d = driver.New(driver.Config{
		Addr: addr, Dialer: dialer, Timeout: opts.Timeout, Token: barrierToken, NoPing: opts.NoPing, Quiet: opts.Quiet,
		Model:   model.Config{Offer: opts.Ext},
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
	var ide *driver.IDError
	switch {
	case errors.As(err, &mm):
		summary = mm.Summary()
	case errors.As(err, &ide):
		summary = ide.Summary()
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
			if st.lines != nil {
				m.sendLines(t, c, st)
			} else {
				m.write(t, c, st.data, st.how, st.chunks, nil)
			}
		}
	case "hello":
		m.hello(t, st)
	case "restart":
		if m.restart != nil {
			m.restartServer(t)
		}
	case "gather":
		m.gather(t, st.room, st.count, st.caps)
	case "burst":
		// A client in no room does nothing; one that enabled rooms names
		// its first room in each MSG (MULTI-4).
		if c, ok := m.slots[st.slot]; ok && m.d.Model().RoomOf(c.ID()) != "" {
			data, chunks := st.data, st.chunks
			if m.d.Model().Enabled(c.ID()).Has(spec.ExtRooms) {
				room := m.d.Model().RoomOf(c.ID())
				data = []byte(strings.ReplaceAll(string(data), "MSG ", "MSG "+room+" "))
				chunks = recut(data, st.how, st.chunks)
			}
			m.write(t, c, data, st.how, chunks, nil)
		}
	case "roam":
		m.roam(t, st)
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
// With extensions, a client that takes a name first says the CAPS line
// caps holds for its slot, if any: so core clients and clients that
// enabled history meet in rooms (CAPS-3, HIST-2).
func (m *machine) gather(t *rapid.T, room string, k int, caps []string) {
	for n := 1; n <= k; n++ {
		c := m.client(t, n)
		if c == nil {
			continue
		}
		var lines []string
		if m.d.Model().Name(c.ID()) == "" {
			if n <= len(caps) && caps[n-1] != "" {
				lines = append(lines, caps[n-1])
			}
			lines = append(lines, "USERNAME "+m.p.crowdName(n))
		}
		if !slices.ContainsFunc(m.d.Model().RoomsOf(c.ID()), func(r string) bool { return spec.Fold(r) == spec.Fold(room) }) {
			lines = append(lines, "JOIN "+room)
		}
		if len(lines) > 0 {
			data := frame(lines, "crlf")
			m.write(t, c, data, "crlf", cut(t, data, "crlf"), nil)
		}
	}
}

// roam makes the client of a slot, if it has a name, join the step's
// rooms one after another, in one write: a client that enabled rooms
// stays in each, up to MaxRoomsPerUser (MULTI-2), while a core client
// moves from room to room (JOIN-3).
func (m *machine) roam(t *rapid.T, st step) {
	c, ok := m.slots[st.slot]
	if !ok || m.d.Model().Name(c.ID()) == "" {
		return
	}
	lines := make([]string, len(st.rooms))
	for i, r := range st.rooms {
		lines[i] = "JOIN " + r
	}
	data := frame(lines, "coalesced")
	m.write(t, c, data, "coalesced", [][]byte{data}, nil)
}

// write sends data from c in chunks, which how describes, and checks what
// every client receives. script, if not nil, is data as a saved script
// writes it (with the variables of message IDs: see resolve).
func (m *machine) write(t *rapid.T, c *driver.Client, data []byte, how string, chunks [][]byte, script []byte) {
	m.countStep()
	switch lines := strings.Count(string(data), "\n"); {
	case how == "lf":
		m.trk.saw(sitLF)
	case how == "split" && len(chunks) > 1, how == "coalesced" && lines > 1:
		m.trk.saw(sitSplit)
	}
	if script == nil {
		script = data
	}
	m.script.send(c.Label(), script, how)
	_, outs, err := m.d.Send(c, chunks...)
	m.loginFails += failedLogins(outs, c.ID())
	m.expect(outs)
	m.settled(t, err)
}

// sendLines sends the lines of a step of a server with extensions from c,
// their tokens resolved line by line, each in the state the lines before
// it leave (ext.go); cut into writes as the step's chunks were. A line that
// would pass the sequence's quota of failed logins (maxLoginFails) is not
// sent, nor are those after it.
func (m *machine) sendLines(t *rapid.T, c *driver.Client, st step) {
	s := m.d.Model()
	fails := m.loginFails
	var wire, script []string
	for _, l := range st.lines {
		r := m.resolve(s, c.ID(), l)
		var fr spec.Framer
		next := s
		var outs []model.Output
		for _, f := range fr.Feed(frame([]string{r.model}, st.how)) {
			var o []model.Output
			next, o = next.Step(c.ID(), driver.Event(f))
			outs = append(outs, o...)
		}
		if fails += failedLogins(outs, c.ID()); fails > m.maxLoginFails {
			break
		}
		s = next
		wire, script = append(wire, r.wire), append(script, r.script)
	}
	if len(wire) == 0 {
		return
	}
	data := frame(wire, st.how)
	m.write(t, c, data, st.how, recut(data, st.how, st.chunks), frame(script, st.how))
}

// recut cuts data into writes as drawn cut data of another length: "split"
// in pieces of the drawn sizes (the rest in one piece), else as cut does.
func recut(data []byte, how string, drawn [][]byte) [][]byte {
	var chunks [][]byte
	switch how {
	case "split":
		rest := data
		for _, d := range drawn {
			if len(rest) == 0 {
				break
			}
			k := min(len(rest), len(d))
			chunks, rest = append(chunks, rest[:k]), rest[k:]
		}
		if len(rest) > 0 {
			chunks = append(chunks, rest)
		}
	case "coalesced":
		chunks = [][]byte{data}
	default:
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if l != "" {
				chunks = append(chunks, []byte(l))
			}
		}
	}
	return chunks
}

// hello makes the client of a slot say hello as a client of the extensions
// does: on a connection of its own, CAPS, then a name or a login (CAPS-1,
// CAPS-2, ACCT-2). A client that has a name leaves with QUIT first; one
// that has none says CAPS on the connection it has.
func (m *machine) hello(t *rapid.T, st step) {
	if c, ok := m.slots[st.slot]; ok && m.d.Model().Name(c.ID()) != "" {
		quit := []byte("QUIT\r\n")
		m.write(t, c, quit, "crlf", [][]byte{quit}, nil)
	}
	if c := m.client(t, st.slot); c != nil {
		m.sendLines(t, c, st)
	}
}

// restartServer restarts the server, keeping its storage, and checks that
// every client is told and closed (SHUT-1); the sequence goes on with new
// connections, and later steps find what HIST-5 says survives.
func (m *machine) restartServer(t *rapid.T) {
	m.countStep()
	m.script.restart()
	outs, err := m.d.Restart(func() (string, error) { return m.restart(m.d.Addr()) })
	m.expect(outs)
	m.watcher, m.d.Watcher = nil, nil
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
	m.write(t, m.watcher, data, "crlf", [][]byte{data}, nil)
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
