package impl_test

import (
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
	"roomchat.dev/roomchat/spec/transcript"
)

// extCases exercise section 13 of PROTOCOL.md beyond its transcripts: CAPS,
// accounts and history, with the check order of STATE-3, on a server that
// offers every extension (extConfig) unless cfg changes it. Each runs with
// accounts and history in memory ("mem") and in a database ("db"), unless
// memOnly says the database would see it otherwise.
var extCases = []struct {
	name    string
	cfg     func(*impl.Config)
	memOnly string // why the case runs in memory only
	script  string
}{
	{name: "caps_discovery", script: `
# CAPS lists, enables all or nothing, cumulatively; in LOBBY it is a text line (CAPS-1 to CAPS-3).
alice> CAPS
alice< CAPS accounts history rooms
alice> CAPS accounts
alice< OK Enabled accounts
alice> CAPS History
alice< ERROR Unknown extension
alice> CAPS history shoes
alice< ERROR Unknown extension
alice> CAPS accounts history accounts
alice< OK Enabled accounts history accounts
alice> CAPS 
alice< ERROR Usage: CAPS [<extension> ...]
alice> CAPSLOCK
alice< ERROR Username required
alice> USERNAME alice
alice< OK Welcome, alice!
alice> CAPS
alice< ERROR Not in a room
alice> JOIN #r
alice< OK Joined #r (0 users)
alice> CAPS history
alice< MESSAGE 1 2026-01-01T00:00:00.000Z #r alice CAPS history
`},
	{name: "caps_offer_history_only", cfg: func(c *impl.Config) { c.Offer = spec.ExtHistory }, script: `
# A server that offers history alone lists it alone, and accounts are unknown to it.
alice> CAPS
alice< CAPS history
alice> CAPS accounts
alice< ERROR Unknown extension
alice> CAPS accounts history
alice< ERROR Unknown extension
alice> CAPS history
alice< OK Enabled history
alice> LOGIN alice correct-horse
alice< ERROR Username required
alice> USERNAME alice
alice< OK Welcome, alice!
alice> LOGIN alice correct-horse
alice< ERROR Not in a room
`},
	{name: "core_client_unchanged", script: `
# A core connection sends and receives exactly the core protocol, whatever
# others enabled (CAPS-3), and cannot take an account's name (ACCT-3).
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
bob> LOGIN failed again
bob< ROOM #r bob LOGIN failed again
alice< MESSAGE 1 2026-01-01T00:00:00.000Z #r bob LOGIN failed again
bob> HISTORY #r * 10
bob< ROOM #r bob HISTORY #r * 10
alice< MESSAGE 2 2026-01-01T00:00:00.000Z #r bob HISTORY #r * 10
bob> REGISTER correct-horse
bob< ROOM #r bob REGISTER correct-horse
alice< MESSAGE 3 2026-01-01T00:00:00.000Z #r bob REGISTER correct-horse
bob> PASSWORD a b
bob< ROOM #r bob PASSWORD a b
alice< MESSAGE 4 2026-01-01T00:00:00.000Z #r bob PASSWORD a b
bob> CAPS history
bob< ROOM #r bob CAPS history
alice< MESSAGE 5 2026-01-01T00:00:00.000Z #r bob CAPS history
alice> hi
alice< MESSAGE 6 2026-01-01T00:00:00.000Z #r alice hi
bob< ROOM #r alice hi
carol> USERNAME ALICE
carol< ERROR Username taken
carol> USERNAME carol
carol< OK Welcome, carol!
carol> JOIN #R
carol< OK Joined #r (2 users)
carol< JOIN #r alice
carol< JOIN #r bob
carol< ROOM #r bob LOGIN failed again
carol< ROOM #r bob HISTORY #r * 10
carol< ROOM #r bob REGISTER correct-horse
carol< ROOM #r bob PASSWORD a b
carol< ROOM #r bob CAPS history
carol< ROOM #r alice hi
alice< JOIN #r carol
bob< JOIN #r carol
alice> QUIT
alice< OK Goodbye!
alice: closed
bob< LEAVE #r alice
carol< LEAVE #r alice
dave> USERNAME alice
dave< ERROR Username taken
`},
	{name: "accounts_check_order", script: `
# Usage, then state, then the password's length, then the command's own conditions (STATE-3, ACCT-1 to ACCT-4).
alice> REGISTER correct-horse
alice< ERROR Username required
alice> CAPS accounts
alice< OK Enabled accounts
alice> REGISTER
alice< ERROR Usage: REGISTER <password>
alice> REGISTER a b
alice< ERROR Usage: REGISTER <password>
alice> REGISTER correct-horse
alice< ERROR Username required
alice> PASSWORD x
alice< ERROR Usage: PASSWORD <old> <new>
alice> PASSWORD old-password new-password
alice< ERROR Username required
alice> LOGIN alice
alice< ERROR Usage: LOGIN <name> <password>
alice> LOGIN nobody correct-horse
alice< ERROR Login failed
alice> LOGIN bad!name correct-horse
alice< ERROR Login failed
alice> USERNAME alice
alice< OK Welcome, alice!
alice> PASSWORD old-password new-password
alice< ERROR Not registered
alice> REGISTER 1234567
alice< ERROR Invalid password
alice> REGISTER \x{129}
alice< ERROR Invalid password
alice> REGISTER 12345678
alice< OK Registered alice
alice> PASSWORD wrong-one short
alice< ERROR Invalid password
alice> PASSWORD 12345678 \x{129}
alice< ERROR Invalid password
alice> PASSWORD wrong-one \x{128}
alice< ERROR Wrong password
alice> PASSWORD 12345678 \x{128}
alice< OK Password changed
alice> LOGIN alice 12345678
alice< ERROR Username already set
alice> QUIT
alice< OK Goodbye!
alice: closed
bob> CAPS accounts
bob< OK Enabled accounts
bob> LOGIN alice 12345678
bob< ERROR Login failed
bob> LOGIN ALICE \x{128}
bob< OK Welcome, alice!
bob> REGISTER 12345678
bob< ERROR Already registered
`},
	{name: "login_name_in_use", script: `
# The right password for a name in use is "Username taken", not a failure;
# a wrong one fails the same whether or not the owner is there (ACCT-2).
alice> CAPS accounts
alice< OK Enabled accounts
alice> USERNAME Alice
alice< OK Welcome, Alice!
alice> REGISTER correct-horse
alice< OK Registered Alice
bob> CAPS accounts
bob< OK Enabled accounts
bob> LOGIN alice correct-horse
bob< ERROR Username taken
bob> LOGIN alice battery-staple
bob< ERROR Login failed
bob> USERNAME alice
bob< ERROR Username taken
bob> USERNAME bob
bob< OK Welcome, bob!
alice> QUIT
alice< OK Goodbye!
alice: closed
carol> CAPS accounts
carol< OK Enabled accounts
carol> LOGIN aLiCe correct-horse
carol< OK Welcome, Alice!
`},
	{name: "history_rules", script: `
# HISTORY: usage, state, room name, then the newest <limit> below <before>, oldest first (HIST-3, HIST-4).
alice> CAPS history
alice< OK Enabled history
alice> HISTORY #r * 10
alice< ERROR Username required
alice> HISTORY #r * 0
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> HISTORY #r 0 10
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> HISTORY #r 01 10
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> HISTORY #r * 010
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> HISTORY #r x 10
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> HISTORY #r * 10 more
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> HISTORY #r 9223372036854775808 1
alice< ERROR Usage: HISTORY <room> <before> <limit>
alice> USERNAME alice
alice< OK Welcome, alice!
alice> HISTORY nohash * 10
alice< ERROR Invalid room name
alice> HISTORY #nowhere * 100
alice< OK History #nowhere (0 messages)
alice> HISTORY #r 9223372036854775807 1
alice< OK History #r (0 messages)
alice> JOIN #r
alice< OK Joined #r (0 users)
alice> one
alice< MESSAGE 1 2026-01-01T00:00:00.000Z #r alice one
alice> MSG two
alice< MESSAGE 2 2026-01-01T00:00:00.000Z #r alice two
alice> three
alice< MESSAGE 3 2026-01-01T00:00:00.000Z #r alice three
alice> PRIVMSG alice not stored
alice< OK Sent
alice< PRIVMSG alice not stored
alice> HISTORY #R * 2
alice< HISTORY 2 2026-01-01T00:00:00.000Z #r alice two
alice< HISTORY 3 2026-01-01T00:00:00.000Z #r alice three
alice< OK History #R (2 messages)
alice> HISTORY #r 2 2
alice< HISTORY 1 2026-01-01T00:00:00.000Z #r alice one
alice< OK History #r (1 messages)
alice> HISTORY #r 1 5
alice< OK History #r (0 messages)
alice> LEAVE
alice< OK Left #r
alice> HISTORY #r * 100
alice< HISTORY 1 2026-01-01T00:00:00.000Z #r alice one
alice< HISTORY 2 2026-01-01T00:00:00.000Z #r alice two
alice< HISTORY 3 2026-01-01T00:00:00.000Z #r alice three
alice< OK History #r (3 messages)
alice> JOIN #R
alice< OK Joined #R (0 users)
alice> four
alice< MESSAGE 4 2026-01-01T00:00:00.000Z #R alice four
alice> HISTORY #r 5 2
alice< HISTORY 3 2026-01-01T00:00:00.000Z #r alice three
alice< HISTORY 4 2026-01-01T00:00:00.000Z #R alice four
alice< OK History #r (2 messages)
`},
	{name: "history_ids_across_rooms", script: `
# IDs grow across rooms in the order messages are processed; each room keeps its own (HIST-1).
alice> CAPS history
alice< OK Enabled history
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #a
alice< OK Joined #a (0 users)
bob> CAPS history
bob< OK Enabled history
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #b
bob< OK Joined #b (0 users)
alice> one
alice< MESSAGE 1 2026-01-01T00:00:00.000Z #a alice one
bob> two
bob< MESSAGE 2 2026-01-01T00:00:00.000Z #b bob two
alice> three
alice< MESSAGE 3 2026-01-01T00:00:00.000Z #a alice three
bob> HISTORY #a * 100
bob< HISTORY 1 2026-01-01T00:00:00.000Z #a alice one
bob< HISTORY 3 2026-01-01T00:00:00.000Z #a alice three
bob< OK History #a (2 messages)
alice> HISTORY #b * 100
alice< HISTORY 2 2026-01-01T00:00:00.000Z #b bob two
alice< OK History #b (1 messages)
`},
	{name: "history_clock_steps_back", script: `
# A message's time is the clock's, to the millisecond, and never earlier than the last one's (HIST-1).
server: time 2026-05-01T12:00:00.250Z
alice> CAPS history
alice< OK Enabled history
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #t
alice< OK Joined #t (0 users)
alice> one
alice< MESSAGE 1 2026-05-01T12:00:00.250Z #t alice one
server: time 2026-04-01T00:00:00.000Z
alice> two
alice< MESSAGE 2 2026-05-01T12:00:00.250Z #t alice two
server: time 2026-05-01T12:00:01.000Z
alice> three
alice< MESSAGE 3 2026-05-01T12:00:01.000Z #t alice three
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #t
bob< OK Joined #t (1 users)
bob< JOIN #t alice
bob< ROOM #t alice one
bob< ROOM #t alice two
bob< ROOM #t alice three
alice< JOIN #t bob
`},
	{name: "history_keep", cfg: func(c *impl.Config) { c.HistoryKeep = 2 }, script: `
# Only the newest HistoryKeep messages of a room are stored (HIST-4); the replay of JOIN-6 is the room's own.
alice> CAPS history
alice< OK Enabled history
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #k
alice< OK Joined #k (0 users)
alice> one
alice< MESSAGE 1 2026-01-01T00:00:00.000Z #k alice one
alice> two
alice< MESSAGE 2 2026-01-01T00:00:00.000Z #k alice two
alice> three
alice< MESSAGE 3 2026-01-01T00:00:00.000Z #k alice three
alice> HISTORY #k * 100
alice< HISTORY 2 2026-01-01T00:00:00.000Z #k alice two
alice< HISTORY 3 2026-01-01T00:00:00.000Z #k alice three
alice< OK History #k (2 messages)
alice> HISTORY #k 2 100
alice< OK History #k (0 messages)
bob> CAPS history
bob< OK Enabled history
bob> USERNAME bob
bob< OK Welcome, bob!
bob> JOIN #k
bob< OK Joined #k (1 users)
bob< JOIN #k alice
bob< MESSAGE 1 2026-01-01T00:00:00.000Z #k alice one
bob< MESSAGE 2 2026-01-01T00:00:00.000Z #k alice two
bob< MESSAGE 3 2026-01-01T00:00:00.000Z #k alice three
alice< JOIN #k bob
`},
	{name: "history_max_age", cfg: func(c *impl.Config) { c.HistoryMaxAge = time.Hour },
		memOnly: "the store's Writer trims by the real clock, not the transcript's: see TestHistoryMaxAgeDB", script: `
# A stored message older than HistoryMaxAge is no longer returned (HIST-4).
server: time 2026-03-01T10:00:00.000Z
alice> CAPS history
alice< OK Enabled history
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #m
alice< OK Joined #m (0 users)
alice> one
alice< MESSAGE 1 2026-03-01T10:00:00.000Z #m alice one
server: time 2026-03-01T10:30:00.000Z
alice> two
alice< MESSAGE 2 2026-03-01T10:30:00.000Z #m alice two
server: time 2026-03-01T11:00:00.000Z
alice> HISTORY #m * 10
alice< HISTORY 1 2026-03-01T10:00:00.000Z #m alice one
alice< HISTORY 2 2026-03-01T10:30:00.000Z #m alice two
alice< OK History #m (2 messages)
server: time 2026-03-01T11:00:00.001Z
alice> HISTORY #m * 10
alice< HISTORY 2 2026-03-01T10:30:00.000Z #m alice two
alice< OK History #m (1 messages)
server: time 2026-03-01T12:00:00.000Z
alice> HISTORY #m * 10
alice< OK History #m (0 messages)
`},
}

