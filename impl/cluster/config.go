package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults for the zero fields of [Config].
const (
	DefaultStream     = "ROOMCHAT"
	DefaultSubject    = "roomchat"
	DefaultHeartbeat  = 250 * time.Millisecond
	DefaultDeadAfter  = 2 * time.Second
	DefaultQueueLen   = 4096
	DefaultQueueBytes = 16 << 20
	DefaultDuplicates = 2 * time.Minute
)

// Config configures a [Link].
type Config struct {
	// URL is the NATS server's URL (several may be given, separated by
	// commas, as nats.go accepts them).
	URL string
	// Stream is the name of the JetStream stream that holds the log;
	// default [DefaultStream].
	Stream string
	// Subject is the prefix of the subjects: entries are published on
	// "<Subject>.log.<Node>" and stored by the stream (filter
	// "<Subject>.log.*"), heartbeats on "<Subject>.hb.<Node>"; default
	// [DefaultSubject].
	Subject string
	// Node is this node's ID, which must be unique per process start (see
	// [NewNode]): 1 to [MaxNodeLen] ASCII letters, digits, '-' or '_'.
	Node string
	// Heartbeat is how often the node says it is alive; default
	// [DefaultHeartbeat].
	Heartbeat time.Duration
	// DeadAfter is how long a node that was heard from must stay silent
	// to be reported dead; default [DefaultDeadAfter]. At least twice
	// Heartbeat.
	DeadAfter time.Duration
	// QueueLen and QueueBytes bound the entries accepted by TryPublish and
	// not yet stored (besides the one being published): in number, default
	// [DefaultQueueLen], and in bytes of data, default [DefaultQueueBytes].
	QueueLen   int
	QueueBytes int
	// Duplicates is the stream's duplicate window, used only when Dial
	// creates the stream; default [DefaultDuplicates], at least 100 ms. The
	// publisher does not depend on it for retries that come later (see
	// [Link.TryPublish]).
	Duplicates time.Duration
	// Logger receives the link's log; nil discards it.
	Logger *slog.Logger
}

// withDefaults returns c with its zero fields set to their defaults, or an
// error if a field is invalid.
func (c Config) withDefaults() (Config, error) {
	if c.URL == "" {
		return c, errors.New("cluster: no NATS URL")
	}
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if !validStream(c.Stream) {
		return c, fmt.Errorf("cluster: invalid stream name %q", c.Stream)
	}
	if c.Subject == "" {
		c.Subject = DefaultSubject
	}
	if !validSubject(c.Subject) {
		return c, fmt.Errorf("cluster: invalid subject prefix %q", c.Subject)
	}
	if !validNode(c.Node) {
		return c, fmt.Errorf("cluster: invalid node ID %q: want 1 to %d letters, digits, '-' or '_'", c.Node, MaxNodeLen)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.DeadAfter == 0 {
		c.DeadAfter = DefaultDeadAfter
	}
	if c.Heartbeat < 0 || c.DeadAfter < 2*c.Heartbeat {
		return c, fmt.Errorf("cluster: DeadAfter %v must be at least twice Heartbeat %v", c.DeadAfter, c.Heartbeat)
	}
	if c.QueueLen <= 0 {
		c.QueueLen = DefaultQueueLen
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.Duplicates == 0 {
		c.Duplicates = DefaultDuplicates
	}
	if c.Duplicates < 100*time.Millisecond {
		return c, fmt.Errorf("cluster: Duplicates %v is less than 100ms", c.Duplicates)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
