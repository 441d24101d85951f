package driver

import (
	"errors"
	"fmt"
	"slices"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// settle checks the effects of a step caused by actor's bytes or
// connection: each open client must receive exactly the lines the model
// predicts, then nothing more.
//
// actor's barrier goes first: its lines are processed in order, so once
// its PONG arrives every effect of the step has been queued (ORDER-1), and
// the others' barriers come after them. In the middle of a line it cannot
// have a barrier; its expected lines, which every line but an empty one
// has, show instead that its lines were processed.
func (d *Driver) settle(actor *Client, outs []model.Output) error {
	want := byClient(outs)
	others := slices.DeleteFunc(d.Clients(), func(c *Client) bool { return c == actor })
	if actor.open {
		mine := want[actor.id]
		// Bytes after QUIT could turn the server's close into a reset.
		closing := len(mine) > 0 && mine[len(mine)-1].Close
		pinged := false
		if !closing {
			var err error
			if pinged, err = d.ping(actor); err != nil {
				return err
			}
		}
		closed, err := d.read(actor, mine, pinged)
		if err != nil {
			return err
		}
		if !closed {
			if err := d.quiet(actor, pinged); err != nil {
				return err
			}
		}
	}
	return d.barrier(others, want)
}

// byClient groups outputs by recipient, keeping their order.
func byClient(outs []model.Output) map[model.ClientID][]model.Output {
	want := map[model.ClientID][]model.Output{}
	for _, o := range outs {
		want[o.To] = append(want[o.To], o)
	}
	return want
}

// Barrier proves that no open client has anything more to receive.
func (d *Driver) Barrier() error {
	d.step = nil
	return d.barrier(d.Clients(), nil)
}

// barrier proves that each of cs receives what want says for it and
// nothing else: a PING to each, then each must receive its expected lines
// and the PONG.
func (d *Driver) barrier(cs []*Client, want map[model.ClientID][]model.Output) error {
	pinged := make([]bool, len(cs))
	for i, c := range cs {
		var err error
		if pinged[i], err = d.ping(c); err != nil {
			return err
		}
	}
	for i, c := range cs {
		closed, err := d.read(c, want[c.id], pinged[i])
		if err == nil && !closed {
			err = d.quiet(c, pinged[i])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ping sends the barrier PING to c, and reports whether it did: not
// without the ping extension, nor in the middle of a line.
func (d *Driver) ping(c *Client) (bool, error) {
	if d.cfg.NoPing || c.MidLine() {
		return false, nil
	}
	if err := c.write(d.cfg.Timeout, []byte("PING "+d.cfg.Token+"\r\n")); err != nil {
		return false, fmt.Errorf("barrier: %w", err)
	}
	return true, nil
}

func (d *Driver) pong() string { return spec.PongLine(d.cfg.Token).String() }

// quiet proves that c has nothing more to receive: the next line is the
// PONG of its barrier, or, without the ping extension, nothing arrives for
// a while. In the middle of a line, with no barrier, it proves nothing.
func (d *Driver) quiet(c *Client, pinged bool) error {
	if d.cfg.NoPing {
		line, err := c.readLine(d.cfg.Quiet)
		if errors.Is(err, errTimeout) {
			return nil
		}
		mm := d.mismatch(c, nil, false)
		if err == nil {
			d.tr.received(c.label, line)
			mm.Got = []string{line}
		} else {
			mm.Err = err
		}
		return mm
	}
	if !pinged {
		return nil
	}
	line, err := c.readLine(d.cfg.Timeout)
	switch {
	case err != nil:
		mm := d.mismatch(c, nil, true)
		mm.Err = err
		return mm
	case line != d.pong():
		d.tr.received(c.label, line)
		mm := d.mismatch(c, nil, true)
		mm.Got = append([]string{line}, d.drain(mm)...)
		return mm
	}
	return nil
}

// read reads the lines c must receive, in order, and reports whether the
// server closed the connection after them, as the model said it would.
// pinged says whether a barrier PONG follows them.
func (d *Driver) read(c *Client, want []model.Output, pinged bool) (closed bool, err error) {
	for i, w := range want {
		line, err := c.readLine(d.cfg.Timeout)
		switch {
		case w.Close && errors.Is(err, errEOF):
			d.tr.event(c.label, "closed by the server")
			c.conn.Close()
			d.forget(c)
			return true, nil
		case err == nil && !w.Close:
			ok, idErr := d.same(c, w.Line, line)
			if idErr != nil {
				d.tr.received(c.label, line)
				return false, idErr
			}
			if ok {
				d.tr.received(c.label, line)
				continue
			}
		}
		mm := d.mismatch(c, want[i:], pinged)
		switch {
		case err != nil:
			mm.Err = err
		case pinged && line == d.pong():
			// Nothing more arrived before the barrier.
			d.tr.received(c.label, line)
			mm.Complete = true
		default:
			d.tr.received(c.label, line)
			mm.Got = append([]string{line}, d.drain(mm)...)
		}
		return false, mm
	}
	return false, nil
}

// maxDrain bounds the lines read after a difference to find the barrier.
const maxDrain = 64

// drain reads what else c received before its barrier, once its lines
// have departed from the model's, so that the report shows all of them;
// it sets mm.Complete if the barrier came.
func (d *Driver) drain(mm *Mismatch) []string {
	if !mm.pinged {
		return nil
	}
	c := mm.client
	var got []string
	for range maxDrain {
		line, err := c.readLine(d.cfg.Timeout)
		if err != nil {
			mm.Err = err
			return got
		}
		d.tr.received(c.label, line)
		if line == d.pong() {
			mm.Complete = true
			return got
		}
		got = append(got, line)
	}
	return got
}

// mismatch starts the report of c's lines departing from want (the
// model's expected lines from the first that did not arrive).
func (d *Driver) mismatch(c *Client, want []model.Output, pinged bool) *Mismatch {
	mm := &Mismatch{
		Client: c.label, ID: c.id, Want: want, Step: slices.Clone(d.step), Cause: -1,
		client: c, pinged: pinged, pong: d.pong(),
	}
	if len(want) > 0 {
		mm.Cause = causeOf(mm.Step, c.id, d.expectedBefore(c.id, len(want)))
	}
	return mm
}

// expectedBefore is how many of the step's outputs to id precede the last
// n of them.
func (d *Driver) expectedBefore(id model.ClientID, n int) int {
	total := 0
	for _, a := range d.step {
		for _, o := range a.Outs {
			if o.To == id {
				total++
			}
		}
	}
	return total - n
}

// causeOf returns the index in step of the event that produced the k-th
// output (from 0) to id.
func causeOf(step []Applied, id model.ClientID, k int) int {
	for i, a := range step {
		for _, o := range a.Outs {
			if o.To != id {
				continue
			}
			if k == 0 {
				return i
			}
			k--
		}
	}
	return -1
}

// Mismatch is a step after which a client did not receive what the model
// predicted. Its text is the same each time the same failure recurs.
type Mismatch struct {
	Client string         // the client's label
	ID     model.ClientID // and its identity in the model
	// Want is what the model still expected the client to receive in
	// this step, from the first line that did not arrive; empty if it
	// expected nothing more.
	Want []model.Output
	// Got is what the client received instead, from that point on, up to
	// its barrier if Complete (without the PONG).
	Got      []string
	Complete bool
	Err      error     // what ended the reading otherwise: a timeout, the server closing the connection
	Step     []Applied // the events of the step
	Cause    int       // the index in Step of the event that produced Want[0]; -1 if Want is empty

	client *Client
	pinged bool
	pong   string
}

// Closed reports whether the server closed the connection where the model
// did not say it would.
func (m *Mismatch) Closed() bool { return errors.Is(m.Err, errEOF) }

// Reordered reports whether the client received exactly the lines it
// should have, but in another order.
func (m *Mismatch) Reordered() bool {
	if !m.Complete || m.Err != nil || len(m.Want) != len(m.Got) || len(m.Got) < 2 {
		return false
	}
	var want, got []string
	for _, w := range m.Want {
		if w.Close {
			return false
		}
		want = append(want, Normalize(w.Line))
	}
	for _, g := range m.Got {
		got = append(got, Normalize(g))
	}
	slices.Sort(want)
	slices.Sort(got)
	return slices.Equal(want, got)
}

// Summary describes the difference in one line. It shows the ID and time
// of a MESSAGE or HISTORY line as <id> and <time> (Normalize), so that it
// is the same each time the same failure recurs, whatever IDs the server
// gives.
func (m *Mismatch) Summary() string {
	var want string
	if len(m.Want) > 0 {
		want = spec.Quote(Normalize(m.Want[0].Line))
		if m.Want[0].Close {
			want = "the end of its connection"
		}
	}
	switch {
	case m.Reordered():
		return fmt.Sprintf("%s received the lines the model expected in another order", m.Client)
	case len(m.Want) == 0 && len(m.Got) > 0:
		return fmt.Sprintf("%s received %s, which the model did not expect", m.Client, spec.Quote(Normalize(m.Got[0])))
	case len(m.Want) == 0:
		return fmt.Sprintf("%s: %v instead of the barrier's %s", m.Client, m.Err, m.pong)
	case len(m.Got) > 0:
		return fmt.Sprintf("%s received %s instead of %s", m.Client, spec.Quote(Normalize(m.Got[0])), want)
	case m.Closed():
		return fmt.Sprintf("the server closed %s's connection instead of sending %s", m.Client, want)
	case m.Err != nil:
		return fmt.Sprintf("%s did not receive %s (%v)", m.Client, want, m.Err)
	}
	return fmt.Sprintf("%s did not receive %s", m.Client, want)
}

func (m *Mismatch) Error() string {
	var b []byte
	pad := fmt.Sprintf("%*s", len(m.Client)+2, "")
	got := m.pong
	if len(m.Got) > 0 {
		got = m.Got[0]
	}
	switch {
	case len(m.Want) == 0 && len(m.Got) > 0:
		b = fmt.Appendf(b, "%s: want nothing more before %q, got %s\n", m.Client, m.pong, spec.Quote(got))
	case len(m.Want) == 0:
		b = fmt.Appendf(b, "%s: want %s (the barrier), got %v\n", m.Client, m.pong, m.Err)
	case m.Want[0].Close && len(m.Got) > 0:
		b = fmt.Appendf(b, "%s: want the server to close the connection, got %s\n", m.Client, spec.Quote(got))
	case m.Want[0].Close:
		b = fmt.Appendf(b, "%s: want the server to close the connection, got %v\n", m.Client, m.Err)
	case len(m.Got) == 0 && m.Err != nil:
		b = fmt.Appendf(b, "%s: want %s: %v\n", m.Client, spec.Quote(m.Want[0].Line), m.Err)
	default:
		b = fmt.Appendf(b, "%s: want %s\n%sgot  %s\n", m.Client, spec.Quote(m.Want[0].Line), pad, spec.Quote(got))
	}
	if len(m.Got) > 1 {
		b = fmt.Appendf(b, "%sthen %d more line(s):\n", pad, len(m.Got)-1)
		for _, l := range m.Got[1:] {
			b = fmt.Appendf(b, "%s    %s\n", pad, spec.Show(l))
		}
	}
	if len(m.Got) > 0 && m.Err != nil {
		b = fmt.Appendf(b, "%sthen: %v\n", pad, m.Err)
	}
	if len(m.Want) > 0 {
		b = fmt.Appendf(b, "the model expected %s to receive, from here on:\n", m.Client)
		ids := false
		for _, w := range m.Want {
			if w.Close {
				b = append(b, "    (the server closes the connection)\n"...)
			} else {
				b = fmt.Appendf(b, "    %s\n", spec.Show(w.Line))
				ids = ids || Normalize(w.Line) != w.Line
			}
		}
		if ids {
			b = append(b, "    (with the model's IDs and times: a server's own are compared through the mapping of IDs, not as written)\n"...)
		}
	}
	return string(b)
}
