package client

import (
	"strings"

	"roomchat.dev/roomchat/spec"
)

// wantedExt are the extensions of PROTOCOL.md section 13 the client enables
// when the server offers them.
const wantedExt = spec.ExtAccounts | spec.ExtHistory | spec.ExtRooms

// opening is the exchange of a connection in NEW (PROTOCOL.md 13.1): the
// client asks with CAPS what the server offers, enables what it wants of
// that, and asks for a name with USERNAME or LOGIN. Every command in NEW
// is answered by exactly one line, in order (ORDER-2), so the answers are
// matched to a queue of the commands sent: the client can send the CAPS
// that enables and the USERNAME together, without waiting for OK Enabled.
// It is owned by the loop goroutine.
type opening struct {
	// known: the answer to CAPS has come; offered and enabled hold.
	known bool
	// offered is what the server's CAPS line listed, of the extensions
	// this client knows; 0 for a core server (ERROR Username required).
	offered spec.Ext
	// enabled is what the client asked to enable, and the server has not
	// refused. Commands sent after the CAPS that enables may rely on it:
	// they are processed after it.
	enabled spec.Ext
	// awaiting are the commands sent in NEW whose answers have not come,
	// oldest first: CAPS, CAPS <ext> ..., USERNAME, LOGIN. A LOGIN is kept
	// without its password.
	awaiting []spec.Command
}

// query returns the CAPS that asks what the server offers, and records it.
func (o *opening) query() spec.Command {
	c := spec.Command{Kind: spec.Caps}
	o.awaiting = append(o.awaiting, c)
	return c
}

// sent records a USERNAME or LOGIN on its way to the server.
func (o *opening) sent(c spec.Command) {
	if c.Kind == spec.Login {
		c.Text = "" // the password
	}
	o.awaiting = append(o.awaiting, c)
}

// naming reports whether a USERNAME or LOGIN awaits its answer.
func (o *opening) naming() bool {
	for _, c := range o.awaiting {
		if c.Kind == spec.Username || c.Kind == spec.Login {
			return true
		}
	}
	return false
}

// answers reports whether l answers the oldest command awaiting: in NEW
// the answers are OK, ERROR and, to CAPS alone, a CAPS line. The ERROR
// lines a server sends on its own (it is full, shutting down, or the
// connection was idle) answer nothing.
func (o *opening) answers(l spec.ServerLine) bool {
	if len(o.awaiting) == 0 {
		return false
	}
	switch l.Kind {
	case spec.OK, spec.CapsList:
		return true
	case spec.Error:
		switch l.Text {
		case spec.ErrServerFull, spec.ErrShuttingDown, spec.ErrIdleTimeout:
			return false
		}
		return true
	}
	return false
}

// answer takes l, which answers (see answers), and returns the command it
// answers. If that is the CAPS query, it returns too the CAPS that enables
// what the client wants of what is offered, if anything: the caller sends
// it before any USERNAME or LOGIN, and it is recorded as awaiting.
func (o *opening) answer(l spec.ServerLine) (answered spec.Command, enable *spec.Command) {
	answered = o.awaiting[0]
	o.awaiting = o.awaiting[1:]
	if answered.Kind != spec.Caps {
		return answered, nil
	}
	if answered.Text != "" {
		// The answer to CAPS <ext> ...: OK Enabled, or an ERROR after
		// which nothing is enabled (CAPS-2).
		if l.Kind != spec.OK || !strings.HasPrefix(l.Text, "Enabled ") {
			o.enabled = 0
		}
		return answered, nil
	}
	o.known = true
	if l.Kind != spec.CapsList {
		// ERROR Username required: a core server (CAPS-1). Any other
		// answer is taken the same way: the client goes on as a core
		// client.
		return answered, nil
	}
	for _, name := range l.List {
		if x, ok := spec.ParseExt(name); ok {
			o.offered |= x
		}
	}
	want := o.offered & wantedExt
	if want == 0 {
		return answered, nil
	}
	o.enabled = want
	c := spec.Command{Kind: spec.Caps, Text: strings.Join(want.Names(), " ")}
	o.awaiting = append(o.awaiting, c)
	return answered, &c
}

// has reports whether the connection has the extension x enabled, or will
// have once the CAPS on its way is answered.
func (o *opening) has(x spec.Ext) bool { return o.enabled.Has(x) }
