package model_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// withMessages returns a transcript in which alice, with history enabled,
// joins room and sends n messages m1..mn, each at the start clock; its
// IDs start at first.
func withMessages(room string, n int, first int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "alice> CAPS history\nalice< OK Enabled history\nalice> USERNAME alice\nalice< OK Welcome, alice!\n")
	fmt.Fprintf(&b, "alice> JOIN %s\nalice< OK Joined %s (0 users)\n", room, room)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "alice> m%d\nalice< MESSAGE %d 2026-01-01T00:00:00.000Z %s alice m%d\n", i, first+i-1, room, i)
	}
	return b.String()
}

// TestHistoryPaging checks HIST-3: the newest <limit> below <before>,
// oldest first; paging back by the smallest ID; a short page is the
// beginning; usage and room errors in the order of STATE-3.
func TestHistoryPaging(t *testing.T) {
	at := "2026-01-01T00:00:00.000Z"
	s := play(t, offerAll, withMessages("#r", 5, 1)+`
		alice> HISTORY #r * 2
		alice< HISTORY 4 `+at+` #r alice m4
		alice< HISTORY 5 `+at+` #r alice m5
		alice< OK History #r (2 messages)
		alice> HISTORY #r 4 2
		alice< HISTORY 2 `+at+` #r alice m2
		alice< HISTORY 3 `+at+` #r alice m3
		alice< OK History #r (2 messages)
		alice> HISTORY #r 2 2
		alice< HISTORY 1 `+at+` #r alice m1
		alice< OK History #r (1 messages)
		alice> HISTORY #r 1 100
		alice< OK History #r (0 messages)
		alice> HISTORY #r 9223372036854775807 1
		alice< HISTORY 5 `+at+` #r alice m5
		alice< OK History #r (1 messages)
		alice> HISTORY #nowhere * 100
		alice< OK History #nowhere (0 messages)
		alice> HISTORY #r * 101
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY #r * 0
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY #r * 05
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY #r 0 5
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY #r 9223372036854775808 5
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY #r *
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY bad * 101
		alice< ERROR Usage: HISTORY <room> <before> <limit>
		alice> HISTORY bad * 5
		alice< ERROR Invalid room name
		alice> HISTORY # * 5
		alice< ERROR Invalid room name
		alice> LEAVE
		alice< OK Left #r
		alice> HISTORY #r 3 1
		alice< HISTORY 2 `+at+` #r alice m2
		alice< OK History #r (1 messages)
		bob> CAPS history
		bob< OK Enabled history
		bob> HISTORY #r
		bob< ERROR Usage: HISTORY <room> <before> <limit>
		bob> HISTORY #r * 5
		bob< ERROR Username required
	`)
	if s.LastID() != 5 || len(s.Stored("#R")) != 5 {
		t.Errorf("LastID %d, %d stored", s.LastID(), len(s.Stored("#R")))
	}
}

// TestHistoryKeep checks HIST-4's HistoryKeep exactly: the newest Keep of
// each room, counted per room, and never one more, whatever <before> is.
func TestHistoryKeep(t *testing.T) {
	at := "2026-01-01T00:00:00.000Z"
	s := play(t, model.Config{Offer: spec.ExtHistory, HistoryKeep: 3}, withMessages("#r", 5, 1)+`
		alice> JOIN #s
		alice< OK Joined #s (0 users)
		alice> s1
		alice< MESSAGE 6 `+at+` #s alice s1
		alice> s2
		alice< MESSAGE 7 `+at+` #s alice s2
		alice> HISTORY #r * 100
		alice< HISTORY 3 `+at+` #r alice m3
		alice< HISTORY 4 `+at+` #r alice m4
		alice< HISTORY 5 `+at+` #r alice m5
		alice< OK History #r (3 messages)
		alice> HISTORY #r 3 100
		alice< OK History #r (0 messages)
		alice> HISTORY #r 5 1
		alice< HISTORY 4 `+at+` #r alice m4
		alice< OK History #r (1 messages)
		alice> HISTORY #s * 100
		alice< HISTORY 6 `+at+` #s alice s1
		alice< HISTORY 7 `+at+` #s alice s2
		alice< OK History #s (2 messages)
	`)
	if got := s.Stored("#r"); len(got) != 3 || got[0].ID != 3 {
		t.Errorf("Stored = %+v", got)
	}
}

