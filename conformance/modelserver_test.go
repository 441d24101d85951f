package conformance

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// modelServer serves the model of PROTOCOL.md over TCP: every event goes
// through model.State.Step under one lock, and the outputs are written at
// once. It is not a real server (one slow reader stalls everyone, and it
// has no output queues, idle timeout or write timeout), but it lets the
// suite's core scripts be checked against the model, independently of any
// implementation.
type modelServer struct {
	ln net.Listener

	mu    sync.Mutex
	st    model.State
	conns map[model.ClientID]net.Conn
	next  model.ClientID
	wg    sync.WaitGroup
	down  bool

	// fault, if not nil, rewrites the outputs of each event, to prove that
	// the suite notices a server that departs from the protocol.
	fault func(s *modelServer, id model.ClientID, ev model.Event, outs []model.Output) []model.Output
	// crlf is the terminator the server writes ("\r\n" if empty).
	crlf string
}

var _ Server = (*modelServer)(nil)

// startModelServer is a StartFunc; it understands -max-clients only.
func startModelServer(flags []string) (Server, error) {
	return startFaultyModelServer(flags, nil, "")
}

// startFaultyModelServer starts a model server whose outputs go through
// fault, terminated by crlf.
func startFaultyModelServer(flags []string, fault func(*modelServer, model.ClientID, model.Event, []model.Output) []model.Output, crlf string) (*modelServer, error) {
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
	s := &modelServer{ln: ln, st: model.New(cfg), conns: map[model.ClientID]net.Conn{}, fault: fault, crlf: crlf}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *modelServer) Addr() string { return s.ln.Addr().String() }
func (s *modelServer) Log() string  { return "" }

func (s *modelServer) accept() {
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

func (s *modelServer) read(id model.ClientID, c net.Conn) {
	defer s.wg.Done()
	lr := spec.NewLineReader(c, spec.MaxLineLen)
	for {
		line, err := lr.ReadLine()
		ev := model.Event{Kind: model.Line, Line: string(line)}
		switch {
		case errors.Is(err, spec.ErrLineOverflow):
			ev = model.Event{Kind: model.LineTooLong}
		case err != nil:
			ev = model.Event{Kind: model.Disconnect}
		}
		s.mu.Lock()
		s.step(id, ev)
		_, open := s.conns[id]
		s.mu.Unlock()
		if !open || err != nil && ev.Kind == model.Disconnect {
			return
		}
	}
}

// step applies one event and performs its outputs; s.mu is held.
func (s *modelServer) step(id model.ClientID, ev model.Event) {
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

func (s *modelServer) Shutdown() error {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.down {
		s.down = true
		s.step(0, model.Event{Kind: model.Shutdown})
	}
	return nil
}

func (s *modelServer) Stop() error {
	s.Shutdown()
	s.wg.Wait()
	return nil
}

// startModelServerT starts a model server for a whole test.
func startModelServerT(t *testing.T) string {
	srv, err := startModelServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	return srv.Addr()
}
