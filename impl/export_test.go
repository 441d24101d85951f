package impl

import (
	"errors"
	"net"
)

// ServeConnForTest hands conn to the server as if Serve had accepted it, so
// that benchmarks can use in-memory connections. It fails after Shutdown.
func (s *Server) ServeConnForTest(conn net.Conn) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return errors.New("impl: server closed")
	}
	s.startLoopLocked()
	s.wg.Add(1) // as a Serve call would hold it, for refusals
	s.mu.Unlock()
	defer s.wg.Done()
	s.handle(conn)
	return nil
}