// TestExtensions runs extCases, in memory and with a database.
func TestExtensions(t *testing.T) {
	t.Parallel()
	for _, tc := range extCases {
		for _, variant := range []string{"mem", "db"} {
			t.Run(tc.name+"/"+variant, func(t *testing.T) {
				if variant == "db" && tc.memOnly != "" {
					t.Skip(tc.memOnly)
				}
				t.Parallel()
				cfg := extConfig()
				if tc.cfg != nil {
					tc.cfg(&cfg)
				}
				if variant == "db" {
					cfg = withDB(t, cfg)
				}
				tr := transcript.Transcript{Steps: mustSteps(t, tc.script)}
				runTranscript(t, cfg, tr, sendModes[0])
			})
		}
	}
}

// TestCoreServerHasNoCaps: a server that offers nothing is a core server,
// where CAPS and the words of section 13 are text lines (CAPS-1, D-14).
func TestCoreServerHasNoCaps(t *testing.T) {
	t.Parallel()
	tr := transcript.Transcript{Steps: mustSteps(t, `
alice> CAPS
alice< ERROR Username required
alice> CAPS history
alice< ERROR Username required
alice> LOGIN alice correct-horse
alice< ERROR Username required
alice> USERNAME alice
alice< OK Welcome, alice!
alice> JOIN #c
alice< OK Joined #c (0 users)
alice> HISTORY #c * 10
alice< ROOM #c alice HISTORY #c * 10
alice> REGISTER correct-horse
alice< ROOM #c alice REGISTER correct-horse
`)}
	runTranscript(t, impl.Config{}, tr, sendModes[0])
}

