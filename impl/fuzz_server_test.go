package impl_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// FuzzServer feeds three fuzzed byte streams, from three clients, into a
// server in this process, beside two well-behaved observers in a room, and
// checks every line every client receives against the model of
// PROTOCOL.md (package model). sched decides how the streams are cut into
// writes and interleaved, and when a fuzzed client closes, resets or
// reconnects. Each write is followed by PING/PONG barriers, so that the
// order of events is known and the model predicts every line exactly;
// nothing may panic, and the observers' transcripts, like everyone's, must
// be exactly what the model says. Run it with
//
//	go test ./impl -run='^$' -fuzz=FuzzServer -fuzztime=60s
func FuzzServer(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s.a), []byte(s.b), []byte(s.c), []byte(s.sched))
	}
	f.Fuzz(func(t *testing.T, a, b, c, sched []byte) {
		const maxStream, maxSched = 4 << 10, 64
		streams := [][]byte{a[:min(len(a), maxStream)], b[:min(len(b), maxStream)], c[:min(len(c), maxStream)]}
		fuzzServer(t, streams, sched[:min(len(sched), maxSched)])
	})
}

// fuzzSeeds are the seeds FuzzServer starts from, besides the corpus in
// testdata/fuzz/FuzzServer.
var fuzzSeeds = []struct{ a, b, c, sched string }{
	{"USERNAME x\nJOIN #o\nhello\nPRIVMSG o1 hi\nQUIT\n", "USERNAME y\r\nJOIN #o\r\nMSG hey\r\nLEAVE\r\nROOMS\r\n", "PING 1\nUSERNAME O2\nUSERS\n", ""},
	{"\x00\xff\r\x1b[2J\n\u202e\nUSERNAME a\x00\n", strings.Repeat("x", 600) + "\nUSERNAME b\n", "USERNAME o1\nJOIN #O\nMSG " + strings.Repeat("y", 506) + "\r\n", "\x00\x03\x06\x09\x0c\x01\x04\x07"},
	{"USERNAME n\nJOIN #r\nhi\n", "USERNAME n\nUSERNAME N\n", "JOIN #r\n", "\x00\x0f\x01\x13\x16"},
	{"USERNAME q\nJOIN #o\nMSG a\nMSG b", "USERNAME w\nPRIVMSG q x\n", "", "\x00\x12\x01\x14\x01\x15\x00"},
}

// fuzzSlot is one connection of a fuzz run and its identity in the model.
type fuzzSlot struct {
	label string
	conn  *net.TCPConn
	r     *bufio.Reader
	id    model.ClientID
	fr    framer
	open  bool
}

// fuzzRun is the state of one fuzz input.
type fuzzRun struct {
	t      *testing.T
	addr   string
	st     model.State
	nextID model.ClientID
	slots  []*fuzzSlot // observers first, then the fuzzed clients
	pos    []int       // how much of each fuzzed stream is sent
	steps  int
}

const (
	fuzzObservers = 2
	fuzzToken     = "fz"
	fuzzTimeout   = 10 * time.Second
)

func fuzzServer(t *testing.T, streams [][]byte, sched []byte) {
	ts := startServer(t, impl.Config{})
	fr := &fuzzRun{t: t, addr: ts.addr, st: model.New(model.Config{}), nextID: 1, pos: make([]int, len(streams))}
	// The observers: registered and in #o before anything else happens.
	for i := range fuzzObservers {
		s := fr.connect(fmt.Sprintf("o%d", i+1))
		fr.send(s, []byte(fmt.Sprintf("USERNAME o%d\r\nJOIN #o\r\n", i+1)))
	}
	for i := range streams {
		fr.connect(fmt.Sprintf("f%d", i))
	}
	for _, x := range sched {
		k := int(x) % len(streams)
		s := fr.slots[fuzzObservers+k]
		rest := streams[k][fr.pos[k]:]
		switch action := int(x) / len(streams) % 8; {
		case action <= 4 && s.open && len(rest) > 0:
			n := len(rest)
			switch action {
			case 0: // a line, or what is left
				if i := slices.Index(rest, '\n'); i >= 0 {
					n = i + 1
				}
			case 1:
				n = 1
			case 2:
				n = min(n, 7)
			case 3:
				n = min(n, 64)
			}
			fr.pos[k] += fr.send(s, rest[:n])
		case action == 5 && s.open:
			fr.drop(s, false)
		case action == 6 && s.open:
			fr.drop(s, true)
		case action == 7 && !s.open:
			fr.slots[fuzzObservers+k] = fr.connect(s.label)
		}
		if fr.steps%8 == 7 { // the observers talk too
			fr.send(fr.slots[0], []byte(fmt.Sprintf("MSG tick %d\r\n", fr.steps)))
		}
	}
	// The rest of every stream, ended by a LF, from each client still open.
	for k, stream := range streams {
		s := fr.slots[fuzzObservers+k]
		if s.open {
			fr.send(s, append(slices.Clone(stream[fr.pos[k]:]), '\n'))
		}
	}
	fr.barrierAll()
}

