package impl_test

import (
	"strings"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec/transcript"
)

// commandCases exercise the commands and errors of PROTOCOL.md sections 5
// and 6 beyond the transcripts there, chiefly the check order of STATE-3:
// usage, then state, then argument validity, then the command's own
// conditions.
var commandCases = []struct {
	name, script string
}{
	{"new_state", `
# In NEW only USERNAME, QUIT and PING are allowed (STATE-2), after the usage check.
alice> LEAVE
alice< ERROR Username required
alice> LEAVE now
alice< ERROR Usage: LEAVE
alice> MSG
alice< ERROR Usage: MSG <text>
alice> MSG hi
alice< ERROR Username required
alice> hello there
alice< ERROR Username required
alice> USERS
alice< ERROR Username required
alice> ROOMS
alice< ERROR Username required
alice> ROOMS x
alice< ERROR Usage: ROOMS
alice> PRIVMSG bob
alice< ERROR Usage: PRIVMSG <user> <text>
alice> PRIVMSG bob hi
alice< ERROR Username required
alice> JOIN
alice< ERROR Usage: JOIN <room>
alice> JOIN nohash
alice< ERROR Username required
alice> QUIT now
alice< ERROR Usage: QUIT
alice> PING
alice< PONG
alice> PING 
alice< PONG
alice> ping
alice< ERROR Username required
`},
	{"username_rules", `
alice> USERNAME 
alice< ERROR Usage: USERNAME <name>
alice> USERNAME al ice
alice< ERROR Invalid username
alice> USERNAME xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
alice< ERROR Invalid username
alice> USERNAME é
alice< ERROR Invalid username
alice> USERNAME #alice
alice< ERROR Invalid username
alice> USERNAME Al_ice-01xxxxxxxxxxxxxxxxxxxxxxx
alice< OK Welcome, Al_ice-01xxxxxxxxxxxxxxxxxxxxxxx!
# In LOBBY the state check comes before the argument check.
alice> USERNAME bob!
alice< ERROR Username already set
alice> USERNAME
alice< ERROR Usage: USERNAME <name>
bob> USERNAME al_ICE-01XXXXXXXXXXXXXXXXXXXXXXX
bob< ERROR Username taken
`},
	{"lobby_state", `
alice> USERNAME alice
alice< OK Welcome, alice!
alice> USERS
alice< ERROR Not in a room
alice> LEAVE
alice< ERROR Not in a room
alice> MSG hi
alice< ERROR Not in a room
alice> join #x
alice< ERROR Not in a room
alice> /join #x
alice< ERROR Not in a room
alice> USERS x
alice< ERROR Usage: USERS
alice> ROOMS
alice< ROOMLIST
`},
	{"room_names", `
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #
alice< ERROR Invalid room name
alice> JOIN #a b
alice< ERROR Invalid room name
alice> JOIN ##a
alice< ERROR Invalid room name
alice> JOIN #xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
alice< ERROR Invalid room name
alice> JOIN #xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
alice< OK Joined #xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx (0 users)
# Invalid argument before the command's own condition.
alice> JOIN #XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX
alice< ERROR Already in room
alice> JOIN bad
alice< ERROR Invalid room name
`},
	{"switch_rooms", `
# JOIN elsewhere: the old room hears LEAVE, an empty old room is destroyed.
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #One
alice< OK Joined #One (0 users)
alice> in one
alice< ROOM #One alice in one
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #one
bob< OK Joined #One (1 users)
bob< JOIN #One alice
bob< ROOM #One alice in one
alice< JOIN #One bob
alice> JOIN #two
alice< OK Joined #two (0 users)
bob< LEAVE #One alice
bob> ROOMS
bob< ROOMLIST #One #two
bob> JOIN #TWO
bob< OK Joined #two (1 users)
bob< JOIN #two alice
alice< JOIN #two bob
alice> ROOMS
alice< ROOMLIST #two
# #One was destroyed with its history: a new room of that name is empty.
carol> USERNAME carol
carol< OK Welcome, carol!
carol> JOIN #ONE
carol< OK Joined #ONE (0 users)
alice> USERS
alice< USERLIST alice bob
`},
	{"history_only_messages", `
# JOIN and LEAVE notes are not history; private messages are not history.
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #h
alice< OK Joined #h (0 users)
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #h
bob< OK Joined #h (1 users)
bob< JOIN #h alice
alice< JOIN #h bob
bob> MSG one
bob< ROOM #h bob one
alice< ROOM #h bob one
bob> PRIVMSG alice secret
bob< OK Sent
alice< PRIVMSG bob secret
bob> LEAVE
bob< OK Left #h
alice< LEAVE #h bob
alice> two
alice< ROOM #h alice two
carol> USERNAME carol
carol< OK Welcome, carol!
carol> JOIN #H
carol< OK Joined #h (1 users)
carol< JOIN #h alice
carol< ROOM #h bob one
carol< ROOM #h alice two
alice< JOIN #h carol
`},
	{"privmsg", `
alice> USERNAME alice
alice< OK Welcome, alice!
# A connection in NEW has no name and cannot be reached (PRIV-2).
bob> PING
bob< PONG
alice> PRIVMSG bob hi
alice< ERROR User not found
alice> PRIVMSG bob! hi
alice< ERROR User not found
alice> PRIVMSG  bob hi
alice< ERROR Usage: PRIVMSG <user> <text>
alice> PRIVMSG bob 
alice< ERROR Usage: PRIVMSG <user> <text>
bob> USERNAME Bob
bob< OK Welcome, Bob!
# Text is verbatim; no room needed on either side (D-11).
alice> PRIVMSG BOB   three spaces, trailing  
alice< OK Sent
bob< PRIVMSG alice   three spaces, trailing  
bob> PRIVMSG alice é 日本 ✓
bob< OK Sent
alice< PRIVMSG Bob é 日本 ✓
`},
	{"quit_in_room", `
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #q
alice< OK Joined #q (0 users)
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #q
bob< OK Joined #q (1 users)
bob< JOIN #q alice
alice< JOIN #q bob
alice> QUIT
alice< OK Goodbye!
alice: closed
bob< LEAVE #q alice
bob> USERS
bob< USERLIST bob
carol> USERNAME ALICE
carol< OK Welcome, ALICE!
`},
	{"quit_in_new", `
alice> QUIT
alice< OK Goodbye!
alice: closed
`},
	{"disconnect_in_lobby", `
alice> USERNAME alice
alice< OK Welcome, alice!
alice: disconnect
bob> USERNAME bob
bob< OK Welcome, bob!
`},
	{"disconnect_last_member", `
# The room of a disconnected last member is destroyed.
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #gone
alice< OK Joined #gone (0 users)
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #x
bob< OK Joined #x (0 users)
bob> JOIN #gone
bob< OK Joined #gone (1 users)
bob< JOIN #gone alice
alice< JOIN #gone bob
alice: disconnect
bob< LEAVE #gone alice
bob> LEAVE
bob< OK Left #gone
bob> ROOMS
bob< ROOMLIST
`},
	{"text_lines", `
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #t
alice< OK Joined #t (0 users)
alice>  leading space
alice< ROOM #t alice  leading space
alice> MSG  
alice< ROOM #t alice  
alice> MSGx hi
alice< ROOM #t alice MSGx hi
alice> QUIT!
alice< ROOM #t alice QUIT!
alice> Ping
alice< ROOM #t alice Ping
`},
}

