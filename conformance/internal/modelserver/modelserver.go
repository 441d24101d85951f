// Package modelserver serves the model of PROTOCOL.md over TCP: the ideal
// server against which the conformance scripts and the model checker are
// themselves checked, and, with a Fault, the deliberately broken servers
// that prove they have teeth. Bugs (bugs.go) names a few of those faults so
// that "chatconform -serve-model -bug NAME" can run them as a process.
package modelserver

import (
	"errors"
	"fmt"
	"log/slog"
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
	// log, if not nil, gets a record per connection opened and closed.
	log *slog.Logger
}

// Fault rewrites the outputs of one event, to make a deliberately broken
// server; s.State() is the model's state after the event.
type Fault func(s *Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output

// ErrUnsupported is returned (wrapped) for a flag the server does not know.
var ErrUnsupported = errors.New("flag not supported by the model server")

// Config says how Listen starts a model server.
type Config struct {
	// Addr is the host:port to listen on; "127.0.0.1:0" if empty.
	Addr string
	// Flags are server flags of PROTOCOL.md section 8, each followed by its
	// value. The model knows -max-clients only; any other flag is an error
	// wrapping ErrUnsupported.
	Flags []string
	// Fault, if not nil, rewrites the outputs of each event. It runs under
	// the server's lock, so it may keep state of its own, but then must not
	// be shared with another server.
	Fault Fault
	// CRLF is the line terminator the server writes; "\r\n" if empty.
	CRLF string
	// Logger, if not nil, gets one record per connection opened and one per
	// connection closed, for someone watching a server by hand.
	Logger *slog.Logger
}

// Start starts a model server on a loopback port. It understands the flag
// -max-clients N only. Its outputs go through fault, if not nil, and are
// terminated by crlf ("\r\n" if empty).
func Start(flags []string, fault Fault, crlf string) (*Server, error) {
	return Listen(Config{Flags: flags, Fault: fault, CRLF: crlf})
}

// Listen starts a model server as cfg says; it serves until Stop.
func Listen(cfg Config) (*Server, error) {
	mcfg, err := parseFlags(cfg.Flags)
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	crlf := cfg.CRLF
	if crlf == "" {
		crlf = "\r\n"
	}
	s := &Server{ln: ln, st: model.New(mcfg), conns: map[model.ClientID]net.Conn{}, fault: cfg.Fault, crlf: crlf, log: cfg.Logger}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// parseFlags turns server flags into the model's configuration.
func parseFlags(flags []string) (model.Config, error) {
	cfg := model.Config{}
	for i := 0; i < len(flags); i++ {
		switch flags[i] {
		case "-max-clients":
			if i+1 >= len(flags) {
				return cfg, errors.New("-max-clients needs a value")
			}
			n, err := strconv.Atoi(flags[i+1])
			if err != nil {
				return cfg, fmt.Errorf("-max-clients: %w", err)
			}
			if n <= 0 {
				return cfg, fmt.Errorf("-max-clients %d: must be positive", n)
			}
			cfg.MaxClients = n
			i++
		default:
			return cfg, fmt.Errorf("model server: %w: %s", ErrUnsupported, flags[i])
		}
	}
	return cfg, nil
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
		if s.log != nil {
			s.log.Info("connection accepted", "conn", id, "remote", c.RemoteAddr().String())
		}
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
			s.close(o.To, c, closeReason(ev))
			continue
		}
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte(o.Line + s.crlf))
	}
	if ev.Kind == model.Disconnect {
		if c, ok := s.conns[id]; ok {
			s.close(id, c, "disconnected")
		}
	}
}

// close closes the connection of id, for reason; s.mu is held.
func (s *Server) close(id model.ClientID, c net.Conn, reason string) {
	c.Close()
	delete(s.conns, id)
	if s.log != nil {
		s.log.Info("connection closed", "conn", id, "reason", reason)
	}
}

// closeReason names, for the log, why the model closed a connection during
// ev.
func closeReason(ev model.Event) string {
	switch ev.Kind {
	case model.Shutdown:
		return "shutdown"
	case model.Connect:
		return "server full"
	case model.Line:
		return "quit"
	default:
		return "closed"
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
