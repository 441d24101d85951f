//go:build !unix

package impl

import "net"

// readinessWaiter returns nil: without a way to wait for readability,
// each reader keeps its buffer.
func readinessWaiter(net.Conn) func() error { return nil }
