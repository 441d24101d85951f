// Package driver runs the model of PROTOCOL.md and a server side by side,
// byte for byte, over TCP: each step (a client connects, sends bytes, or
// leaves without QUIT) is applied to the model and to the server; each
// client must then receive exactly the lines the model predicts, and a
// PING/PONG barrier proves that nothing else arrived (PING-2).
//
// It is the machinery of every model-vs-server check: the random sequences
// of package modelcheck and the fuzzed clients of the reference server's
// tests. It knows a server only by its address and imports nothing of
// roomchat but spec and model, so that a server's own tests can use it as
// any third party would. A Driver is used by one goroutine; failures are
// returned as errors whose text is the same each time the same failure
// recurs, so that a shrinker can tell them apart. A client's lines that
// depart from the model's are a *Mismatch, which holds the step's events,
// the one that caused the first line that differs, and everything the
// client received instead up to its barrier.
//
// With the extensions of PROTOCOL.md section 13 (Config.Model.Offer), the
// ID and time of a MESSAGE or HISTORY line are the server's own: they are
// compared through a mapping of the model's IDs to the server's (ids.go),
// and a HISTORY command's <before>, which a client sends as a server ID,
// is given to the model as the model's. Restart restarts the server and
// checks what a restart does to every client.
package driver

import (
	"bytes"
	"errors"
	"fmt"
	"roomchat.dev/roomchat/conformance/dial"
	"slices"
	"time"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// Config says which server to drive and how.
type Config struct {
	Addr    string        // the server under test
	Model   model.Config  // the limits the server was started with
	Timeout time.Duration // how long to wait for one expected line (5 s)
	Token   string        // the token of every barrier PING ("sync")
	// NoPing is for a server that lacks the ping extension: instead of a
	// barrier, a client must receive nothing for Quiet (200 ms).
	NoPing bool
	Quiet  time.Duration
	// Dialer reaches the server over the transport under test; the zero
	// value is lines over TCP.
	Dialer dial.Dialer
	// Observe, if not nil, is called with every event applied to the
	// model, as it is applied: a checker counts the situations its steps
	// reach with it.
	Observe func(Applied)
}

// Applied is one event applied to the model: the client it came from, the
// states before and after it, and its outputs.
type Applied struct {
	From          model.ClientID
	Event         model.Event
	Before, After model.State
	Outs          []model.Output
}

// A Driver is one run: the server's connections, the model's state, and
// the transcript of everything every client sent and received.
type Driver struct {
	cfg    Config
	st     model.State
	next   model.ClientID
	open   []*Client // open connections, in the order they connected
	all    []*Client // every connection ever opened, for Close
	labels map[model.ClientID]string
	tr     transcript
	step   []Applied // the events of the step in progress
	ids    *IDs      // the model's message IDs and the server's

	// Watcher is an open client with a name that, after a client with a
	// name leaves without QUIT, asks after that name until the server no
	// longer knows it (DISC-3): until then, the name would still be taken.
	// Its questions bypass the model: a private message to a user the
	// model has already dropped changes nothing. If it is nil, or cannot
	// ask, another open client with a name asks instead (see Asker); Drop
	// needs one for a client with a name.
	Watcher *Client
}

// New returns a driver of the server at cfg.Addr, whose model has no
// clients yet.
func New(cfg Config) *Driver {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Token == "" {
		cfg.Token = "sync"
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = 200 * time.Millisecond
	}
	return &Driver{cfg: cfg, st: model.New(cfg.Model), next: 1, labels: map[model.ClientID]string{}, ids: NewIDs()}
}

// Addr returns the address of the server under test, which Restart may
// change.
func (d *Driver) Addr() string { return d.cfg.Addr }

// IDs returns the mapping of the model's message IDs to the server's, as
// learned from the lines clients received so far.
func (d *Driver) IDs() *IDs { return d.ids }

// Model returns the model's state after the steps so far.
func (d *Driver) Model() model.State { return d.st }

// Clients returns the open connections, in the order they connected.
func (d *Driver) Clients() []*Client { return slices.Clone(d.open) }

// Label returns the label of the connection the model knows as id, open
// or not.
func (d *Driver) Label(id model.ClientID) string { return d.labels[id] }

// Transcript returns every client's bytes sent and lines received, and
// the connection events, in order.
func (d *Driver) Transcript() string { return d.tr.String() }

// Event returns the model's event for a frame of a client's bytes: a Line,
// or a LineTooLong for an overlong line.
func Event(f spec.Frame) model.Event {
	if f.TooLong {
		return model.Event{Kind: model.LineTooLong}
	}
	return model.Event{Kind: model.Line, Line: f.Line}
}

// apply runs events from one client through the model and returns the
// outputs, in order. It records each event in the step in progress.
func (d *Driver) apply(id model.ClientID, evs ...model.Event) []model.Output {
	var outs []model.Output
	for _, ev := range evs {
		a := Applied{From: id, Event: ev, Before: d.st}
		d.st, a.Outs = d.st.Step(id, ev)
		a.After = d.st
		d.step = append(d.step, a)
		if d.cfg.Observe != nil {
			d.cfg.Observe(a)
		}
		outs = append(outs, a.Outs...)
	}
	return outs
}

// Connect opens a connection labelled label and checks its effects: none,
// or a refusal when the server is full (LIMIT-1), after which the client is
// closed. It returns the model's outputs.
func (d *Driver) Connect(label string) (*Client, []model.Output, error) {
	c, err := connect(d.cfg.Dialer, d.cfg.Addr, label, d.cfg.Timeout)
	if err != nil {
		return nil, nil, err
	}
	d.step = nil
	c.id = d.next
	d.next++
	d.labels[c.id] = label
	d.open = append(d.open, c)
	d.all = append(d.all, c)
	d.tr.event(label, "connect")
	outs := d.apply(c.id, model.Event{Kind: model.Connect})
	return c, outs, d.settle(c, outs)
}

// Send writes chunks from c, one write each, and checks what every client
// receives. The bytes are framed as the server frames them, so a chunk may
// end anywhere, in the middle of a line too. Bytes after a line on which
// the server closes c (QUIT) are not sent: they could turn its graceful
// close into a reset that destroys the lines in flight. A HISTORY command
// names a message by the server's ID, which the model is given as its own
// (see IDs). Send returns how many bytes it wrote, and the model's
// outputs.
func (d *Driver) Send(c *Client, chunks ...[]byte) (int, []model.Output, error) {
	if !c.open {
		return 0, nil, fmt.Errorf("%s: send on a closed connection", c.label)
	}
	d.step = nil
	data := bytes.Join(chunks, nil)
	sent := len(data)
	var outs []model.Output
	for _, f := range c.fr.Feed(data) {
		ev := Event(f)
		if ev.Kind == model.Line {
			ev.Line = d.modelLine(c, ev.Line)
		}
		o := d.apply(c.id, ev)
		outs = append(outs, o...)
		if slices.ContainsFunc(o, func(o model.Output) bool { return o.Close && o.To == c.id }) {
			sent = f.End
			break
		}
	}
	chunks = cut(chunks, sent)
	d.tr.sent(c.label, data[:sent], writeNote(chunks))
	if err := c.write(d.cfg.Timeout, chunks...); err != nil {
		return sent, outs, err
	}
	return sent, outs, d.settle(c, outs)
}

// cut returns the chunks that hold the first n bytes.
func cut(chunks [][]byte, n int) [][]byte {
	var out [][]byte
	for _, ch := range chunks {
		if n <= 0 {
			break
		}
		ch = ch[:min(n, len(ch))]
		out, n = append(out, ch), n-len(ch)
	}
	return out
}

// DropHow is a way a client leaves without QUIT (DISC-1, DISC-2, FRAME-10).
type DropHow string

// The ways to leave.
const (
	DropClose     DropHow = "close"          // close the socket
	DropReset     DropHow = "reset"          // close it with a reset (SO_LINGER 0)
	DropHalfClose DropHow = "half-close"     // shut down its sending side: the server must close the connection
	DropMidLine   DropHow = "close mid-line" // send UnfinishedLine, then close
)

// UnfinishedLine is what DropMidLine sends before it closes: the start of
// a line, which the server must discard (FRAME-10).
const UnfinishedLine = "MSG this line never ends"

// Drop makes c leave without QUIT, as how says, and checks the effects.
// If c had a name, another client (see Asker) first asks after it until
// the server has forgotten it: that proves the disconnect processed, with all
// its effects (DISC-4). Then every open client must receive what the model
// predicts (the LEAVE of c's room) and nothing more, as after any step.
// Drop returns the model's outputs.
func (d *Driver) Drop(c *Client, how DropHow) ([]model.Output, error) {
	if !c.open {
		return nil, fmt.Errorf("%s: drop of a closed connection", c.label)
	}
	name := d.st.Name(c.id)
	w := d.Asker(c)
	if name != "" && w == nil {
		return nil, fmt.Errorf("%s: no watcher with a name to see %s leave", c.label, name)
	}
	d.step = nil
	d.tr.event(c.label, string(how))
	switch how {
	case DropReset:
		c.conn.Reset()
	case DropHalfClose:
		c.conn.CloseWrite()
	case DropMidLine:
		c.write(d.cfg.Timeout, []byte(UnfinishedLine))
		c.conn.Close()
	default:
		c.conn.Close()
	}
	d.forget(c)
	outs := d.apply(c.id, model.Event{Kind: model.Disconnect})
	want := byClient(outs)
	if name != "" {
		rest, err := d.awaitGone(w, name, want[w.id])
		if err != nil {
			return outs, err
		}
		want[w.id] = rest
	}
	if err := d.barrier(d.Clients(), want); err != nil {
		return outs, err
	}
	if how == DropHalfClose {
		// The asker's questions may have reached c before its end was
		// processed (DISC-3).
		var asked string
		if name != "" {
			asked = spec.PrivateLine(d.st.Name(w.id), probeText).String()
		}
		line, err := c.readLine(d.cfg.Timeout)
		for err == nil && asked != "" && line == asked {
			line, err = c.readLine(d.cfg.Timeout)
		}
		c.conn.Close()
		if !errors.Is(err, errEOF) {
			return outs, fmt.Errorf("%s half-closed; want the server to close the connection, got %q, %v", c.label, line, err)
		}
	}
	return outs, nil
}

// Restart restarts the server under test, as restart does: restart must
// shut the server down gracefully (SHUT-1), start it again keeping its
// storage (HIST-5), and return once it accepts connections, with the
// address it listens on then, which later connections use. Restart applies
// the model's Restart event and checks its effects: every open client must
// receive what the model predicts (the notice of SHUT-1) and then the end
// of its connection (a reset counts too: the process is gone). Restart
// returns the model's outputs.
func (d *Driver) Restart(restart func() (addr string, err error)) ([]model.Output, error) {
	for _, c := range d.open {
		if c.MidLine() {
			return nil, fmt.Errorf("%s: restart in the middle of a line", c.label)
		}
	}
	d.step = nil
	d.tr.event("server", "restart")
	outs := d.apply(0, model.Event{Kind: model.Restart})
	// The restart runs while the clients read the notice and close their
	// side, as clients do: a server that waits a moment for its clients to
	// close (DISC-6) is then not kept waiting.
	type restarted struct {
		addr string
		err  error
	}
	done := make(chan restarted, 1)
	go func() {
		addr, err := restart()
		done <- restarted{addr, err}
	}()
	res, err := d.readRestart(outs)
	r := <-done
	if r.err != nil {
		return outs, fmt.Errorf("restart the server: %w", r.err)
	}
	d.cfg.Addr = r.addr
	d.ids.Restarted()
	return res, err
}

// readRestart checks that every open client receives what the model says a
// restart sends it, then the end of its connection, and closes it.
func (d *Driver) readRestart(outs []model.Output) ([]model.Output, error) {
	want := byClient(outs)
	for _, c := range d.Clients() {
		lines := want[c.id]
		if n := len(lines); n > 0 && lines[n-1].Close {
			lines = lines[:n-1]
		}
		if _, err := d.read(c, lines, false); err != nil {
			return outs, err
		}
		line, err := c.readLine(d.cfg.Timeout)
		c.conn.Close()
		d.forget(c)
		switch {
		case errors.Is(err, errEOF):
			d.tr.event(c.label, "closed by the server")
		case err == nil:
			d.tr.received(c.label, line)
			mm := d.mismatch(c, want[c.id][len(lines):], false)
			mm.Got = []string{line}
			return outs, mm
		default:
			mm := d.mismatch(c, want[c.id][len(lines):], false)
			mm.Err = err
			return outs, mm
		}
	}
	return outs, nil
}

// Probe returns the line a watcher sends to ask after a user named name,
// and the reply that says the server no longer knows it.
func Probe(name string) (line, gone string) {
	return "PRIVMSG " + name + " " + probeText, spec.ErrorLine(spec.ErrUserNotFound).String()
}

// probeText is the text of the question Probe asks.
const probeText = "are you there?"

// Asker returns the client that asks after c if c leaves without QUIT
// and has a name: the Watcher if it is open and has a name, else the
// first open client other than c with a name; nil if there is none.
func (d *Driver) Asker(c *Client) *Client {
	if w := d.Watcher; w != nil && w != c && w.open && d.st.Name(w.id) != "" {
		return w
	}
	for _, o := range d.open {
		if o != c && d.st.Name(o.id) != "" && !o.MidLine() {
			return o
		}
	}
	return nil
}

// NotGone is the failure of a user who left without QUIT and whom the
// server still knows after the driver's timeout: its name is not freed
// (DISC-1, NAME-4), or the question was answered otherwise.
type NotGone struct {
	Watcher, Name string // the label of the client that asked, and the name it asked after
	Answer        string // the unexpected answer to its question; "" if it kept saying OK Sent
	Err           error  // why the wait ended otherwise
	// AfterLeave: the answer came after the watcher's LEAVE note about
	// the user, when the name must already be free (DISC-4).
	AfterLeave bool
}

func (e *NotGone) Error() string {
	probe, _ := Probe(e.Name)
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s: %v", e.Watcher, e.Err)
	case e.AfterLeave:
		return fmt.Sprintf("%s: %s was answered %q after the LEAVE note about %s: the name was free by then (DISC-4, ORDER-2)", e.Watcher, probe, e.Answer, e.Name)
	case e.Answer != "":
		return fmt.Sprintf("%s: %s was answered %q", e.Watcher, probe, e.Answer)
	}
	return fmt.Sprintf("%q still exists after its connection ended: %s asked after it until it timed out", e.Name, e.Watcher)
}

