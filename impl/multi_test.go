package impl_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
	"roomchat.dev/roomchat/spec/transcript"
)

// roomsCases exercise PROTOCOL.md 13.4 beyond its transcripts, on a server
// that offers every extension (extConfig) with MaxRooms set as the case
// says. Each runs with history in memory and in a database: a room
// message with a database is processed only once stored, which must not
// change what anyone receives.
var roomsCases = []struct {
	name     string
	maxRooms int
	script   string
}{
	{name: "check_order", maxRooms: 2, script: `
# Before a name: usage first, then the name (MULTI-2 to MULTI-6, STATE-2).
alice> CAPS rooms
alice< OK Enabled rooms
alice> LEAVE
alice< ERROR Usage: LEAVE <room>
alice> LEAVE #a
alice< ERROR Username required
alice> MSG #a
alice< ERROR Usage: MSG <room> <text>
alice> MSG #a hi
alice< ERROR Username required
alice> USERS
alice< ERROR Usage: USERS <room>
alice> USERS #a
alice< ERROR Username required
alice> JOIN
alice< ERROR Usage: JOIN <room>
alice> JOIN #a
alice< ERROR Username required
alice> hello
alice< ERROR Username required
alice> USERNAME alice
alice< OK Welcome, alice!
# With a name: the room name, then the user's rooms; a text line needs exactly one.
alice> LEAVE a
alice< ERROR Invalid room name
alice> LEAVE #a b
alice< ERROR Invalid room name
alice> LEAVE #a
alice< ERROR Not in that room
alice> MSG a hi
alice< ERROR Invalid room name
alice> MSG #a b c
alice< ERROR Not in that room
alice> USERS #a b
alice< ERROR Invalid room name
alice> USERS #a
alice< ERROR Not in that room
alice> hello
alice< ERROR Not in a room
alice> JOIN #a
alice< OK Joined #a (0 users)
alice> JOIN #B
alice< OK Joined #B (0 users)
# At MaxRoomsPerUser: the room name and "Already in room" come before "Too many rooms".
alice> JOIN b
alice< ERROR Invalid room name
alice> JOIN #b
alice< ERROR Already in room
alice> JOIN #c
alice< ERROR Too many rooms
alice> MSG  #a hi
alice< ERROR Usage: MSG <room> <text>
alice> MSG #a  two  spaces
alice< ROOM #a alice  two  spaces
alice> hello
alice< ERROR Room required
alice> USERS #A
alice< USERLIST alice
alice> ROOMS
alice< ROOMLIST #a #B
# LEAVE leaves the room named, spelled as it exists; a text line then reaches the one left.
alice> LEAVE #A
alice< OK Left #a
alice> ROOMS
alice< ROOMLIST #B
alice> hello
alice< ROOM #B alice hello
alice> MSG hello there
alice< ERROR Invalid room name
alice> JOIN #c
alice< OK Joined #c (0 users)
alice> LEAVE #c
alice< OK Left #c
alice> LEAVE #b
alice< OK Left #B
# Out of the last room: LOBBY again (STATE-1).
alice> hello
alice< ERROR Not in a room
alice> USERS #b
alice< ERROR Not in that room
alice> ROOMS
alice< ROOMLIST
alice> PRIVMSG alice still here
alice< OK Sent
alice< PRIVMSG alice still here
`},
	{name: "rooms_apart", script: `
# JOIN adds a room and leaves none; each room hears its own lines only, and a
# core member sees the core protocol (MULTI-1, MULTI-2, MULTI-4).
alice> CAPS rooms
alice< OK Enabled rooms
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #a
alice< OK Joined #a (0 users)
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #a
bob< OK Joined #a (1 users)
bob< JOIN #a alice
alice< JOIN #a bob
alice> JOIN #b
alice< OK Joined #b (0 users)
carol> CAPS rooms
carol< OK Enabled rooms
carol> USERNAME carol
carol< OK Welcome, carol!
carol> JOIN #b
carol< OK Joined #b (1 users)
carol< JOIN #b alice
alice< JOIN #b carol
alice> MSG #a to a
alice< ROOM #a alice to a
bob< ROOM #a alice to a
alice> MSG #b to b
alice< ROOM #b alice to b
carol< ROOM #b alice to b
bob> MSG #b hi
bob< ROOM #a bob #b hi
alice< ROOM #a bob #b hi
bob> LEAVE #a
bob< ERROR Usage: LEAVE
bob> USERS
bob< USERLIST alice bob
carol> hi all
carol< ROOM #b carol hi all
alice< ROOM #b carol hi all
carol> USERS #B
carol< USERLIST alice carol
bob> JOIN #b
bob< OK Joined #b (2 users)
bob< JOIN #b alice
bob< JOIN #b carol
bob< ROOM #b alice to b
bob< ROOM #b carol hi all
alice< LEAVE #a bob
alice< JOIN #b bob
carol< JOIN #b bob
bob> hello
bob< ROOM #b bob hello
alice< ROOM #b bob hello
carol< ROOM #b bob hello
alice> hello
alice< ERROR Room required
alice> LEAVE #a
alice< OK Left #a
alice> ROOMS
alice< ROOMLIST #b
alice> hello
alice< ROOM #b alice hello
bob< ROOM #b alice hello
carol< ROOM #b alice hello
`},
	{name: "disconnect_leaves_all", script: `
# A disconnect leaves every room in join order, earliest first: each member
# hears one LEAVE per room it shared, and a room left empty is destroyed
# (MULTI-7, DISC-1, DISC-4).
alice> CAPS rooms
alice< OK Enabled rooms
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #z
alice< OK Joined #z (0 users)
alice> JOIN #m
alice< OK Joined #m (0 users)
alice> JOIN #a
alice< OK Joined #a (0 users)
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #a
bob< OK Joined #a (1 users)
bob< JOIN #a alice
alice< JOIN #a bob
carol> CAPS rooms
carol< OK Enabled rooms
carol> USERNAME carol
carol< OK Welcome, carol!
carol> JOIN #a
carol< OK Joined #a (2 users)
carol< JOIN #a alice
carol< JOIN #a bob
alice< JOIN #a carol
bob< JOIN #a carol
carol> JOIN #z
carol< OK Joined #z (1 users)
carol< JOIN #z alice
alice< JOIN #z carol
alice: disconnect
carol< LEAVE #z alice
carol< LEAVE #a alice
bob< LEAVE #a alice
bob> ROOMS
bob< ROOMLIST #a #z
carol> USERS #a
carol< USERLIST bob carol
erin> USERNAME alice
erin< OK Welcome, alice!
`},
	{name: "history", script: `
# Room messages to named rooms get IDs in the one order of ORDER-1; each
# recipient gets its own form, and a newcomer the room's own replay (HIST-1, HIST-2, MULTI-4).
alice> CAPS rooms history
alice< OK Enabled rooms history
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #a
alice< OK Joined #a (0 users)
alice> JOIN #b
alice< OK Joined #b (0 users)
alice> MSG #a one
alice< MESSAGE 1 2026-01-01T00:00:00.000Z #a alice one
alice> MSG #b two
alice< MESSAGE 2 2026-01-01T00:00:00.000Z #b alice two
alice> MSG #a three
alice< MESSAGE 3 2026-01-01T00:00:00.000Z #a alice three
bob> CAPS rooms
bob< OK Enabled rooms
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #b
bob< OK Joined #b (1 users)
bob< JOIN #b alice
bob< ROOM #b alice two
alice< JOIN #b bob
bob> JOIN #a
bob< OK Joined #a (1 users)
bob< JOIN #a alice
bob< ROOM #a alice one
bob< ROOM #a alice three
alice< JOIN #a bob
bob> MSG #b four
bob< ROOM #b bob four
alice< MESSAGE 4 2026-01-01T00:00:00.000Z #b bob four
alice> HISTORY #b * 10
alice< HISTORY 2 2026-01-01T00:00:00.000Z #b alice two
alice< HISTORY 4 2026-01-01T00:00:00.000Z #b bob four
alice< OK History #b (2 messages)
`},
	{name: "core_member", script: `
# A core member of a room shared with members of several rooms receives
# that room's lines only, and a core JOIN still leaves its room first (MULTI-1, JOIN-3).
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #a
bob< OK Joined #a (0 users)
alice> CAPS rooms
alice< OK Enabled rooms
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #b
alice< OK Joined #b (0 users)
alice> JOIN #a
alice< OK Joined #a (1 users)
alice< JOIN #a bob
bob< JOIN #a alice
alice> JOIN #c
alice< OK Joined #c (0 users)
alice> MSG #b elsewhere
alice< ROOM #b alice elsewhere
alice> MSG #c elsewhere too
alice< ROOM #c alice elsewhere too
alice> LEAVE #b
alice< OK Left #b
alice> MSG #a here
alice< ROOM #a alice here
bob< ROOM #a alice here
bob> JOIN #c
bob< OK Joined #c (1 users)
bob< JOIN #c alice
bob< ROOM #c alice elsewhere too
alice< LEAVE #a bob
alice< JOIN #c bob
bob> JOIN #a
bob< OK Joined #a (1 users)
bob< JOIN #a alice
bob< ROOM #a alice here
alice< LEAVE #c bob
alice< JOIN #a bob
alice> QUIT
alice< OK Goodbye!
alice: closed
bob< LEAVE #a alice
bob> USERS
bob< USERLIST bob
`},
}