// connect opens a connection labelled label.
func (fr *fuzzRun) connect(label string) *fuzzSlot {
	fr.t.Helper()
	c, err := net.DialTimeout("tcp", fr.addr, fuzzTimeout)
	if err != nil {
		fr.t.Fatalf("%s: %v", label, err)
	}
	s := &fuzzSlot{label: label, conn: c.(*net.TCPConn), r: bufio.NewReader(c), id: fr.nextID, open: true}
	fr.nextID++
	fr.t.Cleanup(func() {
		// A reset leaves no TIME_WAIT behind: a fuzzing run opens
		// hundreds of thousands of connections.
		s.conn.SetLinger(0)
		s.conn.Close()
	})
	if i := slices.IndexFunc(fr.slots, func(o *fuzzSlot) bool { return o.label == label }); i >= 0 {
		fr.slots[i] = s
	} else {
		fr.slots = append(fr.slots, s)
	}
	fr.settle(nil, fr.apply(s, []model.Event{{Kind: model.Connect}}))
	return s
}

// apply runs events from s through the model.
func (fr *fuzzRun) apply(s *fuzzSlot, evs []model.Event) []model.Output {
	var outs []model.Output
	for _, ev := range evs {
		var o []model.Output
		fr.st, o = fr.st.Step(s.id, ev)
		outs = append(outs, o...)
	}
	return outs
}

// send writes data from s (cut short after a line that makes the server
// close the connection, such as QUIT: bytes after it could turn the
// server's graceful close into a reset) and checks what every client
// receives. It returns how many bytes it sent.
func (fr *fuzzRun) send(s *fuzzSlot, data []byte) int {
	fr.t.Helper()
	fr.steps++
	evs, ends := s.fr.feed(data)
	var outs []model.Output
	for i, ev := range evs {
		o := fr.apply(s, []model.Event{ev})
		outs = append(outs, o...)
		if slices.ContainsFunc(o, func(o model.Output) bool { return o.Close && o.To == s.id }) {
			data = data[:ends[i]]
			break
		}
	}
	s.conn.SetWriteDeadline(time.Now().Add(fuzzTimeout))
	if _, err := s.conn.Write(data); err != nil {
		fr.t.Fatalf("%s: write: %v", s.label, err)
	}
	fr.settle(s, outs)
	return len(data)
}

// drop closes s without QUIT, with a reset if asked (DISC-1), and waits
// until the server has processed it (DISC-3).
func (fr *fuzzRun) drop(s *fuzzSlot, reset bool) {
	fr.t.Helper()
	fr.steps++
	name := fr.st.Name(s.id)
	if reset {
		s.conn.SetLinger(0)
	}
	s.conn.Close()
	s.open = false
	outs := fr.apply(s, []model.Event{{Kind: model.Disconnect}})
	// The others' LEAVE notes show that the disconnect was processed; a
	// user whose leaving nobody sees is asked after until it is gone (its
	// name, and a room it was alone in, are in use until then).
	fr.settle(nil, outs)
	if name != "" && len(outs) == 0 {
		fr.awaitGone(name)
	}
	fr.barrierAll()
}

// awaitGone has the first observer ask for name until the server no longer
// knows it. These PRIVMSGs bypass the model: they are to a user the model
// has already dropped, and have no effect on anyone else.
func (fr *fuzzRun) awaitGone(name string) {
	fr.t.Helper()
	o := fr.slots[0]
	deadline := time.Now().Add(fuzzTimeout)
	for {
		o.conn.Write([]byte("PRIVMSG " + name + " are you there?\r\n"))
		line := fr.readLine(o)
		switch {
		case line == "ERROR "+spec.ErrUserNotFound:
			return
		case line != "OK "+spec.OKSent:
			fr.t.Fatalf("o1: PRIVMSG %s was answered %q", name, line)
		case time.Now().After(deadline):
			fr.t.Fatalf("%s still exists %v after its connection ended", name, fuzzTimeout)
		}
	}
}

