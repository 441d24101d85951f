package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Subjects under the prefix (Config.Subject): a node's entries go to
// "<prefix>.log.<node>" (all of them in the stream, through the filter
// "<prefix>.log.*"), its heartbeats to "<prefix>.hb.<node>", which no stream
// stores. The node's own subject lets its publisher ask the stream for the
// last entry it stored (see publish.go).
const (
	logToken = ".log."
	hbToken  = ".hb."
)

// MaxNodeLen is the longest node ID that Dial accepts.
const MaxNodeLen = 64

// NewNode returns a random node ID of 16 hexadecimal digits, for a caller
// that has no ID of its own: one per process start.
func NewNode() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// validNode reports whether id can be a node ID: 1 to [MaxNodeLen] ASCII
// letters, digits, '-' or '_'. That makes it one subject token and a valid
// part of a consumer name.
func validNode(id string) bool {
	if id == "" || len(id) > MaxNodeLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validSubject reports whether s is a literal subject of one or more
// tokens, as a prefix: no wildcards, no empty tokens, no white space.
func validSubject(s string) bool {
	if s == "" {
		return false
	}
	for tok := range strings.SplitSeq(s, ".") {
		if tok == "" || tok == "*" || tok == ">" {
			return false
		}
		if strings.ContainsAny(tok, " \t\r\n*>") {
			return false
		}
	}
	return true
}

// validStream reports whether name can be a stream name: printable ASCII
// with none of " .*>/\".
func validStream(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(".*>/\\", c) >= 0 {
			return false
		}
	}
	return true
}

// names are the subjects and the stream of one Link.
type names struct {
	stream string // the stream's name
	filter string // the stream's subject: "<prefix>.log.*"
	log    string // prefix of the entries' subjects: "<prefix>.log."
	hb     string // prefix of the heartbeats' subjects: "<prefix>.hb."
}

func newNames(stream, prefix string) names {
	return names{
		stream: stream,
		filter: prefix + logToken + "*",
		log:    prefix + logToken,
		hb:     prefix + hbToken,
	}
}

// entrySubject returns the subject of node's entries.
func (n names) entrySubject(node string) string { return n.log + node }

// hbSubject returns the subject of node's heartbeats.
func (n names) hbSubject(node string) string { return n.hb + node }

// entryNode returns the node that published an entry on subject, from its
// last token, or an error if subject is not an entry subject of n. The
// stream's filter lets only one token follow the prefix, so an error means
// that the stream holds subjects that are not ours.
func (n names) entryNode(subject string) (string, error) {
	return nodeFrom(subject, n.log)
}

// hbNode returns the node whose heartbeat came on subject, or an error.
func (n names) hbNode(subject string) (string, error) {
	return nodeFrom(subject, n.hb)
}

func nodeFrom(subject, prefix string) (string, error) {
	node, ok := strings.CutPrefix(subject, prefix)
	if !ok || node == "" || strings.ContainsAny(node, ". \t\r\n") {
		return "", fmt.Errorf("cluster: subject %q is not %q followed by one token", subject, prefix)
	}
	return node, nil
}