// TestHistoryMaxAge checks HIST-4's HistoryMaxAge against the clock of Time
// events: a message exactly that old is still returned, one a millisecond
// older is not, and a clock stepped back brings it back; HIST-1: a message
// sent after the clock stepped back repeats the last message's time (not
// the latest reading of the clock).
func TestHistoryMaxAge(t *testing.T) {
	s := play(t, model.Config{Offer: spec.ExtHistory, HistoryMaxAge: time.Hour}, `
		server: time 2026-06-01T10:00:00.000Z
		alice> CAPS history
		alice< OK Enabled history
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> JOIN #r
		alice< OK Joined #r (0 users)
		alice> old
		alice< MESSAGE 1 2026-06-01T10:00:00.000Z #r alice old
		server: time 2026-06-01T10:30:00.000Z
		alice> new
		alice< MESSAGE 2 2026-06-01T10:30:00.000Z #r alice new
		server: time 2026-06-01T11:00:00.000Z
		alice> HISTORY #r * 10
		alice< HISTORY 1 2026-06-01T10:00:00.000Z #r alice old
		alice< HISTORY 2 2026-06-01T10:30:00.000Z #r alice new
		alice< OK History #r (2 messages)
		server: time 2026-06-01T11:00:00.001Z
		alice> HISTORY #r * 10
		alice< HISTORY 2 2026-06-01T10:30:00.000Z #r alice new
		alice< OK History #r (1 messages)
		server: time 2026-06-01T12:00:00.000Z
		alice> HISTORY #r * 10
		alice< OK History #r (0 messages)
		bob> USERNAME bob
		bob< OK Welcome, bob!
		bob> JOIN #r
		bob< OK Joined #r (1 users)
		bob< JOIN #r alice
		bob< ROOM #r alice old
		bob< ROOM #r alice new
		alice< JOIN #r bob
		server: time 2026-06-01T10:15:00.000Z
		alice> HISTORY #r * 10
		alice< HISTORY 1 2026-06-01T10:00:00.000Z #r alice old
		alice< HISTORY 2 2026-06-01T10:30:00.000Z #r alice new
		alice< OK History #r (2 messages)
		bob> back in time
		bob< ROOM #r bob back in time
		alice< MESSAGE 3 2026-06-01T10:30:00.000Z #r bob back in time
	`)
	if s.Now() != "2026-06-01T10:15:00.000Z" {
		t.Errorf("Now = %q", s.Now())
	}
	if got := s.Stored("#r"); len(got) != 3 || got[2].Time != "2026-06-01T10:30:00.000Z" {
		t.Errorf("Stored = %+v", got)
	}
}

// TestHistoryClock checks HIST-1 and PROTOCOL.md 1.2: the clock starts at
// 2026-01-01T00:00:00.000Z, and a Time event that is not a msg-time
// changes nothing.
func TestHistoryClock(t *testing.T) {
	s := model.New(offerAll)
	if s.Now() != "2026-01-01T00:00:00.000Z" || s.LastID() != 0 {
		t.Fatalf("Now %q, LastID %d", s.Now(), s.LastID())
	}
	for _, bad := range []string{"", "2026-01-01T00:00:00Z", "2026-01-01 00:00:00.000Z", "2026-13-01T00:00:00.000Z"} {
		next, outs := s.Step(0, model.Event{Kind: model.Time, Time: bad})
		if next.Now() != s.Now() || len(outs) != 0 {
			t.Errorf("time %q: Now %q, %v", bad, next.Now(), outs)
		}
	}
	s, outs := s.Step(0, model.Event{Kind: model.Time, Time: "2030-02-03T04:05:06.789Z"})
	if s.Now() != "2030-02-03T04:05:06.789Z" || len(outs) != 0 {
		t.Errorf("Now %q, %v", s.Now(), outs)
	}
}

