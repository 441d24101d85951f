package model_test

import (
	"slices"
	"testing"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// TestRoomsCheckOrder checks the order of the checks of MULTI-2 and
// MULTI-3: an invalid name before membership, membership before the
// limit, and the limit last.
func TestRoomsCheckOrder(t *testing.T) {
	play(t, model.Config{Offer: spec.AllExt, MaxRooms: 1}, `
		alice> CAPS rooms
		alice< OK Enabled rooms
		alice> JOIN #tea
		alice< ERROR Username required
		alice> LEAVE #tea
		alice< ERROR Username required
		alice> LEAVE
		alice< ERROR Usage: LEAVE <room>
		alice> USERNAME alice
		alice< OK Welcome, alice!
		alice> JOIN #tea
		alice< OK Joined #tea (0 users)
		alice> JOIN tea
		alice< ERROR Invalid room name
		alice> JOIN #Tea
		alice< ERROR Already in room
		alice> JOIN #coffee
		alice< ERROR Too many rooms
		alice> LEAVE coffee
		alice< ERROR Invalid room name
		alice> LEAVE #coffee
		alice< ERROR Not in that room
		alice> USERS #coffee
		alice< ERROR Not in that room
		alice> MSG #coffee hi
		alice< ERROR Not in that room
	`)
}

// TestRoomsLastLeaveIsLobby checks STATE-1 for a connection that enabled
// rooms: leaving its last room puts it back in LOBBY, where a text line
// is "Not in a room"; and a core member of a room sees the other rooms of
// its members in nothing (MULTI-1).
func TestRoomsLastLeaveIsLobby(t *testing.T) {
	s := play(t, model.Config{Offer: spec.AllExt}, `
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
		alice> MSG #b elsewhere
		alice< ROOM #b alice elsewhere
		alice> LEAVE #b
		alice< OK Left #b
		alice> LEAVE #a
		alice< OK Left #a
		bob< LEAVE #a alice
		alice> anyone?
		alice< ERROR Not in a room
		bob> USERS
		bob< USERLIST bob
	`)
	if rooms := s.RoomsOf(1); rooms != nil {
		t.Errorf("alice is in %q after leaving every room", rooms)
	}
	if got := s.RoomsOf(2); !slices.Equal(got, []string{"#a"}) {
		t.Errorf("bob is in %q", got)
	}
}
