package spec_test

import (
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

// TestJoinReplyBytes: the bound holds the longest JOIN reply there can be,
// with names and messages of the greatest length, and every line but the
// lists is within MaxShortLine (FRAME-11).
func TestJoinReplyBytes(t *testing.T) {
	room := "#" + strings.Repeat("r", spec.MaxRoomLen-1)
	user := strings.Repeat("u", spec.MaxNameLen)
	text := strings.Repeat("t", spec.MaxLineLen-len("MSG \r\n"))
	for _, members := range []int{0, 1, 7, 10000} {
		reply := spec.OKLine(spec.OKJoined(room, members)).AppendWire(nil)
		for range members {
			reply = spec.JoinLine(room, user).AppendWire(reply)
		}
		for range spec.HistoryLen {
			line := spec.RoomLine(room, user, text).AppendWire(nil)
			if len(line) > spec.MaxShortLine {
				t.Fatalf("a room line of %d bytes is longer than MaxShortLine", len(line))
			}
			reply = append(reply, line...)
		}
		if got, bound := len(reply), spec.JoinReplyBytes(members); got > bound {
			t.Errorf("JOIN reply with %d members: %d bytes, over JoinReplyBytes = %d", members, got, bound)
		}
	}
}
