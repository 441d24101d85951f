package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roomchat.dev/roomchat/spec"
)

// IdleResult is the outcome of the idle scenario.
type IdleResult struct {
	Dialect      string  `json:"dialect,omitempty"` // "plain" for a plain relay; "" for the protocol
	Connections  int     `json:"connections"`
	Rooms        int     `json:"rooms,omitempty"`  // -idle-rooms: the connections joined that many rooms
	Serial       bool    `json:"serial,omitempty"` // -idle-serial: set up one after another
	Opened       int     `json:"opened"`           // registered (and joined) successfully
	SetupSeconds float64 `json:"setup_seconds"`
	SetupPerSec  float64 `json:"setup_per_sec"` // connections set up (dial, USERNAME, OK) per second
	HoldSeconds  float64 `json:"hold_seconds"`
	Answered     int     `json:"answered"` // answered PING with PONG after the hold
	Failed       int     `json:"failed"`   // failed to register or to answer PING
	Memory       *Memory `json:"server,omitempty"`
	// Join is what the joins cost, with -idle-rooms.
	Join *JoinResult `json:"join,omitempty"`
	// Profiles are the pprof files written (-profile).
	Profiles []string `json:"profiles,omitempty"`
}

// Memory is the server's memory around the idle scenario.
type Memory struct {
	RSSBeforeKB     int64 `json:"rss_before_kb"`      // before the first idle connection
	RSSAfterSetupKB int64 `json:"rss_after_setup_kb"` // once all were registered (and had every JOIN line)
	RSSAfterHoldKB  int64 `json:"rss_after_hold_kb"`  // after the hold, before the PINGs
	PeakRSSKB       int64 `json:"peak_rss_kb"`
	// BytesPerConn is (RSS after hold - RSS before) / connections opened,
	// or, if the load scenario ran during the hold, (RSS after setup - RSS
	// before) / connections opened, so as not to count the load's memory.
	BytesPerConn float64 `json:"bytes_per_conn"`
	Basis        string  `json:"bytes_per_conn_basis"` // "after hold" or "after setup"
}

// idleSet is the open idle connections: conns in the lobby (no reader),
// or idlers, in rooms or on a plain relay.
type idleSet struct {
	conns    []net.Conn // in the lobby; nil where setup failed
	idlers   []*idler   // in rooms, or on a plain relay; nil where setup failed
	addr     string
	ready    time.Time // when setup ended
	before   *procSample
	prof     *profiles
	problems []string
	res      *IdleResult
}

// openIdle opens cfg.Idle connections, each registered as idle<i>, and,
// with cfg.IdleRooms, joined to its room; or, in the plain dialect, just
// connected. It returns once every one is set up: registered, or in the
// relay's set.
func openIdle(ctx context.Context, cfg *Config, srv node, deadline time.Time, prog *progress) *idleSet {
	prog.set("idle", func() string { return "waiting for the server's RSS to settle" })
	s := &idleSet{
		addr:   srv.addr,
		before: settledSample(ctx, srv.pid, 10*time.Second),
		res:    &IdleResult{Connections: cfg.Idle, Rooms: cfg.IdleRooms, Serial: cfg.IdleSerial},
	}
	if cfg.plain() {
		s.res.Dialect = "plain"
	}
	s.prof = startProfiles(ctx, cfg, srv, "idle-", false)
	var opened atomic.Int64
	prog.set("idle", func() string { return fmt.Sprintf("opened %d/%d", opened.Load(), cfg.Idle) })
	workers := setupWorkers
	if cfg.IdleSerial {
		workers = 1
	}
	t := time.Now()
	var errs []error
	switch {
	case cfg.plain() || cfg.IdleRooms > 0:
		s.idlers = make([]*idler, cfg.Idle)
		errs = parallelN(ctx, cfg.Idle, workers, func(i int) error {
			var c *idler
			var err error
			if cfg.plain() {
				c, err = dialIdler(ctx, srv.addr, i, true, deadline)
			} else {
				c, err = joinIdler(ctx, cfg, srv.addr, i, deadline)
			}
			if c != nil && err != nil {
				c.close()
				c = nil
			}
			if err != nil {
				return err
			}
			s.idlers[i] = c
			opened.Add(1)
			return nil
		})
	default:
		s.conns = make([]net.Conn, cfg.Idle)
		errs = parallelN(ctx, cfg.Idle, workers, func(i int) error {
			c, err := openOne(ctx, srv.addr, i, deadline)
			if err != nil {
				return err
			}
			s.conns[i] = c
			opened.Add(1)
			return nil
		})
	}
	s.problems = summarizeErrs("idle setup", errs)
	switch {
	case cfg.plain():
		prog.set("idle", func() string { return "BARRIER until every connection has one" })
		if err := settlePlain(ctx, srv.addr, s.idlers, 1, deadline); err != nil {
			s.problems = append(s.problems, fmt.Sprintf("idle setup: %v", err))
		}
	case cfg.IdleRooms > 0:
		prog.set("idle", func() string { return "PING until every member has every JOIN line" })
		lines, joins, problems := settleRooms(ctx, cfg, s.idlers)
		s.problems = append(s.problems, problems...)
		s.res.Join = &JoinResult{Lines: lines, JoinNotes: joins}
	}
	d := time.Since(t)
	s.ready = time.Now()
	s.res.Opened = int(opened.Load())
	s.res.Failed = cfg.Idle - s.res.Opened
	s.res.SetupSeconds = d.Seconds()
	s.res.SetupPerSec = float64(s.res.Opened) / d.Seconds()
	if s.before != nil {
		if after := sample(srv.pid); after != nil {
			s.res.Memory = &Memory{RSSBeforeKB: s.before.rssKB, RSSAfterSetupKB: after.rssKB}
			if j := s.res.Join; j != nil {
				j.Seconds = d.Seconds()
				j.Server = usage(s.before, after, j.Lines)
			}
		}
	}
	return s
}

