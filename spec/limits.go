package spec

import "time"

// Limits of PROTOCOL.md section 8 and the framing and name rules. The values
// are the protocol's defaults; a server may let its operator change those of
// section 8, and the conformance suite assumes these unless told otherwise.
const (
	// MaxLineLen is the longest client line, terminator included (FRAME-4).
	MaxLineLen = 512
	// MaxNameLen is the longest username (NAME-1).
	MaxNameLen = 32
	// MaxRoomLen is the longest room name, '#' included (NAME-2).
	MaxRoomLen = 32
	// HistoryLen is how many room messages a room keeps for newcomers (JOIN-6).
	HistoryLen = 10
	// MaxShortLine bounds every server line except USERLIST and ROOMLIST,
	// terminator included (FRAME-11).
	MaxShortLine = 600
	// MinQueueBytes is the smallest output queue that holds the reply to
	// any command but for its lists: the OK line of a JOIN and a full
	// history (LIMIT-4 forbids queues smaller than the longest reply).
	MinQueueBytes = MaxShortLine * (1 + HistoryLen)
	// MaxClients is the default limit on simultaneous connections (LIMIT-1).
	MaxClients = 10000
	// MaxQueueBytes is the default cap on one client's pending output (LIMIT-4,
	// LIMIT-10).
	MaxQueueBytes = 1 << 20
	// WriteTimeout is how long a socket may accept nothing while output is
	// pending before its client is a slow consumer (LIMIT-4).
	WriteTimeout = 10 * time.Second
	// StallBudget is the default bound on the time for which lines may be
	// postponed on account of one client, over its whole connection, and on
	// the time one client's lines may be postponed on account of others, in
	// all over its connection (LIMIT-9).
	StallBudget = 100 * time.Millisecond
	// IdleTimeout is how long a connection may send no line (LIMIT-7).
	IdleTimeout = 300 * time.Second
	// RateBurst is the default size of a client's token bucket when the
	// operator limits how fast lines are read (LIMIT-11). The rate itself,
	// RateLines, has no default: without it, reading is not limited.
	RateBurst = 10
)

// JoinReplyBytes returns the longest reply to JOIN when the room has
// that many other members: its OK line, one JOIN line per member and a
// full history. USERS's USERLIST and ROOMS's ROOMLIST for as many names
// are shorter.
func JoinReplyBytes(members int) int {
	const rosterLine = len("JOIN ") + MaxRoomLen + 1 + MaxNameLen + len("\r\n")
	return MinQueueBytes + members*rosterLine
}