// TestHistoryRoomFolded checks HIST-3: rooms compared as in NAME-3, each
// message shown with its room as spelled when it was sent, the OK line
// with the room as given; and HIST-4: stored history outlives its room,
// whose JOIN replay is destroyed with it (LEAVE-3).
func TestHistoryRoomFolded(t *testing.T) {
	at := "2026-01-01T00:00:00.000Z"
	s := play(t, offerAll, withMessages("#Log", 2, 1)+`
		alice> LEAVE
		alice< OK Left #Log
		alice> JOIN #LOG
		alice< OK Joined #LOG (0 users)
		alice> m3
		alice< MESSAGE 3 `+at+` #LOG alice m3
		alice> LEAVE
		alice< OK Left #LOG
		alice> HISTORY #log * 10
		alice< HISTORY 1 `+at+` #Log alice m1
		alice< HISTORY 2 `+at+` #Log alice m2
		alice< HISTORY 3 `+at+` #LOG alice m3
		alice< OK History #log (3 messages)
		alice> ROOMS
		alice< ROOMLIST
		alice> JOIN #log
		alice< OK Joined #log (0 users)
	`)
	if s.History("#log") != nil || s.Replay("#log") != nil {
		t.Errorf("replay of a new room: %q", s.History("#log"))
	}
	if got := s.Stored("#lOg"); len(got) != 3 || got[0].Room != "#Log" || got[2].Room != "#LOG" {
		t.Errorf("Stored = %+v", got)
	}
}

// TestNothingStoredWithoutHistory checks that a server that does not offer
// history stores nothing, while IDs still count every room message.
func TestNothingStoredWithoutHistory(t *testing.T) {
	s := play(t, model.Config{Offer: spec.ExtAccounts}, `
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> JOIN #r
		alice< OK Joined #r (0 users)
		alice> hello
		alice< ROOM #r alice hello
		alice> HISTORY #r * 1
		alice< ROOM #r alice HISTORY #r * 1
	`)
	if s.Stored("#r") != nil || s.LastID() != 2 {
		t.Errorf("Stored %+v, LastID %d", s.Stored("#r"), s.LastID())
	}
}

// TestRestartKeeps checks HIST-5 and the restart of PROTOCOL.md 1.2:
// everyone is told and closed, without LEAVE; then accounts, stored
// messages, the ID sequence and the last time remain, and rooms, names
// and connections do not.
func TestRestartKeeps(t *testing.T) {
	s := play(t, offerAll, `
		server: time 2026-05-05T05:05:05.005Z
		alice> CAPS accounts history
		alice< OK Enabled accounts history
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> REGISTER correct-horse
		alice< OK Registered alice
		alice> JOIN #r
		alice< OK Joined #r (0 users)
		bob> USERNAME bob
		bob< OK Welcome, bob!
		bob> JOIN #r
		bob< OK Joined #r (1 users)
		bob< JOIN #r alice
		alice< JOIN #r bob
		bob> one
		bob< ROOM #r bob one
		alice< MESSAGE 1 2026-05-05T05:05:05.005Z #r bob one
		carol> PING
		carol< PONG
		server: restart
		alice< ERROR Server shutting down
		alice: closed
		bob< ERROR Server shutting down
		bob: closed
		carol< ERROR Server shutting down
		carol: closed
		server: time 2026-05-05T05:00:00.000Z
		bob2> USERNAME bob
		bob2< OK Welcome, bob!
		bob2> ROOMS
		bob2< ROOMLIST
		bob2> USERNAME alice
		bob2< ERROR Username already set
		dave> USERNAME ALICE
		dave< ERROR Username taken
		alice2> CAPS accounts history
		alice2< OK Enabled accounts history
		alice2> LOGIN alice correct-horse
		alice2< OK Welcome, alice!
		alice2> JOIN #R
		alice2< OK Joined #R (0 users)
		alice2> two
		alice2< MESSAGE 2 2026-05-05T05:05:05.005Z #R alice two
		alice2> HISTORY #r * 5
		alice2< HISTORY 1 2026-05-05T05:05:05.005Z #r bob one
		alice2< HISTORY 2 2026-05-05T05:05:05.005Z #R alice two
		alice2< OK History #r (2 messages)
	`)
	if !slices.Equal(s.Accounts(), []string{"alice"}) || s.LastID() != 2 {
		t.Errorf("Accounts %q, LastID %d", s.Accounts(), s.LastID())
	}
}

// TestRestartAfterShutdown checks that a server that has shut down stays
// down: a Restart, a Time or a Connect then does nothing.
func TestRestartAfterShutdown(t *testing.T) {
	s := model.New(offerAll)
	s, _ = s.Step(1, model.Event{Kind: model.Connect})
	s, _ = s.Step(0, model.Event{Kind: model.Shutdown})
	for _, ev := range []model.Event{{Kind: model.Restart}, {Kind: model.Time, Time: "2027-01-01T00:00:00.000Z"}, {Kind: model.Connect}} {
		next, outs := s.Step(2, ev)
		if len(outs) != 0 || next.Connected(2) || next.Now() != s.Now() {
			t.Errorf("%v after shutdown: %v", ev, outs)
		}
	}
}
