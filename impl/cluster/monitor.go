package cluster

import (
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
)

// monitor is the goroutine of heartbeats and connection changes. Every
// Config.Heartbeat it publishes a heartbeat (core NATS, not stored) and
// looks for nodes silent for Config.DeadAfter; it hears the others'
// heartbeats on beats; and it delivers Dead and Up reports when the loop
// takes them, keeping the ones not yet taken (all Dead reports, the latest
// Up state), so it never waits for the loop.
//
// A node hears its own heartbeats too. One that has not heard its own for
// half of DeadAfter declares nobody dead: the silence it sees may be its
// own (a paused process) or the NATS server's (a frozen one) rather than
// the others'. When it hears itself again, it gives everyone DeadAfter
// from then, as after a reconnection.
func (l *Link) monitor(beats <-chan *nats.Msg) {
	defer l.wg.Done()
	var (
		seen    = map[string]time.Time{} // live nodes: when last heard
		dead    = map[string]bool{}      // nodes reported dead, never again heard
		pending []string                 // dead nodes not yet taken by the loop
		sentUp  = true                   // the state the loop has: connected when Dial returned
		self    = time.Now()             // when this node last heard its own heartbeat
		deaf    bool                     // it went without hearing itself too long
	)
	up, state := l.conn.get()
	tick := time.NewTicker(l.cfg.Heartbeat)
	defer tick.Stop()
	l.beat()
	for {
		var deadOut chan<- string
		var first string
		if len(pending) > 0 {
			deadOut, first = l.dead, pending[0]
		}
		var upOut chan<- bool
		if up != sentUp {
			upOut = l.up
		}
		select {
		case m := <-beats:
			node, err := l.names.hbNode(m.Subject)
			if err == nil && node == l.cfg.Node {
				self = time.Now()
				if deaf {
					deaf = false
					for n := range seen {
						seen[n] = self
					}
				}
				continue
			}
			if err != nil || dead[node] {
				continue
			}
			if _, ok := seen[node]; !ok {
				l.log.Info("cluster: node alive", slog.String("peer", node))
				if l.hooks.seen != nil {
					l.hooks.seen(node)
				}
			}
			seen[node] = time.Now()
		case <-tick.C:
			l.beat()
			if !up {
				break
			}
			now := time.Now()
			if now.Sub(self) >= l.cfg.DeadAfter/2 {
				deaf = true // not sure whose silence this is
				break
			}
			for node, t := range seen {
				if now.Sub(t) >= l.cfg.DeadAfter {
					l.log.Warn("cluster: node dead", slog.String("peer", node), slog.Duration("silent", now.Sub(t)))
					delete(seen, node)
					dead[node] = true
					pending = append(pending, node)
				}
			}
		case <-state.Done():
			up, state = l.conn.get()
			if up {
				// Nobody was heard while this node was away: give
				// everyone DeadAfter from now.
				now := time.Now()
				for node := range seen {
					seen[node] = now
				}
				self = now
			}
		case deadOut <- first:
			pending[0] = ""
			pending = pending[1:]
		case upOut <- up:
			sentUp = up
		case <-l.ctx.Done():
			return
		}
	}
}

// beat publishes a heartbeat. While disconnected it fails at once (there
// is no reconnect buffer), and nobody misses it.
func (l *Link) beat() {
	if l.hooks.silent != nil && l.hooks.silent.Load() {
		return
	}
	if err := l.nc.Publish(l.names.hbSubject(l.cfg.Node), nil); err != nil {
		l.log.Debug("cluster: heartbeat not sent", slog.Any("err", err))
	}
}
