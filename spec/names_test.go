package spec_test

import (
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

func TestValidUsername(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"alice", true},
		{"a", true},
		{"b_o-b", true},
		{"ALICE", true},
		{"0", true},
		{"_", true},
		{"-", true},
		{"Az09_-", true},
		{strings.Repeat("x", 32), true},
		{strings.Repeat("x", 33), false},
		{"", false},
		{"bob!", false},
		{"al ice", false},
		{" alice", false},
		{"alice ", false},
		{"#alice", false},
		{"al.ice", false},
		{"al\tice", false},
		{"al\x00ice", false},
		{"élise", false},
		{"aliceé", false},
		{"ａlice", false}, // fullwidth a
		{"\xff", false},
	} {
		if got := spec.ValidUsername(tt.name); got != tt.want {
			t.Errorf("ValidUsername(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestValidRoom(t *testing.T) {
	for _, tt := range []struct {
		name string
		want bool
	}{
		{"#general", true},
		{"#a", true},
		{"#General", true},
		{"#b_o-b9", true},
		{"#" + strings.Repeat("r", 31), true}, // 32 bytes in all
		{"#" + strings.Repeat("r", 32), false},
		{"#", false},
		{"", false},
		{"general", false},
		{"##a", false},
		{"#a#", false},
		{"#a b", false},
		{" #a", false},
		{"#a ", false},
		{"#é", false},
		{"&a", false},
		{"#a\x00", false},
	} {
		if got := spec.ValidRoom(tt.name); got != tt.want {
			t.Errorf("ValidRoom(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestNameCharset checks every byte against name-char of PROTOCOL.md 4.
func TestNameCharset(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
		s := string([]byte{byte(c)})
		if got := spec.ValidUsername(s); got != want {
			t.Errorf("ValidUsername(%q) = %v, want %v", s, got, want)
		}
		if got := spec.ValidUsername("ab" + s + "cd"); got != want {
			t.Errorf("ValidUsername(%q) = %v, want %v", "ab"+s+"cd", got, want)
		}
		if got := spec.ValidRoom("#" + s); got != want {
			t.Errorf("ValidRoom(%q) = %v, want %v", "#"+s, got, want)
		}
	}
	if spec.MaxNameLen != 32 || spec.MaxRoomLen != 32 {
		t.Errorf("MaxNameLen, MaxRoomLen = %d, %d; PROTOCOL.md 4 says 32, 32", spec.MaxNameLen, spec.MaxRoomLen)
	}
}

func TestFold(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"alice", "alice"},
		{"Alice", "alice"},
		{"ALICE", "alice"},
		{"aLiCe", "alice"},
		{"#General", "#general"},
		{"#GENERAL", "#general"},
		{"B_O-B9", "b_o-b9"},
		{"@[`{", "@[`{"},     // the neighbours of A-Z and a-z
		{"ÉLISE", "Élise"},   // ASCII folding only
		{"\u0130", "\u0130"}, // dotted capital I
		{"\u212a", "\u212a"}, // Kelvin sign, which Unicode folds to k
	} {
		if got := spec.Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	// NAME-3: the same user, the same room.
	pairs := [][2]string{{"alice", "ALICE"}, {"Alice", "aLICE"}, {"#General", "#general"}, {"#Tea", "#tea"}}
	for _, p := range pairs {
		if spec.Fold(p[0]) != spec.Fold(p[1]) {
			t.Errorf("Fold(%q) != Fold(%q)", p[0], p[1])
		}
	}
	if spec.Fold("alice") == spec.Fold("alicf") || spec.Fold("a-b") == spec.Fold("a_b") {
		t.Errorf("Fold merges different names")
	}
}
