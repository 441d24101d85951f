package commands

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"roomchat.dev/roomchat/conformance/concurrent"
)

// serializableTimeout bounds the search for an order of a script's lines.
const serializableTimeout = 10 * time.Second

// cmdSerializable checks what every client of the script sent and
// received so far, in whatever order the server took the lines, against
// the model: it makes the record complete with two PING rounds (each open
// client pings; once all have their PONG, each pings again), then
// searches for one order of all the lines sent that the model accepts and
// that produces exactly the lines each client received (package
// concurrent). Every line received up to the second PONG is consumed.
func cmdSerializable(c *call) {
	s := c.s
	for round := 1; round <= 2; round++ {
		for _, name := range s.order {
			cl := s.clients[name]
			if cl.Ended() != nil || cl.HungUp() {
				continue
			}
			if cl.sentQuit() {
				// Its end is part of the record: wait for it.
				if err := cl.awaitEnd(timeout(c.ts)); err != nil {
					s.fatalf(c.ts, "serializable: %s: %v", name, err)
				}
				continue
			}
			token := fmt.Sprintf("serializable%d-%s", round, name)
			if err := cl.Write([]byte("PING "+token+"\r\n"), "", timeout(c.ts)); err != nil {
				s.fatalf(c.ts, "serializable: %s: %v", name, err)
			}
			if err := cl.awaitLine("PONG "+token, timeout(c.ts)); err != nil {
				s.fatalf(c.ts, "serializable: %s: %v", name, err)
			}
		}
	}
	h := concurrent.NewHistory(s.tr.recorded(), time.Since(s.tr.start))
	r := concurrent.Check(h, serializableTimeout)
	if r.Verdict != concurrent.Ok {
		s.fatalf(c.ts, "serializable: %s\nwhat each client sent and received:\n%s", r.Report(h), h.Transcripts())
	}
}

// awaitLine waits until c has received want, and consumes every line up to
// it.
func (c *Client) awaitLine(want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		for i := c.next; i < len(c.lines); i++ {
			if string(bytes.TrimRight(c.lines[i], "\r\n")) == want {
				c.last = consumption{line: c.lines[i], at: c.arrived[i], ok: true}
				c.next = i + 1
				c.mu.Unlock()
				return nil
			}
		}
		end := c.end
		notify := c.notify
		c.mu.Unlock()
		if end != nil {
			return fmt.Errorf("the connection ended (%v) before %q", end, want)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("no %q within %v", want, timeout)
		}
		select {
		case <-notify:
		case <-time.After(left):
		}
	}
}

// recorded returns what every client of the transcript sent and
// received, in the order the clients connected, as the concurrent checker
// reads a record: each complete line written, with when its write began,
// each line received, and the server's close. A name used again for a new
// connection gets a ' for each reuse.
func (tr *Transcript) recorded() []concurrent.Recorded {
	tr.mu.Lock()
	events := tr.events[:len(tr.events):len(tr.events)]
	tr.mu.Unlock()
	index := map[*Client]int{}
	uses := map[string]int{}
	var out []concurrent.Recorded
	var pending [][]byte // per client, bytes written after the last LF
	for _, e := range events {
		i, ok := index[e.client]
		if !ok {
			i = len(out)
			index[e.client] = i
			out = append(out, concurrent.Recorded{Label: e.client.name + strings.Repeat("'", uses[e.client.name]), Opened: e.at})
			pending = append(pending, nil)
			uses[e.client.name]++
		}
		r := &out[i]
		switch e.kind {
		case evSent:
			data := append(pending[i], e.data...)
			for {
				j := bytes.IndexByte(data, '\n')
				if j < 0 {
					break
				}
				r.Sent = append(r.Sent, concurrent.Sent{Line: strings.TrimSuffix(string(data[:j]), "\r"), At: e.at})
				data = data[j+1:]
			}
			pending[i] = append([]byte(nil), data...)
		case evReceived:
			r.Received = append(r.Received, concurrent.Arrival{Line: string(bytes.TrimRight(e.data, "\r\n")), At: e.at})
		case evNote:
			if strings.HasPrefix(e.text, "closed by the server") {
				r.Received = append(r.Received, concurrent.Arrival{Closed: true, At: e.at})
			}
		}
	}
	return out
}

// sentQuit reports whether a line c wrote was QUIT.
func (c *Client) sentQuit() bool {
	c.tr.mu.Lock()
	defer c.tr.mu.Unlock()
	for _, e := range c.tr.events {
		if e.client != c || e.kind != evSent {
			continue
		}
		for _, line := range bytes.Split(e.data, []byte("\n")) {
			if w := bytes.Fields(line); len(w) > 0 && strings.EqualFold(string(w[0]), "QUIT") {
				return true
			}
		}
	}
	return false
}

// awaitEnd waits until c's connection has ended.
func (c *Client) awaitEnd(timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		end, notify := c.end, c.notify
		c.mu.Unlock()
		if end != nil {
			return nil
		}
		select {
		case <-notify:
		case <-deadline:
			return fmt.Errorf("the server did not close the connection within %v of QUIT", timeout)
		}
	}
}
