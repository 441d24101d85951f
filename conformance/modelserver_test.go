package conformance

import (
	"errors"
	"fmt"
	"testing"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
)

// modelServer is the model of PROTOCOL.md served over TCP: the suite's
// scripts are checked against it, independently of any implementation.
type modelServer = modelserver.Server

var _ Restarter = (*modelServer)(nil)

// startModelServer is a StartFunc; it understands the flags of
// modelserver.Flags only.
func startModelServer(flags []string) (Server, error) {
	return startFaultyModelServer(flags, nil, "")
}

// startFaultyModelServer starts a model server whose outputs go through
// fault, terminated by crlf.
func startFaultyModelServer(flags []string, fault modelserver.Fault, crlf string) (*modelServer, error) {
	s, err := modelserver.Start(flags, fault, crlf)
	if errors.Is(err, modelserver.ErrUnsupported) {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return s, err
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
