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
	"os"
	"slices"
	"strconv"
	"strings"
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
// suite's scripts be checked against the model, independently of any
// implementation. It offers the extensions of section 13 (unless told
// otherwise with -extensions), reads the wall clock into the model before
// each line (a Time event), so that messages have real times, slows
// failed logins as ACCT-5 says (login.go), and restarts in process,
// keeping what the model keeps (HIST-5).
type Server struct {
	mu    sync.Mutex
	ln    net.Listener // owned by mu: Restart replaces it
	shut  bool         // ln is closed: a connection it accepted is refused
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
	// state, if not nil, is the file every event is appended to
	// (Config.State); owned by mu.
	state *os.File
	// limits are those of ACCT-5 (login.go), logins what their pacing
	// remembers (owned by mu).
	limits loginLimits
	logins loginState
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
	// Flags are server flags of PROTOCOL.md sections 8 and 13, each
	// followed by its value. The server knows those of Flags only: of
	// section 8 -max-clients, those of section 13, and -extensions, as
	// the reference server has it (a list such as accounts,history,rooms,
	// or none; by default all are offered). Any other flag is an error wrapping
	// ErrUnsupported.
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
	// State, if not "", is a file that keeps the model's state across
	// processes: every event is appended to it before its outputs are
	// performed, and a server started with a file that holds events
	// replays them and then restarts (HIST-5), as a durable server
	// restarted or killed would.
	State string
}

// Start starts a model server on a loopback port. It understands the flags
// of Flags only. Its outputs go through fault, if not nil, and are
// terminated by crlf ("\r\n" if empty).
func Start(flags []string, fault Fault, crlf string) (*Server, error) {
	return Listen(Config{Flags: flags, Fault: fault, CRLF: crlf})
}

// Listen starts a model server as cfg says; it serves until Stop.
func Listen(cfg Config) (*Server, error) {
	mcfg, limits, err := parseFlags(cfg.Flags)
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
	s := &Server{ln: ln, st: model.New(mcfg), conns: map[model.ClientID]net.Conn{}, fault: cfg.Fault, crlf: crlf, log: cfg.Logger, limits: limits}
	if cfg.State != "" {
		if err := s.openState(cfg.State); err != nil {
			ln.Close()
			return nil, fmt.Errorf("model server: state file: %w", err)
		}
	}
	s.wg.Add(1)
	go s.accept(ln)
	return s, nil
}

// Flags lists the server flags the model server knows, each of which
// takes a value.
var Flags = []string{"-max-clients", "-max-rooms", "-history-keep", "-history-max-age", "-login-delay", "-login-delay-max",
	"-login-burst", "-login-rate", "-extensions"}

// parseFlags turns server flags into the model's configuration and the
// server's limits of ACCT-5: by default it offers every extension of
// section 13, with the defaults of its limits.
func parseFlags(flags []string) (model.Config, loginLimits, error) {
	cfg, limits := model.Config{Offer: spec.AllExt}, defaultLoginLimits
	for i := 0; i < len(flags); i++ {
		name := flags[i]
		if !slices.Contains(Flags, name) {
			return cfg, limits, fmt.Errorf("model server: %w: %s", ErrUnsupported, name)
		}
		if i+1 >= len(flags) {
			return cfg, limits, fmt.Errorf("%s needs a value", name)
		}
		value := flags[i+1]
		i++
		var err error
		switch name {
		case "-max-clients":
			cfg.MaxClients, err = positiveInt(value)
		case "-max-rooms":
			cfg.MaxRooms, err = positiveInt(value)
		case "-history-keep":
			cfg.HistoryKeep, err = positiveInt(value)
		case "-login-burst":
			var n int
			n, err = positiveInt(value)
			limits.burst = float64(n)
		case "-history-max-age":
			cfg.HistoryMaxAge, err = positiveDuration(value)
		case "-login-delay":
			limits.delay, err = positiveDuration(value)
		case "-login-delay-max":
			limits.delayMax, err = positiveDuration(value)
		case "-login-rate":
			limits.rate, err = strconv.ParseFloat(value, 64)
			if err == nil && !(limits.rate > 0) {
				err = errors.New("must be positive")
			}
		case "-extensions":
			cfg.Offer = 0
			if value == "none" {
				break
			}
			for _, n := range strings.Split(value, ",") {
				x, ok := spec.ParseExt(n)
				if !ok {
					return cfg, limits, fmt.Errorf("-extensions: no extension %q (known: %s, or none)", n, strings.Join(spec.AllExt.Names(), ","))
				}
				cfg.Offer |= x
			}
		}
		if err != nil {
			return cfg, limits, fmt.Errorf("%s %s: %w", name, value, err)
		}
	}
	return cfg, limits, nil
}