// TestHistoryMaxAgeDB: with a database, too, a message older than
// HistoryMaxAge is not returned (HIST-4). The clock is the real one, set
// back for the old message, since the Writer trims by the real clock.
func TestHistoryMaxAgeDB(t *testing.T) {
	t.Parallel()
	clock := &wallClock{t: time.Now().Add(-2 * time.Hour)}
	cfg := withDB(t, extConfig())
	cfg.HistoryMaxAge = time.Hour
	cfg.Now = clock.Now
	ts := startServer(t, cfg)
	alice := ts.dial(t, "alice")
	alice.send("CAPS history")
	alice.expect("OK Enabled history")
	alice.join("alice", "#m")
	alice.send("old")
	alice.readUntil("MESSAGE 1 ")
	clock.set(time.Now())
	alice.send("new")
	alice.readUntil("MESSAGE 2 ")
	alice.send("HISTORY #m * 10")
	got, err := alice.readLine()
	if err != nil || !strings.HasPrefix(got, "HISTORY 2 ") || !strings.HasSuffix(got, " #m alice new") {
		t.Fatalf("got %q, %v, want the new message alone", got, err)
	}
	alice.expect("OK History #m (1 messages)")
}

// TestEndAfterStoredMessage: with a database, a message is processed only
// once stored, and the end of its sender's stream right after it is
// processed after it (DISC-2, DISC-3): the room hears the message, then
// the LEAVE, and the sender reads its echo before the end.
func TestEndAfterStoredMessage(t *testing.T) {
	t.Parallel()
	ts := startServer(t, withDB(t, extConfig()))
	alice, bob := ts.dial(t, "alice"), ts.dial(t, "bob")
	alice.join("alice", "#r")
	bob.send("CAPS history")
	bob.expect("OK Enabled history")
	enterRoom(bob, "bob", "#r", []*testClient{alice}, []string{"alice"})
	alice.send("bye")
	if err := alice.conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	alice.expect("ROOM #r alice bye")
	alice.expectClosed()
	line, err := bob.readLine()
	if err != nil || !strings.HasPrefix(line, "MESSAGE 1 ") || !strings.HasSuffix(line, " #r alice bye") {
		t.Fatalf("bob got %q, %v, want the message", line, err)
	}
	bob.expect("LEAVE #r alice")
}
