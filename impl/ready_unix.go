//go:build unix

package impl

import (
	"net"
	"syscall"
)

// readinessWaiter returns a function that waits until conn has something
// to read (bytes, the end of the stream or an error) without reading it,
// so that the reader holds no buffer while it waits; or nil if conn is not
// a socket.
func readinessWaiter(conn net.Conn) func() error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return func() error { return rc.Read(readable) }
}

// readable is a syscall.RawConn.Read callback: it reports whether the
// socket fd has something to read, peeking at one byte. If not, RawConn.Read
// waits until the poller says it may have, and asks again.
func readable(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN
}
