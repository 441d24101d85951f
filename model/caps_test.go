package model_test

import (
	"testing"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

var offerAll = model.Config{Offer: spec.AllExt}

// TestCapsOnlyInNew checks CAPS-1: CAPS is a command in NEW only; after
// USERNAME a line that begins with it is a text line.
func TestCapsOnlyInNew(t *testing.T) {
	play(t, offerAll, `
		alice> CAPS
		alice< CAPS accounts history rooms
		alice> CAPSLOCK
		alice< ERROR Username required
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> CAPS
		alice< ERROR Not in a room
		alice> CAPS history
		alice< ERROR Not in a room
		alice> CAPS  history
		alice< ERROR Not in a room
		alice> JOIN #r
		alice< OK Joined #r (0 users)
		alice> CAPS history
		alice< ROOM #r alice CAPS history
		alice> HISTORY #r * 10
		alice< ROOM #r alice HISTORY #r * 10
	`)
}

// TestCapsOnCoreServer checks CAPS-1: a server that offers nothing has no
// CAPS command, so every CAPS line in NEW is "Username required", a usage
// error included.
func TestCapsOnCoreServer(t *testing.T) {
	play(t, model.Config{}, `
		alice> CAPS
		alice< ERROR Username required
		alice> CAPS history
		alice< ERROR Username required
		alice> CAPS  history
		alice< ERROR Username required
	`)
}

// TestCapsEnable checks CAPS-2: names compared exactly, all or nothing,
// cumulative, repeated names answered as given, usage errors.
func TestCapsEnable(t *testing.T) {
	s := play(t, model.Config{Offer: spec.ExtAccounts}, `
		alice> CAPS
		alice< CAPS accounts
		alice> CAPS history
		alice< ERROR Unknown extension
		alice> CAPS accounts history
		alice< ERROR Unknown extension
		alice> CAPS Accounts
		alice< ERROR Unknown extension
		alice> CAPS accounts\x20
		alice< ERROR Usage: CAPS [<extension> ...]
		alice> CAPS accounts accounts
		alice< OK Enabled accounts accounts
		alice> CAPS accounts
		alice< OK Enabled accounts
	`)
	if got := s.Enabled(1); got != spec.ExtAccounts {
		t.Errorf("Enabled = %v, want accounts only", got.Names())
	}
	if got := s.Offered(); got != spec.ExtAccounts {
		t.Errorf("Offered = %v", got.Names())
	}

	// A refused CAPS enables nothing, not even its offered names; a later
	// one adds to what is enabled.
	s = play(t, offerAll, `
		alice> CAPS history shoes
		alice< ERROR Unknown extension
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> JOIN #r
		alice< OK Joined #r (0 users)
		alice> hi
		alice< ROOM #r alice hi
		bob> CAPS accounts
		bob< OK Enabled accounts
		bob> CAPS history
		bob< OK Enabled history
		bob> USERNAME bob
		bob< OK Welcome, bob!
		bob> REGISTER long-enough
		bob< OK Registered bob
		bob> JOIN #r
		bob< OK Joined #r (1 users)
		bob< JOIN #r alice
		bob< MESSAGE 1 2026-01-01T00:00:00.000Z #r alice hi
		alice< JOIN #r bob
	`)
	if s.Enabled(1) != 0 || s.Enabled(2) != spec.ExtAccounts|spec.ExtHistory {
		t.Errorf("Enabled = %v and %v", s.Enabled(1).Names(), s.Enabled(2).Names())
	}
}

// TestCoreWordsStayText checks CAPS-3: the words of an extension are
// command words only where it is enabled; elsewhere they begin room
// messages, and each member receives each message in its own form.
func TestCoreWordsStayText(t *testing.T) {
	play(t, offerAll, `
		alice> CAPS history
		alice< OK Enabled history
		alice> USERNAME alice
		alice< OK Welcome, alice!
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
		alice> REGISTER correct-horse
		alice< MESSAGE 3 2026-01-01T00:00:00.000Z #r alice REGISTER correct-horse
		bob< ROOM #r alice REGISTER correct-horse
		alice> PASSWORD a b
		alice< MESSAGE 4 2026-01-01T00:00:00.000Z #r alice PASSWORD a b
		bob< ROOM #r alice PASSWORD a b
		alice> LOGIN
		alice< MESSAGE 5 2026-01-01T00:00:00.000Z #r alice LOGIN
		bob< ROOM #r alice LOGIN
		carol> LOGIN alice correct-horse
		carol< ERROR Username required
		carol> HISTORY #r * 1
		carol< ERROR Username required
	`)
}

// TestMixedRecipients checks CAPS-3 and HIST-2 with members of every kind:
// the echo, the others' copies and the replay to joiners, each in the
// recipient's own form, in the same order.
func TestMixedRecipients(t *testing.T) {
	s := play(t, offerAll, `
		server: time 2026-03-01T12:00:00.000Z
		h> CAPS history
		h< OK Enabled history
		h> USERNAME h
		h< OK Welcome, h!
		h> JOIN #mix
		h< OK Joined #mix (0 users)
		a> CAPS accounts
		a< OK Enabled accounts
		a> USERNAME a
		a< OK Welcome, a!
		a> JOIN #mix
		a< OK Joined #mix (1 users)
		a< JOIN #mix h
		h< JOIN #mix a
		c> USERNAME c
		c< OK Welcome, c!
		c> JOIN #MIX
		c< OK Joined #mix (2 users)
		c< JOIN #mix h
		c< JOIN #mix a
		h< JOIN #mix c
		a< JOIN #mix c
		c> one
		c< ROOM #mix c one
		h< MESSAGE 1 2026-03-01T12:00:00.000Z #mix c one
		a< ROOM #mix c one
		server: time 2026-03-01T12:00:05.500Z
		h> MSG two
		h< MESSAGE 2 2026-03-01T12:00:05.500Z #mix h two
		a< ROOM #mix h two
		c< ROOM #mix h two
		h2> CAPS accounts history
		h2< OK Enabled accounts history
		h2> USERNAME h2
		h2< OK Welcome, h2!
		h2> JOIN #mix
		h2< OK Joined #mix (3 users)
		h2< JOIN #mix h
		h2< JOIN #mix a
		h2< JOIN #mix c
		h2< MESSAGE 1 2026-03-01T12:00:00.000Z #mix c one
		h2< MESSAGE 2 2026-03-01T12:00:05.500Z #mix h two
		h< JOIN #mix h2
		a< JOIN #mix h2
		c< JOIN #mix h2
		c2> USERNAME c2
		c2< OK Welcome, c2!
		c2> JOIN #mix
		c2< OK Joined #mix (4 users)
		c2< JOIN #mix h
		c2< JOIN #mix a
		c2< JOIN #mix c
		c2< JOIN #mix h2
		c2< ROOM #mix c one
		c2< ROOM #mix h two
		h< JOIN #mix c2
		a< JOIN #mix c2
		c< JOIN #mix c2
		h2< JOIN #mix c2
	`)
	want := []string{"ROOM #mix c one", "ROOM #mix h two"}
	if got := s.History("#mix"); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("History = %q, want %q", got, want)
	}
	if r := s.Replay("#MIX"); len(r) != 2 || r[1] != (model.Message{ID: 2, Time: "2026-03-01T12:00:05.500Z", Room: "#mix", User: "h", Text: "two"}) {
		t.Errorf("Replay = %+v", r)
	}
}
