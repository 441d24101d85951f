package commands

import (
	"strconv"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
	"roomchat.dev/roomchat/spec"
)

// sendframe [-length N] NAME QUOTED
func cmdSendFrame(c *call) {
	s := c.s
	payload, err := unquoteRaw(expand(c.ts, c.args[1]))
	if err != nil {
		c.ts.Fatalf("sendframe: %v", err)
	}
	if s.dialer.Transport == dial.WS {
		if c.opts.value("-length") != "" {
			c.ts.Fatalf("sendframe: -length is for framed4 and framed8")
		}
		cl := s.writer(c.ts, expand(c.ts, c.args[0]))
		if err := cl.writeMessage(c.opts.has("-binary"), payload, timeout(c.ts)); err != nil {
			s.fatalf(c.ts, "sendframe %s: %v", cl.name, err)
		}
		return
	}
	header := map[dial.Transport]int{dial.Framed4: 4, dial.Framed8: 8}[s.dialer.Transport]
	if header == 0 {
		c.ts.Fatalf("sendframe: the transport under test is %s, not framed4, framed8 or ws", s.dialer.Transport)
	}
	if c.opts.has("-binary") {
		c.ts.Fatalf("sendframe: -binary is for ws")
	}
	frame := spec.AppendFrame(nil, header, payload)
	note := "one frame"
	if v := c.opts.value("-length"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			c.ts.Fatalf("sendframe: -length %q: %v", v, err)
		}
		var h [8]byte
		for i := range 8 {
			h[7-i] = byte(n >> (8 * i))
		}
		frame = append(h[8-header:], payload...)
		note = "one frame announcing " + v + " bytes"
	}
	cl := s.writer(c.ts, expand(c.ts, c.args[0]))
	if err := cl.writeRaw(frame, note, timeout(c.ts)); err != nil {
		s.fatalf(c.ts, "sendframe %s: %v", cl.name, err)
	}
}

// writeRaw writes data to the TCP connection under the transport, as it
// is, and records it: a frame made by hand.
func (c *Client) writeRaw(data []byte, note string, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.tr.add(event{client: c, kind: evSent, data: data, text: note})
	tcp := c.conn.TCP()
	tcp.SetWriteDeadline(time.Now().Add(timeout))
	_, err := tcp.Write(data)
	return err
}

// writeMessage sends one WebSocket message as it is and records it.
func (c *Client) writeMessage(binary bool, data []byte, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	note := "one text message"
	if binary {
		note = "one binary message"
	}
	c.tr.add(event{client: c, kind: evSent, data: data, text: note})
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	return c.conn.SendMessage(binary, data)
}