// settle checks one step's effects: each open client receives exactly the
// lines the model predicts, then its barrier PONG. The actor's barrier goes
// first, when it can have one (its lines are processed in order, so its
// PONG means every effect of its step is queued); in the middle of a line
// it cannot, and its expected lines, which every line but an empty one
// has, show instead that its lines were processed. Without an actor (a
// connect, a disconnect: events the server processes at a time of its own,
// DISC-3) each client just receives its expected lines, and the caller
// makes sure the event was processed before any barrier.
func (fr *fuzzRun) settle(actor *fuzzSlot, outs []model.Output) {
	fr.t.Helper()
	want := map[model.ClientID][]model.Output{}
	for _, o := range outs {
		want[o.To] = append(want[o.To], o)
	}
	if actor == nil {
		for _, s := range fr.slots {
			if s.open {
				fr.expect(s, want[s.id])
			}
		}
		return
	}
	if actor.open {
		mine := want[actor.id]
		closing := len(mine) > 0 && mine[len(mine)-1].Close
		ping := !closing && !actor.fr.midLine()
		if ping {
			fr.ping(actor)
		}
		fr.expect(actor, mine)
		if ping {
			fr.expectPong(actor)
		}
	}
	var others []*fuzzSlot
	for _, s := range fr.slots {
		if s.open && s != actor {
			others = append(others, s)
		}
	}
	fr.barrier(others, want)
}

// barrierAll proves that no open client has anything more to receive.
func (fr *fuzzRun) barrierAll() {
	fr.t.Helper()
	var open []*fuzzSlot
	for _, s := range fr.slots {
		if s.open {
			open = append(open, s)
		}
	}
	fr.barrier(open, nil)
}

// barrier proves that each of slots has received what w says, and nothing
// else: a PING to each (not in the middle of a line), then each must
// receive its expected lines and the PONG.
func (fr *fuzzRun) barrier(slots []*fuzzSlot, w map[model.ClientID][]model.Output) {
	fr.t.Helper()
	for _, s := range slots {
		if !s.fr.midLine() {
			fr.ping(s)
		}
	}
	for _, s := range slots {
		fr.expect(s, w[s.id])
		if s.open && !s.fr.midLine() {
			fr.expectPong(s)
		}
	}
}

func (fr *fuzzRun) ping(s *fuzzSlot) {
	s.conn.SetWriteDeadline(time.Now().Add(fuzzTimeout))
	if _, err := s.conn.Write([]byte("PING " + fuzzToken + "\r\n")); err != nil {
		fr.t.Fatalf("%s: barrier: %v", s.label, err)
	}
}

func (fr *fuzzRun) expectPong(s *fuzzSlot) {
	fr.t.Helper()
	if got := fr.readLine(s); got != "PONG "+fuzzToken {
		fr.t.Fatalf("%s: got %q, want nothing more before the barrier's PONG %s", s.label, got, fuzzToken)
	}
}

// expect reads the lines the model says s receives, in order.
func (fr *fuzzRun) expect(s *fuzzSlot, want []model.Output) {
	fr.t.Helper()
	for i, w := range want {
		if w.Close {
			s.conn.SetReadDeadline(time.Now().Add(fuzzTimeout))
			line, err := s.r.ReadString('\n')
			if err == nil || !isClosed(err) {
				fr.t.Fatalf("%s: want the server to close the connection, got %q (%v)", s.label, line, err)
			}
			s.conn.Close()
			s.open = false
			return
		}
		if got := fr.readLine(s); got != w.Line {
			fr.t.Fatalf("%s: got %q, want %q (line %d of %d expected)", s.label, got, w.Line, i+1, len(want))
		}
	}
}

func (fr *fuzzRun) readLine(s *fuzzSlot) string {
	fr.t.Helper()
	s.conn.SetReadDeadline(time.Now().Add(fuzzTimeout))
	line, err := s.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && line == "" {
			fr.t.Fatalf("%s: the server closed the connection", s.label)
		}
		fr.t.Fatalf("%s: read: %q, %v", s.label, line, err)
	}
	body, ok := strings.CutSuffix(line, "\r\n")
	if !ok {
		fr.t.Fatalf("%s: line %q does not end in CRLF", s.label, line)
	}
	return body
}

// framer splits a client's bytes into the events of the model exactly as
// the server's line reader does (FRAME-2, FRAME-5), as they arrive.
type framer struct {
	buf      []byte
	skipping bool // in an overlong line already reported
}

// feed returns the events that data completes, and for each the offset in
// data just after its last byte.
func (f *framer) feed(data []byte) (evs []model.Event, ends []int) {
	for i, c := range data {
		switch {
		case f.skipping:
			f.skipping = c != '\n'
			continue
		case c == '\n':
			line := f.buf
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			evs = append(evs, model.Event{Kind: model.Line, Line: string(line)})
			f.buf = f.buf[:0]
		default:
			f.buf = append(f.buf, c)
			if len(f.buf) < spec.MaxLineLen {
				continue
			}
			evs = append(evs, model.Event{Kind: model.LineTooLong})
			f.buf, f.skipping = f.buf[:0], true
		}
		ends = append(ends, i+1)
	}
	return evs, ends
}

// midLine reports whether the client is in the middle of a line, where a
// barrier PING cannot be sent.
func (f *framer) midLine() bool { return len(f.buf) > 0 || f.skipping }