// awaitGone has w ask after name until the server no longer
// knows it, and returns what is left of want, the lines the watcher must
// receive in the step, which may come before the answers (the LEAVE of a
// room they shared). Each try is a round trip; the wait is bounded in
// time. The error does not say how many tries it took, so that it is the
// same each time the same failure recurs.
func (d *Driver) awaitGone(w *Client, name string, want []model.Output) ([]model.Output, error) {
	probe, gone := Probe(name)
	noted := len(want) > 0 // the watcher hears of the end: its LEAVE note
	deadline := time.Now().Add(d.cfg.Timeout)
	for tries := 1; ; tries++ {
		if err := w.write(d.cfg.Timeout, []byte(probe+"\r\n")); err != nil {
			return want, &NotGone{Watcher: w.label, Name: name, Err: err}
		}
		line, err := w.readLine(d.cfg.Timeout)
		for err == nil && len(want) > 0 && !want[0].Close {
			if ok, idErr := d.same(w, want[0].Line, line); idErr != nil {
				d.tr.received(w.label, line)
				return want, idErr
			} else if !ok {
				break
			}
			d.tr.received(w.label, line)
			want = want[1:]
			line, err = w.readLine(d.cfg.Timeout)
		}
		switch {
		case err != nil:
			return want, &NotGone{Watcher: w.label, Name: name, Err: err}
		case line == gone:
			d.tr.event(w.label, fmt.Sprintf("asked after %s until it was gone (%d tries)", name, tries))
			return want, nil
		case noted && len(want) == 0 && line == spec.OKLine(spec.OKSent).String():
			// The LEAVE note came first, so the end was processed before
			// this probe (ORDER-2), and the name was free (DISC-4).
			d.tr.received(w.label, line)
			return want, &NotGone{Watcher: w.label, Name: name, Answer: line, AfterLeave: true}
		case line != spec.OKLine(spec.OKSent).String():
			d.tr.received(w.label, line)
			if len(want) > 0 {
				mm := d.mismatch(w, want, false)
				mm.Got = []string{line}
				return want, mm
			}
			return want, &NotGone{Watcher: w.label, Name: name, Answer: line}
		case time.Now().After(deadline):
			d.tr.event(w.label, fmt.Sprintf("asked after %s %d times", name, tries))
			return want, &NotGone{Watcher: w.label, Name: name}
		}
	}
}

// forget takes c out of the open connections.
func (d *Driver) forget(c *Client) {
	c.open = false
	d.open = slices.DeleteFunc(d.open, func(o *Client) bool { return o == c })
}

// Quit ends the run gracefully: every open client sends QUIT and reads to
// the end of its connection, so that a server shared with other runs is
// left as it was found. Then it closes every connection.
func (d *Driver) Quit() {
	for _, c := range d.open {
		c.write(d.cfg.Timeout, []byte("QUIT\r\n"))
		for {
			if _, err := c.readLine(d.cfg.Timeout); err != nil {
				break
			}
		}
	}
	d.Close()
}

// Close ends the run: it closes every connection the driver opened, with a
// reset, so that none lingers in TIME_WAIT (a fuzzing run opens hundreds of
// thousands).
func (d *Driver) Close() {
	for _, c := range d.all {
		c.conn.Reset()
		c.open = false
	}
	d.open = nil
}
