package modelcheck

import (
	"testing"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
)

// startModelServer starts the ideal server, whose every decision is the
// model's, to test the checker itself; fault, if not nil, rewrites the
// outputs of each step to make a deliberately broken variant.
func startModelServer(t testing.TB, fault func(model.ClientID, model.Event, []model.Output) []model.Output) (string, func()) {
	s, err := modelserver.Start(nil, adaptFault(fault), "")
	if err != nil {
		t.Fatal(err)
	}
	return s.Addr(), func() { s.Stop() }
}

// adaptFault makes a modelserver.Fault of fault, nil if fault is nil.
func adaptFault(fault func(model.ClientID, model.Event, []model.Output) []model.Output) modelserver.Fault {
	if fault == nil {
		return nil
	}
	return func(_ *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
		return fault(id, ev, outs)
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
