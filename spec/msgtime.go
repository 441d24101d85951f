package spec

import "time"

// msgTimeLayout is msg-time of PROTOCOL.md 13.3: UTC, milliseconds, "Z".
const msgTimeLayout = "2006-01-02T15:04:05.000Z"

// FormatMsgTime writes t as a msg-time (HIST-1): in UTC, to the
// millisecond, truncated.
func FormatMsgTime(t time.Time) string { return t.UTC().Format(msgTimeLayout) }

// ParseMsgTime reads a msg-time.
func ParseMsgTime(s string) (time.Time, bool) {
	if len(s) != len(msgTimeLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(msgTimeLayout, s)
	return t, err == nil && FormatMsgTime(t) == s
}

// ValidMsgTime reports whether s is a msg-time.
func ValidMsgTime(s string) bool {
	_, ok := ParseMsgTime(s)
	return ok
}
