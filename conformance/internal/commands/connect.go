package commands

import (
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// The commands of connections: connect, connectmany, disconnect, reset,
// halfclose, stopread, resumeread, readrate (churn has a file of its own).

// connect [-rcvbuf BYTES] [-node N] NAME...
//
// ! connect NAME: the server must refuse the connection.
func cmdConnect(c *call) {
	names := words(c.ts, c.args)
	if c.neg && len(names) != 1 {
		c.usage()
	}
	rcvbuf := 0
	if c.opts.has("-rcvbuf") {
		rcvbuf = countArg(c.ts, c.opts.value("-rcvbuf"))
		if rcvbuf == 0 {
			c.ts.Fatalf("connect -rcvbuf: want a positive number of bytes")
		}
	}
	addr := c.ts.Getenv(envAddr)
	if c.opts.has("-node") {
		addr = c.s.nodeAddr(c.ts, "connect -node", c.opts.value("-node"))
	}
	for _, name := range names {
		c.s.connect(c.ts, name, addr, c.neg, rcvbuf)
	}
}

// connect opens a connection called name to addr; with neg, the server
// must refuse it. A positive rcvbuf is the socket's receive buffer (Dial).
func (s *session) connect(ts *testscript.TestScript, name, addr string, neg bool, rcvbuf int) {
	old, existed := s.clients[name]
	if existed && !old.HungUp() && old.Ended() == nil {
		ts.Fatalf("%s is already connected", name)
	}
	c, err := Dial(s.dialer, addr, name, s.tr, timeout(ts), rcvbuf)
	if neg {
		if err == nil {
			c.Close(false)
			<-c.readerDone
			s.fatalf(ts, "connect %s: the server accepted a connection it should have refused", name)
		}
		ts.Logf("connect %s: refused as expected: %v", name, err)
		return
	}
	if err != nil {
		s.fatalf(ts, "connect %s: %v", name, err)
	}
	if existed {
		old.shutdown()
		old.waitFlood()
	} else {
		s.order = append(s.order, name)
	}
	s.clients[name] = c
}

// connectmany N PREFIX
func cmdConnectMany(c *call) {
	n, err := strconv.Atoi(c.args[0])
	if err != nil || n < 1 {
		c.ts.Fatalf("connectmany: bad count %q", c.args[0])
	}
	prefix := expand(c.ts, c.args[1])
	for i := 1; i <= n; i++ {
		c.s.connect(c.ts, prefix+strconv.Itoa(i), c.ts.Getenv(envAddr), false, 0)
	}
}

// disconnect NAME... closes each client's connection.
func cmdDisconnect(c *call) { closeClients(c, false) }

// reset NAME... closes each client's connection with SO_LINGER 0, so that
// the server sees a reset instead of an end of stream.
func cmdReset(c *call) { closeClients(c, true) }

func closeClients(c *call, reset bool) {
	for _, name := range words(c.ts, c.args) {
		c.s.client(c.ts, name).Close(reset)
	}
}

// halfclose NAME...
func cmdHalfClose(c *call) {
	for _, name := range words(c.ts, c.args) {
		if err := c.s.writer(c.ts, name).CloseWrite(); err != nil {
			c.s.fatalf(c.ts, "halfclose %s: %v", name, err)
		}
	}
}

// stopread NAME...
func cmdStopRead(c *call) {
	for _, name := range words(c.ts, c.args) {
		c.s.reader(c.ts, name).StopReading()
	}
}

// resumeread NAME...
func cmdResumeRead(c *call) {
	for _, name := range words(c.ts, c.args) {
		c.s.client(c.ts, name).ResumeReading()
	}
}

// readrate NAME BYTES
func cmdReadRate(c *call) {
	rate := countArg(c.ts, c.args[1])
	for _, name := range words(c.ts, c.args[:1]) {
		c.s.reader(c.ts, name).SetReadRate(rate)
	}
}
