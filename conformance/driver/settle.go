package driver

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// settle checks one step's effects: each open client must receive exactly
// the lines the model predicts, then nothing more.
//
// actor is the client whose bytes or connection caused the step. Its
// barrier goes first: its lines are processed in order, so once its PONG
// arrives every effect of the step has been queued (ORDER-1), and the
// others' barriers come after them. In the middle of a line it cannot have
// a barrier; its expected lines, which every line but an empty one has,
// show instead that its lines were processed. actor is nil for a dropped
// connection, which the server processes at a time of its own (DISC-3):
// then each client only receives its expected lines, and the caller proves
// the disconnect done before any barrier.
func (d *Driver) settle(actor *Client, outs []model.Output) error {
	want := map[model.ClientID][]model.Output{}
	for _, o := range outs {
		want[o.To] = append(want[o.To], o)
	}
	if actor == nil {
		for _, c := range d.Clients() {
			if _, err := d.read(c, want[c.id]); err != nil {
				return err
			}
		}
		return nil
	}
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
		closed, err := d.read(actor, mine)
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

// Barrier proves that no open client has anything more to receive.
func (d *Driver) Barrier() error { return d.barrier(d.Clients(), nil) }

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
		closed, err := d.read(c, want[c.id])
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

// quiet proves that c has nothing more to receive: the next line is the
// PONG of its barrier, or, without the ping extension, nothing arrives for
// a while. In the middle of a line, with no barrier, it proves nothing.
func (d *Driver) quiet(c *Client, pinged bool) error {
	if d.cfg.NoPing {
		line, err := c.readLine(d.cfg.Quiet)
		if errors.Is(err, errTimeout) {
			return nil
		}
		if err == nil {
			d.tr.received(c.label, line)
		}
		return fmt.Errorf("%s: want nothing more, got %q (%v)", c.label, line, err)
	}
	if !pinged {
		return nil
	}
	pong := spec.PongLine(d.cfg.Token).String()
	line, err := c.readLine(d.cfg.Timeout)
	if err != nil {
		return fmt.Errorf("%s: want %s (the barrier), got %v", c.label, pong, err)
	}
	if line != pong {
		d.tr.received(c.label, line)
		return fmt.Errorf("%s: want nothing more before %q, got %q", c.label, pong, line)
	}
	return nil
}

// read reads the lines c must receive, in order, and reports whether the
// server closed the connection after them, as the model said it would.
func (d *Driver) read(c *Client, want []model.Output) (closed bool, err error) {
	for i, w := range want {
		line, err := c.readLine(d.cfg.Timeout)
		if w.Close {
			if !errors.Is(err, errEOF) {
				if err == nil {
					d.tr.received(c.label, line)
				}
				return false, fmt.Errorf("%s: want the server to close the connection, got %q (%v)\n%s", c.label, line, err, pending(c.label, want[i:]))
			}
			d.tr.event(c.label, "closed by the server")
			c.conn.Close()
			d.forget(c)
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s: want %q: %v\n%s", c.label, w.Line, err, pending(c.label, want[i:]))
		}
		d.tr.received(c.label, line)
		if line != w.Line {
			return false, fmt.Errorf("%s: want %q\n%*sgot  %q\n%s", c.label, w.Line, len(c.label)+2, "", line, pending(c.label, want[i:]))
		}
	}
	return false, nil
}

// pending lists the lines the model still expected a client to receive.
func pending(label string, want []model.Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the model expected %s to receive, from here on:\n", label)
	for _, w := range want {
		if w.Close {
			b.WriteString("    (the server closes the connection)\n")
		} else {
			fmt.Fprintf(&b, "    %s\n", spec.Show(w.Line))
		}
	}
	return b.String()
}
