package impl

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The entries a cluster node publishes to the one log that orders every
// node's events (docs/cluster.md). An entry is a kind byte, the
// connection's ID as an unsigned varint, and a payload: the line for a
// line entry, the reason for an end, the node's ID for a "node gone". The
// node that published it is the log's to say (cluster.Entry.Node).

// entryKind is what happened.
type entryKind byte

const (
	entryLine     entryKind = 'L' // a line was read; payload: the line without its terminator
	entryOverlong entryKind = 'O' // an overlong line (FRAME-5); no payload
	entryEnd      entryKind = 'E' // the connection ended; payload: the CloseReason's name
	entryIdle     entryKind = 'I' // its idle timeout expired (LIMIT-7); no payload
	entryGone     entryKind = 'G' // a node is gone, its users with it; conn 0, payload: the node's ID
)

// entry is one decoded log entry.
type entry struct {
	kind    entryKind
	conn    uint64
	payload []byte
}

// errBadEntry is the error of an entry that is not one of ours: the log
// is shared with no one else, so it means a bug or another program on the
// same stream, and the entry is skipped on every node alike.
var errBadEntry = errors.New("impl: malformed cluster entry")

// appendEntry appends the encoding of e to b.
func appendEntry(b []byte, e entry) []byte {
	b = append(b, byte(e.kind))
	b = binary.AppendUvarint(b, e.conn)
	return append(b, e.payload...)
}

// decodeEntry decodes data. The payload aliases data.
func decodeEntry(data []byte) (entry, error) {
	if len(data) == 0 {
		return entry{}, fmt.Errorf("%w: empty", errBadEntry)
	}
	e := entry{kind: entryKind(data[0])}
	conn, n := binary.Uvarint(data[1:])
	if n <= 0 {
		return entry{}, fmt.Errorf("%w: connection ID", errBadEntry)
	}
	e.conn, e.payload = conn, data[1+n:]
	switch e.kind {
	case entryLine, entryEnd:
	case entryOverlong, entryIdle:
		if len(e.payload) != 0 {
			return entry{}, fmt.Errorf("%w: %c with a payload", errBadEntry, e.kind)
		}
	case entryGone:
		if e.conn != 0 || len(e.payload) == 0 {
			return entry{}, fmt.Errorf("%w: node gone without a node", errBadEntry)
		}
	default:
		return entry{}, fmt.Errorf("%w: kind %q", errBadEntry, e.kind)
	}
	return e, nil
}