// positiveInt parses a flag's value that must be a positive integer.
func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n <= 0 {
		err = errors.New("must be positive")
	}
	return n, err
}

// positiveDuration parses a flag's value that must be a positive
// duration.
func positiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err == nil && d <= 0 {
		err = errors.New("must be positive")
	}
	return d, err
}

// Addr is the address clients connect to.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ln.Addr().String()
}

// State returns the model's current state; call it only from a Fault,
// which runs under the server's lock.
func (s *Server) State() model.State { return s.st }

// Log returns nothing: the model server writes no log.
func (s *Server) Log() string { return "" }

func (s *Server) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.shut {
			// Accepted as the listener closed (SHUT-1: refused).
			s.mu.Unlock()
			c.Close()
			return
		}
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
			if !s.waitLogin(id, c, ev) {
				return
			}
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

// step applies one event and performs its outputs; s.mu is held. A line
// is preceded by a Time event that sets the model's clock to the wall
// clock, so that its room messages get the time they are processed at
// (HIST-1) and HistoryMaxAge counts in real time (HIST-4).
func (s *Server) step(id model.ClientID, ev model.Event) {
	s.stepOutputs(id, ev, false)
}

// stepOutputs is step; with closeOnly, it performs the closes of the
// outputs only, and writes none of their lines (a server killed).
func (s *Server) stepOutputs(id model.ClientID, ev model.Event, closeOnly bool) {
	if ev.Kind == model.Line {
		tick := model.Event{Kind: model.Time, Time: spec.FormatMsgTime(time.Now())}
		s.logEvent(id, tick)
		s.st, _ = s.st.Step(id, tick)
	}
	if err := s.logEvent(id, ev); err != nil && s.log != nil {
		s.log.Error("the event is stepped, but not kept", "err", err)
	}
	var outs []model.Output
	s.st, outs = s.st.Step(id, ev)
	if s.fault != nil {
		outs = s.fault(s, id, ev, outs)
	}
	s.noteLogins(id, outs)
	for _, o := range outs {
		c, ok := s.conns[o.To]
		if !ok {
			continue
		}
		if o.Close {
			s.close(o.To, c, closeReason(ev))
			continue
		}
		if closeOnly {
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
	s.forget(id)
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
	case model.Restart:
		return "restart"
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
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln.Close()
	s.shut = true
	if !s.down {
		s.down = true
		s.step(0, model.Event{Kind: model.Shutdown})
	}
	return nil
}

// Restart restarts the server in process, as the model's Restart event
// says (PROTOCOL.md 1.2, "server: restart"): it stops accepting, tells
// every client as SHUT-1 says and closes every connection, then listens
// again, on the same address if it can. The model keeps the accounts, the
// stored messages and the sequence of IDs (HIST-5); rooms and names are
// gone. With kill, the connections are closed without the notice, as a
// process killed would leave them; the model keeps what it keeps, which is
// what HIST-5 requires of a crash too. A server that was shut down cannot
// be restarted.
func (s *Server) Restart(kill bool) error {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return errors.New("the model server was shut down: it cannot be restarted")
	}
	addr := s.ln.Addr().String()
	s.ln.Close()
	s.shut = true
	s.stepOutputs(0, model.Event{Kind: model.Restart}, kill)
	s.mu.Unlock()
	s.wg.Wait() // the accept loop and every reader have returned
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.ln, s.shut = ln, false
	s.mu.Unlock()
	if s.log != nil {
		s.log.Info("restarted", "addr", ln.Addr().String(), "kill", kill)
	}
	s.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Stop shuts the server down and waits for its goroutines.
func (s *Server) Stop() error {
	s.Shutdown()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != nil {
		s.state.Close()
		s.state = nil
	}
	return nil
}
