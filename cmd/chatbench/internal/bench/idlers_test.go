package bench

import (
	"fmt"
	"testing"
)

// Idle connections that join rooms, one after another: each reads its
// roster and the later members' JOIN notes, 15·14 JOIN lines in each of
// the 2 rooms, then sits idle and answers PING.
func TestChatdIdleRooms(t *testing.T) {
	chatd := buildChatd(t)
	code, rep, stderr := runMain(t, "-exec", fmt.Sprintf("'%s' -addr 127.0.0.1:{port}", chatd),
		"-idle", "30", "-idle-rooms", "2", "-idle-serial", "-hold", "10ms")
	if code != 0 || rep == nil || !rep.OK {
		t.Fatalf("exit %d, report %+v\nstderr:\n%s", code, rep, stderr)
	}
	i := rep.Idle
	if i.Opened != 30 || i.Answered != 30 || i.Rooms != 2 || !i.Serial || i.Memory == nil {
		t.Fatalf("idle: %+v", i)
	}
	// Each gets OK Welcome, OK Joined, PONG 1, PONG 2 besides its JOIN lines.
	if j := i.Join; j == nil || j.JoinNotes != 2*15*14 || j.Lines != j.JoinNotes+30*4 || j.Server == nil {
		t.Errorf("join: %+v", j)
	}
}