// TestRooms runs roomsCases, with history in memory and in a database.
func TestRooms(t *testing.T) {
	t.Parallel()
	for _, tc := range roomsCases {
		for _, variant := range []string{"mem", "db"} {
			t.Run(tc.name+"/"+variant, func(t *testing.T) {
				t.Parallel()
				cfg := extConfig()
				cfg.MaxRooms = tc.maxRooms
				if variant == "db" {
					cfg = withDB(t, cfg)
				}
				runTranscript(t, cfg, transcript.Transcript{Steps: mustSteps(t, tc.script)}, sendModes[0])
			})
		}
	}
}

// TestRoomsDefaultMax: without Config.MaxRooms, a user is in at most
// spec.MaxRoomsPerUser rooms at once (MULTI-2); a server that does not
// offer rooms does not know the extension.
func TestRoomsDefaultMax(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{Offer: spec.ExtRooms})
	alice := ts.dial(t, "alice")
	alice.send("CAPS")
	alice.expect("CAPS rooms")
	alice.send("CAPS rooms")
	alice.expect("OK Enabled rooms")
	alice.send("USERNAME alice")
	alice.expect("OK Welcome, alice!")
	for i := range spec.MaxRoomsPerUser {
		alice.send(fmt.Sprintf("JOIN #r%d", i))
		alice.expect(fmt.Sprintf("OK Joined #r%d (0 users)", i))
	}
	alice.send("JOIN #one-more")
	alice.expect("ERROR " + spec.ErrTooManyRooms)

	other := startServer(t, impl.Config{Offer: spec.ExtHistory})
	bob := other.dial(t, "bob")
	bob.send("CAPS rooms")
	bob.expect("ERROR " + spec.ErrUnknownExt)
}

