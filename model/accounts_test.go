package model_test

import (
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/model"
)

// TestRegisterOrder checks ACCT-1 in its order: a name (STATE-2), then the
// password's length, then whether the name is already an account's.
func TestRegisterOrder(t *testing.T) {
	s := play(t, offerAll, `
		alice> CAPS accounts
		alice< OK Enabled accounts
		alice> REGISTER correct-horse
		alice< ERROR Username required
		alice> REGISTER
		alice< ERROR Usage: REGISTER <password>
		alice> USERNAME Alice
		alice< OK Welcome, Alice!
		alice> REGISTER two words
		alice< ERROR Usage: REGISTER <password>
		alice> REGISTER 1234567
		alice< ERROR Invalid password
		alice> REGISTER \x{129}
		alice< ERROR Invalid password
		alice> REGISTER 12345678
		alice< OK Registered Alice
		alice> REGISTER short
		alice< ERROR Invalid password
		alice> REGISTER \x{128}
		alice< ERROR Already registered
	`)
	if got := s.Accounts(); !slices.Equal(got, []string{"Alice"}) {
		t.Errorf("Accounts = %q", got)
	}
	if p, ok := s.Password("ALICE"); !ok || p != "12345678" {
		t.Errorf("Password = %q, %v", p, ok)
	}
	if !s.IsAccount("alice") || s.IsAccount("bob") {
		t.Errorf("IsAccount wrong")
	}
}

// TestLoginRules checks ACCT-2 and ACCT-3: LOGIN only in NEW; the one
// failure for every wrong name or password, an invalid name included;
// "Username taken" only with the right password; the name as registered;
// USERNAME never takes an account's name, on any connection.
func TestLoginRules(t *testing.T) {
	s := play(t, offerAll, `
		alice> CAPS accounts
		alice< OK Enabled accounts
		alice> USERNAME Alice
		alice< OK Welcome, Alice!
		alice> REGISTER correct-horse
		alice< OK Registered Alice
		alice> LOGIN Alice correct-horse
		alice< ERROR Username already set
		alice> LOGIN nobody x
		alice< ERROR Username already set
		alice> LOGIN Alice
		alice< ERROR Usage: LOGIN <name> <password>
		bob> CAPS accounts
		bob< OK Enabled accounts
		bob> LOGIN alice correct-horse
		bob< ERROR Username taken
		bob> LOGIN alice Correct-horse
		bob< ERROR Login failed
		bob> LOGIN bad! correct-horse
		bob< ERROR Login failed
		bob> LOGIN nobody correct-horse
		bob< ERROR Login failed
		bob> LOGIN  alice correct-horse
		bob< ERROR Usage: LOGIN <name> <password>
		bob> USERNAME ALICE
		bob< ERROR Username taken
		carol> USERNAME alice
		carol< ERROR Username taken
		alice> QUIT
		alice< OK Goodbye!
		alice: closed
		carol> USERNAME alice
		carol< ERROR Username taken
		bob> LOGIN ALICE correct-horse
		bob< OK Welcome, Alice!
		bob> REGISTER another-one
		bob< ERROR Already registered
		dave> CAPS accounts
		dave< OK Enabled accounts
		dave> USERNAME dave
		dave< OK Welcome, dave!
		erin> CAPS accounts
		erin< OK Enabled accounts
		erin> LOGIN dave whatever-it-is
		erin< ERROR Login failed
	`)
	if got := s.Name(2); got != "Alice" {
		t.Errorf("bob's connection is called %q", got)
	}
}

// TestPasswordOrder checks ACCT-4 in its order: a name, then "Not
// registered", then the new password's length, then the old password.
func TestPasswordOrder(t *testing.T) {
	s := play(t, offerAll, `
		alice> CAPS accounts
		alice< OK Enabled accounts
		alice> PASSWORD correct-horse battery-staple
		alice< ERROR Username required
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> PASSWORD x y
		alice< ERROR Not registered
		alice> PASSWORD correct-horse
		alice< ERROR Usage: PASSWORD <old> <new>
		alice> REGISTER correct-horse
		alice< OK Registered alice
		alice> PASSWORD wrong-horse short
		alice< ERROR Invalid password
		alice> PASSWORD wrong-horse battery-staple
		alice< ERROR Wrong password
		alice> PASSWORD correct-horse correct-horse
		alice< OK Password changed
		alice> PASSWORD correct-horse battery-staple
		alice< OK Password changed
		alice> QUIT
		alice< OK Goodbye!
		alice: closed
		bob> CAPS accounts
		bob< OK Enabled accounts
		bob> LOGIN alice correct-horse
		bob< ERROR Login failed
		bob> LOGIN alice battery-staple
		bob< OK Welcome, alice!
		bob> PASSWORD battery-staple correct-horse
		bob< OK Password changed
	`)
	if p, _ := s.Password("alice"); p != "correct-horse" {
		t.Errorf("Password = %q", p)
	}
}

// TestNoPasswordSentBack checks ACCT-6 over the commands of the account
// tests: no line the model sends holds a password.
func TestNoPasswordSentBack(t *testing.T) {
	s := model.New(offerAll)
	var outs []model.Output
	for _, ev := range []model.Event{
		{Kind: model.Connect},
		{Kind: model.Line, Line: "CAPS accounts"},
		{Kind: model.Line, Line: "USERNAME alice"},
		{Kind: model.Line, Line: "REGISTER pass-word-1"},
		{Kind: model.Line, Line: "PASSWORD pass-word-1 pass-word-2"},
		{Kind: model.Line, Line: "PASSWORD pass-word-1 pass-word-2"},
		{Kind: model.Line, Line: "QUIT"},
	} {
		var o []model.Output
		s, o = s.Step(1, ev)
		outs = append(outs, o...)
	}
	s, _ = s.Step(2, model.Event{Kind: model.Connect})
	for _, l := range []string{"CAPS accounts", "LOGIN alice pass-word-1", "LOGIN alice pass-word-2"} {
		var o []model.Output
		s, o = s.Step(2, model.Event{Kind: model.Line, Line: l})
		outs = append(outs, o...)
	}
	for _, o := range outs {
		if strings.Contains(o.Line, "pass-word") {
			t.Errorf("sent %v", o)
		}
	}
	if len(outs) != 10 {
		t.Fatalf("%d outputs: %v", len(outs), outs)
	}
}
