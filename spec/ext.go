package spec

import (
	"strconv"
	"strings"
)

// Ext is a set of the extensions of PROTOCOL.md section 13 that a client
// enables on its connection with CAPS (CAPS-2).
type Ext uint8

// The extensions a connection can enable.
const (
	ExtAccounts Ext = 1 << iota // 13.2: REGISTER, LOGIN, PASSWORD
	ExtHistory                  // 13.3: MESSAGE lines and HISTORY
	ExtRooms                    // 13.4: several rooms per user
)

// AllExt is every extension this package knows.
const AllExt = ExtAccounts | ExtHistory | ExtRooms

// extNames lists the extensions in the order of PROTOCOL.md.
var extNames = []struct {
	ext  Ext
	name string
}{
	{ExtAccounts, "accounts"},
	{ExtHistory, "history"},
	{ExtRooms, "rooms"},
}

// ParseExt returns the extension called name (compared exactly: CAPS-2).
func ParseExt(name string) (Ext, bool) {
	for _, e := range extNames {
		if e.name == name {
			return e.ext, true
		}
	}
	return 0, false
}

// Names returns the names of the extensions in e, in the order of
// PROTOCOL.md.
func (e Ext) Names() []string {
	var names []string
	for _, x := range extNames {
		if e&x.ext != 0 {
			names = append(names, x.name)
		}
	}
	return names
}

// Has reports whether every extension of x is in e.
func (e Ext) Has(x Ext) bool { return e&x == x }

// Words says which command words beyond the core ones a line may start
// with on a connection.
type Words struct {
	// Caps: the connection is in NEW on a server that offers extensions,
	// where CAPS is a command word (CAPS-1).
	Caps bool
	// Ext: the extensions enabled on the connection, whose command words
	// are command words there only (CAPS-3).
	Ext Ext
}

// Limits of section 13 that are part of the grammar or fixed.
const (
	PasswordMin = 8   // bytes (ACCT-1)
	PasswordMax = 128 // bytes (ACCT-1)
	HistoryPage = 100 // the largest <limit> of HISTORY (HIST-3)
	// MaxRoomsPerUser is the default number of rooms a user of a
	// connection that enabled rooms may be in at once (MULTI-2).
	MaxRoomsPerUser = 10
	// MaxMsgID is the largest message ID, 2^63 - 1 (HIST-1).
	MaxMsgID = 1<<63 - 1
)

// ValidPassword reports whether a password has an allowed length (ACCT-1).
// Its characters are those of a word; the grammar has checked them.
func ValidPassword(p string) bool { return len(p) >= PasswordMin && len(p) <= PasswordMax }

// parseMsgID parses a msg-id: a decimal without leading zeros, from 1 to
// MaxMsgID.
func parseMsgID(s string) (uint64, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil && id <= MaxMsgID
}

// parseLimit parses the limit of HISTORY: 1 to HistoryPage, no leading zeros.
func parseLimit(s string) (int, bool) {
	if s == "" || s[0] == '0' || len(s) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= HistoryPage && strconv.Itoa(n) == s
}

// words splits rest into exactly n non-empty words separated by single
// spaces, or reports false.
func words(rest string, n int) ([]string, bool) {
	f := strings.Split(rest, " ")
	if len(f) != n {
		return nil, false
	}
	for _, w := range f {
		if w == "" {
			return nil, false
		}
	}
	return f, true
}
