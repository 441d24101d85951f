package conformance

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
)

// A ModelBug is a deliberate bug that StartModelServer can build into the
// model server: a server that breaks one rule of PROTOCOL.md, on purpose, so
// that an implementer can see what a failure of that rule looks like, and a
// report can show the suite blaming exactly that rule.
type ModelBug struct {
	Name  string   // the name ModelServerConfig.Bug and -bug take
	Rules []string // the rule IDs of PROTOCOL.md it breaks
	Doc   string   // what the broken server does, in one sentence
}

// ModelBugs returns the catalogue of deliberate bugs, in a fixed order.
// Each makes at least one script of the suite fail, and every script it
// makes fail names one of its Rules.
func ModelBugs() []ModelBug {
	bugs := make([]ModelBug, len(modelserver.Bugs))
	for i, b := range modelserver.Bugs {
		bugs[i] = ModelBug{Name: b.Name, Rules: append([]string(nil), b.Rules...), Doc: b.Doc}
	}
	return bugs
}

// ModelServerConfig says how StartModelServer starts a model server.
type ModelServerConfig struct {
	// Addr is the host:port to listen on; "127.0.0.1:0" (a free loopback
	// port) if empty.
	Addr string
	// Flags are server flags of PROTOCOL.md sections 8 and 13, each
	// followed by its value, as a script's "# server:" header gives them.
	// The model server implements -max-clients of section 8 only, the
	// flags of section 13 (-history-keep, -history-max-age, -login-delay,
	// -login-delay-max, -login-burst, -login-rate, -max-rooms), and
	// -extensions (accounts,history,rooms, the default, or none); any
	// other flag is an error wrapping ErrUnsupported.
	Flags []string
	// Bug names one of ModelBugs to build in; "" serves the model as it is.
	Bug string
	// Logger, if not nil, gets one record per connection opened and one per
	// connection closed.
	Logger *slog.Logger
	// State, if not "", is a file that keeps the model's state across
	// processes, so that the model server survives its own restart as
	// HIST-5 says (chatconform -serve-model -state): every event is
	// appended to it before its effects, and a server started with a file
	// that holds events replays them, then restarts.
	State string
}

// StartModelServer starts the model of PROTOCOL.md as a TCP server, as cfg
// says, and returns once it listens. Every line goes through the model
// (package model) under one lock: it is the reference the suite is checked
// against, not a server for real use (one client that stops reading holds
// everyone up, and it has none of the limits of section 8 but
// -max-clients), which is why it should listen on loopback only. It offers
// the extensions of section 13, with the wall clock's times and the login
// delays of ACCT-5. Its Shutdown does what SHUT-1 says; it is a
// Restarter that restarts in process and keeps what HIST-5 says survives
// (a restart with kill sends no notice); its Log is always "".
func StartModelServer(cfg ModelServerConfig) (Server, error) {
	var fault modelserver.Fault
	if cfg.Bug != "" {
		b, ok := modelserver.FindBug(cfg.Bug)
		if !ok {
			return nil, fmt.Errorf("no model bug %q (known: %s)", cfg.Bug, strings.Join(modelBugNames(), ", "))
		}
		fault = b.Fault
	}
	s, err := modelserver.Listen(modelserver.Config{Addr: cfg.Addr, Flags: cfg.Flags, Fault: fault, Logger: cfg.Logger, State: cfg.State})
	if errors.Is(err, modelserver.ErrUnsupported) {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// modelBugNames returns the names of the bugs in the catalogue.
func modelBugNames() []string {
	var names []string
	for _, b := range modelserver.Bugs {
		names = append(names, b.Name)
	}
	return names
}
