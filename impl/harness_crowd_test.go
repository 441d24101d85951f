package impl_test

import (
	"strconv"
	"strings"
	"testing"
)

// crowd is a set of clients that play attackers: read only when the test
// reads them, with small read buffers and one cleanup for all, so that a
// crowd of thousands costs the test little memory beside the server's,
// which the bounds measure (harness_bounds_test.go).
type crowd struct {
	t       testing.TB
	clients []*testClient
}

// dialCrowd opens n connections to addr.
func dialCrowd(t testing.TB, addr string, n int) *crowd {
	t.Helper()
	cr := &crowd{t: t}
	t.Cleanup(func() { cr.close(false) })
	for i := range n {
		cr.clients = append(cr.clients, dialAddr(t, addr, "crowd "+strconv.Itoa(i), dialConfig{readBuf: 64, uncleaned: true}))
	}
	return cr
}

// each writes format to every client; %d in it is the client's index.
func (cr *crowd) each(format string) {
	cr.t.Helper()
	for i, c := range cr.clients {
		c.write([]byte(strings.ReplaceAll(format, "%d", strconv.Itoa(i))))
	}
}

// expectEach reads one line from every client and checks it; %d in want
// is the client's index.
func (cr *crowd) expectEach(want string) {
	cr.t.Helper()
	for i, c := range cr.clients {
		c.expect(strings.ReplaceAll(want, "%d", strconv.Itoa(i)))
	}
}

// expectGoneEach checks that the server has closed every connection
// without a further line.
func (cr *crowd) expectGoneEach() {
	cr.t.Helper()
	for _, c := range cr.clients {
		c.expectGone()
	}
}

// close closes every connection, with a reset if asked.
func (cr *crowd) close(reset bool) {
	for _, c := range cr.clients {
		if reset {
			c.reset()
		} else {
			c.conn.Close()
		}
	}
	cr.clients = nil
}
