//go:build !linux

package impl

import (
	"net"
	"syscall"
)

// vectored reports false: writers copy lines into one buffer (client.write).
func (c *client) vectored() bool { return false }

// writeVectored is not called where vectored is false.
func writeVectored(syscall.RawConn, net.Buffers) (int, net.Buffers, error) {
	panic("impl: writeVectored without writev")
}
