//go:build unix

package impl

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoopReadsAFlood: when a reader's buffer holds no complete line and
// its last read filled it, the loop reads the socket itself, without
// waiting, and goes on with the lines; the reader is resumed once the
// socket has nothing more. A client writes 1,800 PINGs, more than the
// reader's buffer holds, before its reader hands over its first batch:
// one turn answers them all, in order.
func TestLoopReadsAFlood(t *testing.T) {
	h := newHandLoop(t, Config{CoalesceDelay: -1})
	c, peer := connectUnix(t, h)
	const n = 1800
	var stream strings.Builder
	for i := range n {
		fmt.Fprintf(&stream, "PING %04d\r\n", i)
	}
	if stream.Len() <= readBuffer || n > (turnReads-2)*readBatch { // a batch may end short at the end of a buffer
		t.Fatalf("%d bytes in %d lines: the test needs more than a buffer, in few enough lines for one turn", stream.Len(), n)
	}
	// A stream socket's write puts its bytes in the other end's queue
	// before it returns: they are all there to read without waiting.
	if _, err := peer.Write([]byte(stream.String())); err != nil {
		t.Fatal(err)
	}
	readerOf(c, c.conn, readBuffer)

	var ev readEvent
	c.read(&ev, nil) // what its reader does: one read, a buffer full
	ev.c = c
	h.l.fromReader(ev)
	h.l.settle()
	pongs := bufio.NewReader(peer)
	peer.SetReadDeadline(time.Now().Add(failAfter))
	for i := range n {
		line, err := pongs.ReadString('\n')
		if want := fmt.Sprintf("PONG %04d\r\n", i); line != want || err != nil {
			t.Fatalf("got %q, %v; want %q", line, err, want)
		}
	}
	select {
	case <-c.resumeIn:
	default:
		t.Fatal("the reader was not resumed once the socket had nothing more")
	}
}

// connectUnix adds a client on one end of a pair of connected Unix
// sockets, a socket the loop can read and write without waiting, as
// connect does on a pipe, and returns the other end.
func connectUnix(t *testing.T, h *handLoop) (*client, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), fmt.Sprintf("socketpair %d", i))
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conns[i].Close() })
	}
	c := h.adopt(conns[0])
	if c.raw == nil {
		t.Fatal("no raw connection on a Unix socket")
	}
	return c, conns[1]
}
