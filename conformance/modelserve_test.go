package conformance

import (
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
)

// TestModelBugsCatalogue checks the catalogue itself: at least three bugs,
// unique names that -bug can take, each breaking rules that PROTOCOL.md
// has, and a copy for the caller.
func TestModelBugsCatalogue(t *testing.T) {
	bugs := ModelBugs()
	if len(bugs) < 3 {
		t.Fatalf("%d bugs in the catalogue; want 3 at least", len(bugs))
	}
	seen := map[string]bool{}
	for _, b := range bugs {
		if b.Name == "" || b.Name == "list" || strings.ContainsAny(b.Name, " \t") || seen[b.Name] {
			t.Errorf("bug name %q: want a unique word other than list", b.Name)
		}
		seen[b.Name] = true
		if b.Doc == "" || len(b.Rules) == 0 {
			t.Errorf("%s: no Doc or no Rules", b.Name)
		}
		for _, id := range b.Rules {
			if !slices.ContainsFunc(Requirements, func(r Requirement) bool { return r.ID == id }) {
				t.Errorf("%s breaks %s, which is not a rule of PROTOCOL.md", b.Name, id)
			}
		}
	}
	bugs[0].Rules[0] = "changed"
	if ModelBugs()[0].Rules[0] == "changed" {
		t.Errorf("ModelBugs shares its Rules with the catalogue")
	}
}

// TestStartModelServer checks the errors of StartModelServer and that it
// listens where it is told to.
func TestStartModelServer(t *testing.T) {
	if _, err := StartModelServer(ModelServerConfig{Bug: "no-such-bug"}); err == nil || !strings.Contains(err.Error(), ModelBugs()[0].Name) {
		t.Errorf("unknown bug: err = %v; want an error listing the bugs", err)
	}
	_, err := StartModelServer(ModelServerConfig{Flags: []string{"-max-queue-bytes", "65536"}})
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("-max-queue-bytes: err = %v; want ErrUnsupported, so that the runner skips the script", err)
	}

	// A port picked here, then given to the server: it must listen there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	srv, err := StartModelServer(ModelServerConfig{Addr: addr, Flags: []string{"-max-clients", "1"}, Bug: ModelBugs()[0].Name})
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer srv.Stop()
	if srv.Addr() != addr {
		t.Errorf("Addr() = %s; want %s", srv.Addr(), addr)
	}
	r, err := NewRunner(Config{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Preflight(); err != nil {
		t.Error(err)
	}
}
