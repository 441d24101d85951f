//go:build !unix

package impl

import (
	"net"
	"syscall"
)

// rawWriter is not used: every client has a writer goroutine of its own.
type rawWriter struct{}

func getRawWriter() *rawWriter { return nil }

func putRawWriter(*rawWriter) {}

// rawConnOf returns nil: writes that do not wait are not available.
func rawConnOf(net.Conn) syscall.RawConn { return nil }

// writeNow is not called when c.raw is nil.
func (c *client) writeNow(*rawWriter, []byte) (int, error) {
	panic("impl: writeNow without a raw connection")
}
