package modelcheck

import (
	"errors"
	"net"
	"sync"
	"testing"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// modelServer is a chat server whose every decision is the model's: the
// ideal server, used to test the checker itself. A fault may rewrite the
// outputs of each step to make a deliberately broken variant.
type modelServer struct {
	ln    net.Listener
	fault func(id model.ClientID, ev model.Event, outs []model.Output) []model.Output

	mu    sync.Mutex // guards everything below; held while writing, which is fine for a test
	state model.State
	conns map[model.ClientID]net.Conn
	next  model.ClientID
	wg    sync.WaitGroup
}

func startModelServer(t testing.TB, fault func(model.ClientID, model.Event, []model.Output) []model.Output) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &modelServer{ln: ln, fault: fault, state: model.New(model.Config{}), conns: map[model.ClientID]net.Conn{}}
	s.wg.Add(1)
	go s.accept()
	return ln.Addr().String(), func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	}
}

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
		s.mu.Unlock()
		s.wg.Add(1)
		go s.read(id, c)
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
		_, open := s.conns[id]
		if open {
			s.step(id, ev)
		}
		if ev.Kind == model.Disconnect && open {
			c.Close()
			delete(s.conns, id)
		}
		s.mu.Unlock()
		if !open || ev.Kind == model.Disconnect {
			return
		}
	}
}

// step runs one event; s.mu is held.
func (s *modelServer) step(id model.ClientID, ev model.Event) {
	var outs []model.Output
	s.state, outs = s.state.Step(id, ev)
	if s.fault != nil {
		outs = s.fault(id, ev, outs)
	}
	for _, o := range outs {
		c, ok := s.conns[o.To]
		if !ok {
			continue
		}
		if o.Close {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			delete(s.conns, o.To)
			continue
		}
		c.Write([]byte(o.Line + "\r\n"))
	}
}

func TestCheckerPassesTheModelServer(t *testing.T) {
	Check(t, Target{Start: func() (string, func(), error) {
		addr, stop := startModelServer(t, nil)
		return addr, stop, nil
	}}, Options{Checks: 50})
}

func TestCheckerOnASharedServer(t *testing.T) {
	addr, stop := startModelServer(t, nil)
	defer stop()
	Check(t, Target{Addr: addr}, Options{Checks: 30})
}