// TestCommands runs commandCases with CRLF and with bare LF.
func TestCommands(t *testing.T) {
	t.Parallel()
	for _, tc := range commandCases {
		for _, mode := range sendModes[:2] {
			t.Run(tc.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				tr := transcript.Transcript{Steps: mustSteps(t, tc.script)}
				runTranscript(t, impl.Config{}, tr, mode)
			})
		}
	}
}

// TestLinesAfterQuitIgnored sends QUIT and more lines in one write: only
// the goodbye comes back (QUIT-3, STATE-4).
func TestLinesAfterQuitIgnored(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	alice := ts.dial(t, "alice")
	bob := ts.dial(t, "bob")
	alice.write([]byte("USERNAME alice\r\nJOIN #r\r\nQUIT\r\nMSG after\r\nPING\r\nUSERNAME zed\r\n"))
	alice.expect("OK Welcome, alice!", "OK Joined #r (0 users)", "OK Goodbye!")
	alice.expectClosed()
	bob.send("USERNAME zed")
	bob.expect("OK Welcome, zed!")
	bob.send("JOIN #r")
	bob.expect("OK Joined #r (0 users)") // the room is gone, with no "after" in it
}

// TestServerLinesAreShort checks FRAME-11 on the longest lines a client can
// cause, other than the lists.
func TestServerLinesAreShort(t *testing.T) {
	t.Parallel()
	ts := startServer(t, impl.Config{})
	a := ts.dial(t, "a")
	name := strings.Repeat("n", 32)
	room := "#" + strings.Repeat("r", 31)
	a.send("USERNAME " + name)
	a.expect("OK Welcome, " + name + "!")
	a.send("JOIN " + room)
	a.expect("OK Joined " + room + " (0 users)")
	text := strings.Repeat("t", 512-len("MSG \r\n"))
	a.send("MSG " + text)
	line, err := a.readLine()
	if err != nil {
		t.Fatal(err)
	}
	if want := "ROOM " + room + " " + name + " " + text; line != want {
		t.Fatalf("got %q", line)
	}
	if len(line)+2 >= 600 {
		t.Fatalf("ROOM line of %d bytes", len(line)+2)
	}
}
