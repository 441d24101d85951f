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
// recurs, so that a shrinker can tell them apart.
package driver

import (
	"bytes"
	"errors"
	"fmt"
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

	// Watcher is an open client with a name that, after a client with a
	// name leaves without QUIT, asks after that name until the server no
	// longer knows it (DISC-3): until then, the name would still be taken.
	// Drop needs one for such a client. Its questions bypass the model: a
	// private message to a user the model has already dropped changes
	// nothing.
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
	return &Driver{cfg: cfg, st: model.New(cfg.Model), next: 1, labels: map[model.ClientID]string{}}
}

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
// outputs, in order.
func (d *Driver) apply(id model.ClientID, evs ...model.Event) []model.Output {
	var outs []model.Output
	for _, ev := range evs {
		var o []model.Output
		d.st, o = d.st.Step(id, ev)
		outs = append(outs, o...)
	}
	return outs
}

// Connect opens a connection labelled label and checks its effects: none,
// or a refusal when the server is full (LIMIT-1), after which the client is
// closed. It returns the model's outputs.
func (d *Driver) Connect(label string) (*Client, []model.Output, error) {
	c, err := dial(d.cfg.Addr, label, d.cfg.Timeout)
	if err != nil {
		return nil, nil, err
	}
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
// close into a reset that destroys the lines in flight. Send returns how
// many bytes it wrote, and the model's outputs.
func (d *Driver) Send(c *Client, chunks ...[]byte) (int, []model.Output, error) {
	if !c.open {
		return 0, nil, fmt.Errorf("%s: send on a closed connection", c.label)
	}
	data := bytes.Join(chunks, nil)
	sent := len(data)
	var outs []model.Output
	for _, f := range c.fr.Feed(data) {
		o := d.apply(c.id, Event(f))
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

// Drop makes c leave without QUIT, as how says, and checks the effects:
// the others receive what the model predicts (the LEAVE of its room), and
// once its name, if it had one, is free (see Watcher), no open client has
// anything more to receive. It returns the model's outputs.
func (d *Driver) Drop(c *Client, how DropHow) ([]model.Output, error) {
	if !c.open {
		return nil, fmt.Errorf("%s: drop of a closed connection", c.label)
	}
	name := d.st.Name(c.id)
	if w := d.Watcher; name != "" && (w == nil || w == c || !w.open || d.st.Name(w.id) == "") {
		return nil, fmt.Errorf("%s: no watcher with a name to see %s leave", c.label, name)
	}
	d.tr.event(c.label, string(how))
	switch how {
	case DropReset:
		c.conn.SetLinger(0)
		c.conn.Close()
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
	if err := d.settle(nil, outs); err != nil {
		return outs, err
	}
	if how == DropHalfClose {
		line, err := c.readLine(d.cfg.Timeout)
		c.conn.Close()
		if !errors.Is(err, errEOF) {
			return outs, fmt.Errorf("%s half-closed; want the server to close the connection, got %q, %v", c.label, line, err)
		}
	}
	if name != "" {
		if err := d.awaitGone(name); err != nil {
			return outs, err
		}
	}
	return outs, d.Barrier()
}

// Probe returns the line a watcher sends to ask after a user named name,
// and the reply that says the server no longer knows it.
func Probe(name string) (line, gone string) {
	return "PRIVMSG " + name + " are you there?", spec.ErrorLine(spec.ErrUserNotFound).String()
}

// awaitGone has the watcher ask after name until the server no longer
// knows it. Each try is a round trip; the wait is bounded in time.
func (d *Driver) awaitGone(name string) error {
	w := d.Watcher
	probe, gone := Probe(name)
	deadline := time.Now().Add(d.cfg.Timeout)
	for tries := 1; ; tries++ {
		if err := w.write(d.cfg.Timeout, []byte(probe+"\r\n")); err != nil {
			return err
		}
		line, err := w.readLine(d.cfg.Timeout)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %v", w.label, err)
		case line == gone:
			d.tr.event(w.label, fmt.Sprintf("asked after %s until it was gone (%d tries)", name, tries))
			return nil
		case line != spec.OKLine(spec.OKSent).String():
			d.tr.received(w.label, line)
			return fmt.Errorf("%s: %s was answered %q", w.label, probe, line)
		case time.Now().After(deadline):
			return fmt.Errorf("%q still exists %v after its connection ended (%d tries)", name, d.cfg.Timeout, tries)
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
		c.conn.SetLinger(0)
		c.conn.Close()
		c.open = false
	}
	d.open = nil
}
