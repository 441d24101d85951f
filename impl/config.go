package impl

import (
	"log/slog"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Config holds the limits of PROTOCOL.md section 8, one tuning knob and the
// logger. The zero value of every limit (and any negative value) means the
// protocol's default from package spec. HistoryLen and MaxLineLen are fixed
// by the protocol and are not configurable.
type Config struct {
	// MaxClients is the number of simultaneous connections, in every state,
	// beyond which a new connection is refused with "ERROR Server full"
	// (LIMIT-1, LIMIT-2). Default spec.MaxClients.
	MaxClients int
	// MaxQueueBytes caps a client's pending output; a client over it is a
	// slow consumer (LIMIT-4). It should comfortably exceed the largest
	// single reply, such as a JOIN's roster and history. Default
	// spec.MaxQueueBytes.
	MaxQueueBytes int
	// WriteTimeout is how long a socket may accept no byte while output is
	// pending before its client is a slow consumer (LIMIT-4). Default
	// spec.WriteTimeout.
	WriteTimeout time.Duration
	// StallBudget bounds pacing (LIMIT-9): the time during which lines are
	// postponed on account of one client, over its whole connection, and
	// the time one client's lines are postponed on account of others, in
	// all over its connection. Default spec.StallBudget; a
	// negative value turns pacing off, so that output is only queued.
	StallBudget time.Duration
	// IdleTimeout is how long a connection may send no line before it is
	// closed with "ERROR Idle timeout" (LIMIT-7). Default spec.IdleTimeout.
	IdleTimeout time.Duration
	// LineRate, if positive, limits how many lines a second are read from
	// each client, with a token bucket of LineBurst lines (LIMIT-11). Lines
	// are read more slowly, never refused. Zero (or negative) means no limit.
	LineRate float64
	// LineBurst is the size of the token bucket of LineRate. Default
	// spec.RateBurst.
	LineBurst int
	// CoalesceDelay is how long output to a client that was written to
	// less than CoalesceDelay ago may wait, so that what follows goes out
	// in the same write (flush.go). Replies to the client's own lines never
	// wait. Zero means DefaultCoalesceDelay; a negative value writes every
	// line at once.
	CoalesceDelay time.Duration
	// Logger receives, at the info level, the server's own events, the
	// counts of connections accepted, refused and closed (by reason) every
	// LogInterval, and one record per slow consumer dropped and per stall
	// budget spent; at the debug level, one record per connection accepted,
	// refused and closed, with its reason, and one per line received (log.go).
	// Nil discards everything.
	Logger *slog.Logger
	// LogInterval is how often the counts of connections are logged, if
	// anything happened meanwhile. Default DefaultLogInterval; a negative
	// value turns the counts off.
	LogInterval time.Duration
}

// DefaultCoalesceDelay is the default of Config.CoalesceDelay.
const DefaultCoalesceDelay = time.Millisecond

// DefaultLogInterval is the default of Config.LogInterval.
const DefaultLogInterval = 10 * time.Second

// withDefaults returns c with every unset field replaced by its default.
func (c Config) withDefaults() Config {
	if c.MaxClients <= 0 {
		c.MaxClients = spec.MaxClients
	}
	if c.MaxQueueBytes <= 0 {
		c.MaxQueueBytes = spec.MaxQueueBytes
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = spec.WriteTimeout
	}
	if c.StallBudget == 0 {
		c.StallBudget = spec.StallBudget
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = spec.IdleTimeout
	}
	if c.LineBurst <= 0 {
		c.LineBurst = spec.RateBurst
	}
	if c.CoalesceDelay == 0 {
		c.CoalesceDelay = DefaultCoalesceDelay
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.LogInterval == 0 {
		c.LogInterval = DefaultLogInterval
	}
	return c
}

// highWater returns the pending-output level above which a client is "hot":
// the loop postpones lines that would add to its queue until it drains
// below lowWater or its stall budget is spent (flow.go). A quarter of the
// hard cap leaves room for the largest single reply on top of it.
func (c Config) highWater() int { return max(c.MaxQueueBytes/4, 1) }

// lowWater returns the level a hot client must drain to before the senders
// waiting on it are resumed.
func (c Config) lowWater() int { return c.highWater() / 2 }
