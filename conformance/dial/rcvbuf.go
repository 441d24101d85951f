package dial

import (
	"fmt"
	"syscall"
)

// RcvBufControl returns a net.Dialer.Control that sets the socket's
// receive buffer to n bytes before it connects, so that the window it
// offers is small from the handshake on: a client that then stops reading
// fills the server's socket soon.
func RcvBufControl(n int) func(network, address string, rc syscall.RawConn) error {
	return func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = setRcvBuf(fd, n) }); err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set SO_RCVBUF to %d: %w", n, serr)
		}
		return nil
	}
}