// TestRoomsIdleLeavesAll: a user of several rooms whose connection is
// closed for idleness leaves them all in join order, in one item: each
// member hears the LEAVE notes of the rooms it shared with it, one after
// the other (MULTI-7, LIMIT-7). The server's clock is the test's, so who
// is idle is decided by the order of events, not by timing.
func TestRoomsIdleLeavesAll(t *testing.T) {
	t.Parallel()
	const idle = time.Hour
	clock := new(impl.JumpClock)
	ts := startServer(t, impl.Config{Offer: spec.ExtRooms, IdleTimeout: idle}, func(s *impl.Server) { s.UseClockForTest(clock) })
	x := ts.dial(t, "x")
	x.send("CAPS rooms")
	x.expect("OK Enabled rooms")
	x.send("USERNAME x")
	x.expect("OK Welcome, x!")
	both := ts.dial(t, "both")
	both.send("CAPS rooms")
	both.expect("OK Enabled rooms")
	both.send("USERNAME both")
	both.expect("OK Welcome, both!")
	core := ts.dial(t, "core")
	core.join("core", "#c")
	// x joins #c, #b and #a, in that order; both joins #a and #c.
	x.send("JOIN #c")
	x.expect("OK Joined #c (1 users)", "JOIN #c core")
	core.expect("JOIN #c x")
	x.send("JOIN #b")
	x.expect("OK Joined #b (0 users)")
	x.send("JOIN #a")
	x.expect("OK Joined #a (0 users)")
	both.send("JOIN #a")
	both.expect("OK Joined #a (1 users)", "JOIN #a x")
	both.send("JOIN #c")
	both.expect("OK Joined #c (2 users)", "JOIN #c core", "JOIN #c x")
	x.expect("JOIN #a both", "JOIN #c both")
	core.expect("JOIN #c both")

	// Everyone but x speaks a minute before x has been idle for an hour.
	clock.Jump(idle - time.Minute)
	syncAll(both, core)
	clock.Jump(time.Minute)
	x.expect("ERROR " + spec.ErrIdleTimeout)
	x.expectClosed()
	both.expect("LEAVE #c x", "LEAVE #a x")
	core.expect("LEAVE #c x")
	syncAll(both, core)
	both.send("ROOMS")
	both.expect("ROOMLIST #a #c")
}

// roomMessages returns n room messages of sender to room, as a connection
// that enabled rooms sends them, numbered from first, with pad bytes of
// padding each, as one buffer to write.
func roomMessages(room, sender string, first, n, pad int) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "MSG %s %s-%d %s\r\n", room, sender, i, strings.Repeat("p", pad))
	}
	return b
}