// openOne connects idle connection i and registers it.
func openOne(ctx context.Context, addr string, i int, deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	name := idleName(i)
	hello := spec.Command{Kind: spec.Username, Arg: name}.String()
	if err := exchange(c, hello, spec.OKLine(spec.OKWelcome(name)).String(), deadline); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// finish waits out the hold, measures the server, checks that every idle
// connection answers PING (or, on a plain relay, receives a BARRIER line),
// and closes them.
func (s *idleSet) finish(ctx context.Context, cfg *Config, srv node, deadline time.Time, prog *progress) (*IdleResult, []string) {
	loaded := cfg.Clients > 0
	prog.set("hold", func() string { return fmt.Sprintf("%d connections", s.res.Opened) })
	if wait := time.Until(s.ready.Add(cfg.Hold)); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	s.res.HoldSeconds = time.Since(s.ready).Seconds()
	if m := s.res.Memory; m != nil {
		if after := sample(srv.pid); after != nil {
			m.RSSAfterHoldKB, m.PeakRSSKB = after.rssKB, after.hwmKB
			m.Basis, m.BytesPerConn = "after hold", float64(after.rssKB-m.RSSBeforeKB)*1024/float64(max(s.res.Opened, 1))
			if loaded {
				m.Basis, m.BytesPerConn = "after setup", float64(m.RSSAfterSetupKB-m.RSSBeforeKB)*1024/float64(max(s.res.Opened, 1))
			}
		}
	}
	s.problems = append(s.problems, s.prof.finish(ctx, srv)...)
	s.res.Profiles = s.prof.written()
	var answered atomic.Int64
	prog.set("ping", func() string { return fmt.Sprintf("answered %d/%d", answered.Load(), s.res.Opened) })
	var errs []error
	switch {
	case cfg.plain():
		if err := settlePlain(ctx, s.addr, s.idlers, plainAlive, deadline); err != nil {
			errs = append(errs, fmt.Errorf("after the hold: %w", err))
		} else {
			answered.Store(int64(s.res.Opened))
		}
	case s.idlers != nil:
		errs = parallel(ctx, len(s.idlers), func(i int) error {
			c := s.idlers[i]
			if c == nil {
				return nil // counted as failed at setup
			}
			if _, err := c.ping(ctx, idleAlive); err != nil {
				return fmt.Errorf("after the hold: %w", err)
			}
			answered.Add(1)
			return nil
		})
	default:
		errs = parallel(ctx, len(s.conns), func(i int) error {
			c := s.conns[i]
			if c == nil {
				return nil // counted as failed at setup
			}
			tok := strconv.Itoa(i)
			ping := spec.Command{Kind: spec.Ping, Text: tok}.String()
			if err := exchange(c, ping, spec.PongLine(tok).String(), deadline); err != nil {
				return fmt.Errorf("%s: after the hold: %w", idleName(i), err)
			}
			answered.Add(1)
			return nil
		})
	}
	s.close()
	s.res.Answered = int(answered.Load())
	s.res.Failed = cfg.Idle - s.res.Answered
	return s.res, append(s.problems, summarizeErrs("idle PING", errs)...)
}

// close closes every idle connection.
func (s *idleSet) close() {
	for i, c := range s.conns {
		if c != nil {
			c.Close()
			s.conns[i] = nil
		}
	}
	for i, c := range s.idlers {
		if c != nil {
			c.close()
			s.idlers[i] = nil
		}
	}
}

// exchange sends line and checks that the next line received is want.
func exchange(c net.Conn, line, want string, deadline time.Time) error {
	c.SetDeadline(deadline)
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return err
	}
	var buf [256]byte
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			got := string(bytes.TrimSuffix(buf[:i], []byte("\r")))
			if got != want {
				return fmt.Errorf("%s answered %q, want %q", line, got, want)
			}
			if i+1 < n {
				return fmt.Errorf("%s answered %q, then unexpected %q", line, got, buf[i+1:n])
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", line, err)
		}
		if n == len(buf) {
			return fmt.Errorf("%s answered an overlong line %q", line, buf[:n])
		}
	}
}

// parallel calls f(0..n-1) from setupWorkers goroutines and returns the
// errors, stopping early when ctx is done.
func parallel(ctx context.Context, n int, f func(i int) error) []error {
	return parallelN(ctx, n, setupWorkers, f)
}

// parallelN calls f(0..n-1) from workers goroutines and returns the
// errors, stopping early when ctx is done.
func parallelN(ctx context.Context, n, workers int, f func(i int) error) []error {
	var (
		next atomic.Int64
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if ctx.Err() != nil {
					mu.Lock()
					errs = append(errs, ctx.Err())
					mu.Unlock()
					return
				}
				if err := f(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// summarizeErrs turns errs into one problem, quoting the first few, or
// returns nil.
func summarizeErrs(what string, errs []error) []string {
	if len(errs) == 0 {
		return nil
	}
	const show = 3
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d failed", what, len(errs))
	for _, err := range errs[:min(show, len(errs))] {
		b.WriteString("\n    " + err.Error())
	}
	if len(errs) > show {
		b.WriteString("\n    ...")
	}
	return []string{b.String()}
}
