// Package modelserver serves the model of PROTOCOL.md over TCP, for tests:
// the ideal server against which the conformance scripts and the model
// checker are themselves checked, and, with a Fault, the deliberately broken
// servers that prove they have teeth.
package modelserver

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// Server serves the model of PROTOCOL.md over TCP: every event goes
// through model.State.Step under one lock, and the outputs are written at
// once. It is not a real server (one slow reader stalls everyone, and it
// has no output queues, idle timeout or write timeout), but it lets the
// suite's core scripts be checked against the model, independently of any
// implementation.
type Server struct {
	ln net.Listener

	mu    sync.Mutex
	st    model.State
	conns map[model.ClientID]net.Conn
	next  model.ClientID
	wg    sync.WaitGroup
	down  bool

	// fault, if not nil, rewrites the outputs of each event, to prove that
	// the suite notices a server that departs from the protocol.
	fault Fault
	// crlf is the terminator the server writes ("\r\n" if empty).
	crlf string
}

// Fault rewrites the outputs of one event, to make a deliberately broken
// server; s.State() is the model's state after the event.
type Fault func(s *Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output

// ErrUnsupported is returned (wrapped) for a flag the server does not know.
var ErrUnsupported = errors.New("flag not supported by the model server")

// Start starts a model server on a loopback port. It understands the flag
// -max-clients N only. Its outputs go through fault, if not nil, and are
// terminated by crlf ("\r\n" if empty).
func Start(flags []string, fault Fault, crlf string) (*Server, error) {
	cfg := model.Config{}
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "-max-clients":
			if i+1 >= len(flags) {
				return nil, errors.New("-max-clients needs a value")
			}
			n, err := strconv.Atoi(flags[i+1])
			if err != nil {
				return nil, err
			}
			cfg.MaxClients = n
			i++
		default:
			return nil, fmt.Errorf("model server: %w: %s", ErrUnsupported, flags[i])
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if crlf == "" {
		crlf = "\r\n"
	}
	s := &Server{ln: ln, st: model.New(cfg), conns: map[model.ClientID]net.Conn{}, fault: fault, crlf: crlf}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the address clients connect to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// State returns the model's current state; call it only from a Fault,
// which runs under the server's lock.
func (s *Server) State() model.State { return s.st }

// Log returns nothing: the model server writes no log.
func (s *Server) Log() string { return "" }

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.next++
		id := s.next
		s.conns[id] = c
		s.step(id, model.Event{Kind: model.Connect})
		_, open := s.conns[id]
		s.mu.Unlock()
		if open {
			s.wg.Add(1)
			go s.read(id, c)
		}
	}
}

// read frames c's bytes as the model's events (spec.Framer, the framing
// every model-vs-server check shares) and steps the model with each, until
// the server or the client closes the connection.
func (s *Server) read(id model.ClientID, c net.Conn) {
	defer s.wg.Done()
	var fr spec.Framer
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		var evs []model.Event
		for _, f := range fr.Feed(buf[:n]) {
			evs = append(evs, driver.Event(f))
		}
		if err != nil {
			evs = append(evs, model.Event{Kind: model.Disconnect}) // FRAME-10: a partial line is dropped
		}
		for _, ev := range evs {
			s.mu.Lock()
			s.step(id, ev)
			_, open := s.conns[id]
			s.mu.Unlock()
			if !open {
				return
			}
		}
	}
}

// step applies one event and performs its outputs; s.mu is held.
func (s *Server) step(id model.ClientID, ev model.Event) {
	var outs []model.Output
	s.st, outs = s.st.Step(id, ev)
	if s.fault != nil {
		outs = s.fault(s, id, ev, outs)
	}
	for _, o := range outs {
		c, ok := s.conns[o.To]
		if !ok {
			continue
		}
		if o.Close {
			c.Close()
			delete(s.conns, o.To)
			continue
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(o.Line + s.crlf))
	}
	if ev.Kind == model.Disconnect {
		if c, ok := s.conns[id]; ok {
			c.Close()
			delete(s.conns, id)
		}
	}
}

// Shutdown stops accepting and tells every client, as SHUT-1 says.
func (s *Server) Shutdown() error {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down {
		s.down = true
		s.step(0, model.Event{Kind: model.Shutdown})
	}
	return nil
}

// Stop shuts the server down and waits for its goroutines.
func (s *Server) Stop() error {
	s.Shutdown()
	s.wg.Wait()
	return nil
}
