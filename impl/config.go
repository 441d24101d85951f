package impl

import (
	"log/slog"
	"time"

	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/spec"
)

// Config holds the limits of PROTOCOL.md section 8, one tuning knob, the
// logger, and the extensions of section 13 with their limits. The zero value of every limit (and any negative value) means the
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

	// The extensions of PROTOCOL.md section 13 (doc.go, "Extensions").

	// Cluster, if not nil, makes the server a node of a cluster
	// (docs/cluster.md, ClusterConfig). A node offers rooms at most, never
	// paces (StallBudget is ignored), and must be created with Open.
	Cluster *ClusterConfig

	// Offer is the set of extensions the server offers (CAPS-1). Zero, the
	// default, offers none: the server is a core server, and CAPS is a
	// text line like any other.
	Offer spec.Ext
	// DB is the path of the SQLite database that keeps accounts and
	// history durably (HIST-5). Empty keeps them in memory only, for the
	// life of the server. A server with a DB must be created with Open.
	DB string
	// HistoryKeep is how many messages are stored per room (HIST-4).
	// Default DefaultHistoryKeep.
	HistoryKeep int
	// HistoryMaxAge is the age beyond which a stored message is no longer
	// returned (HIST-4). Zero or negative: no limit.
	HistoryMaxAge time.Duration
	// LoginDelay is how long the lines of a connection wait after its
	// first failed login, doubled after each further one, up to
	// LoginDelayMax (ACCT-5). Defaults DefaultLoginDelay and
	// DefaultLoginDelayMax.
	LoginDelay    time.Duration
	LoginDelayMax time.Duration
	// LoginBurst and LoginRate are the token bucket of each source address
	// (ACCT-5): LoginBurst failed logins at once, LoginRate a second
	// sustained. Defaults DefaultLoginBurst and DefaultLoginRate.
	LoginBurst int
	LoginRate  float64
	// MaxRooms is MaxRoomsPerUser: how many rooms the user of a connection
	// that enabled rooms may be in at once (MULTI-2). Default
	// spec.MaxRoomsPerUser.
	MaxRooms int
	// Argon2 are the parameters of the password hashes made for new
	// passwords (ACCT-6). Zero means passwd.Default. Hashes already stored
	// keep their own parameters.
	Argon2 passwd.Params
	// Now is the wall clock that gives room messages their time (HIST-1).
	// Default time.Now. The server's timeouts never read it.
	Now func() time.Time
}

// DefaultCoalesceDelay is the default of Config.CoalesceDelay.
const DefaultCoalesceDelay = 500 * time.Microsecond

// DefaultLogInterval is the default of Config.LogInterval.
const DefaultLogInterval = 10 * time.Second

// The defaults of the limits of PROTOCOL.md section 13.
const (
	DefaultHistoryKeep   = 10000
	DefaultLoginDelay    = 100 * time.Millisecond
	DefaultLoginDelayMax = 5 * time.Second
	DefaultLoginBurst    = 20
	DefaultLoginRate     = 1.0
)

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
	c.Offer &= spec.AllExt
	if c.HistoryKeep <= 0 {
		c.HistoryKeep = DefaultHistoryKeep
	}
	if c.HistoryMaxAge < 0 {
		c.HistoryMaxAge = 0
	}
	if c.LoginDelay <= 0 {
		c.LoginDelay = DefaultLoginDelay
	}
	if c.LoginDelayMax <= 0 {
		c.LoginDelayMax = DefaultLoginDelayMax
	}
	c.LoginDelayMax = max(c.LoginDelayMax, c.LoginDelay)
	if c.LoginBurst <= 0 {
		c.LoginBurst = DefaultLoginBurst
	}
	if c.LoginRate <= 0 {
		c.LoginRate = DefaultLoginRate
	}
	if c.MaxRooms <= 0 {
		c.MaxRooms = spec.MaxRoomsPerUser
	}
	if c.Argon2 == (passwd.Params{}) {
		c.Argon2 = passwd.Default
	}
	if c.Now == nil {
		c.Now = time.Now
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
