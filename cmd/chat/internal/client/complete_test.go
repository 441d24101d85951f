package client

import (
	"slices"
	"strings"
	"testing"
)

func TestComplete(t *testing.T) {
	names := Names{Users: []string{"alice", "Alan", "bob"}, Rooms: []string{"#general", "#games", "#tea"}}
	tests := []struct {
		line    string // '|' marks the cursor
		want    string
		options []string
	}{
		{"/j|", "/join |", nil},
		{"/J|", "/join |", nil},
		{"/l|", "/l|", []string{"/login", "/leave"}},
		{"/le|", "/leave |", nil},
		{"/lo|", "/login |", nil},
		{"/|", "/|", []string{"/join", "/part", "/win", "/msg", "/users", "/rooms", "/history", "/login", "/register", "/password", "/quit", "/help", "/leave"}},
		{"/p|", "/pa|", []string{"/part", "/password"}},
		{"/w|", "/win |", nil},
		{"/r|", "/r|", []string{"/rooms", "/register"}},
		{"/ro|", "/rooms |", nil},
		{"/h|", "/h|", []string{"/history", "/help"}},
		{"/x|", "/x|", nil},
		{"//j|", "//j|", nil},
		{"/join #g|", "/join #g|", []string{"#general", "#games"}},
		{"/join #ge|", "/join #general |", nil},
		{"/join #gen|", "/join #general |", nil},
		{"/join #t|", "/join #tea |", nil},
		{"bo|", "bob: |", nil},
		{"hi bo|", "hi bob |", nil},
		{"hi B|", "hi bob |", nil},
		{"hi a|", "hi al|", []string{"alice", "Alan"}},
		{"hi al|", "hi al|", []string{"alice", "Alan"}},
		{"hi ali|", "hi alice |", nil},
		{"/msg b|", "/msg bob |", nil},
		{"/msg b| hi", "/msg bob| hi", nil},
		{"hi bo|b", "hi bob |b", nil},
		{"hi carol|", "hi carol|", nil},
		{"hi |", "hi |", nil},
		{"|", "|", nil},
		{"join /j|", "join /j|", nil}, // a command only at the start
	}
	for _, tt := range tests {
		pos := strings.Index(tt.line, "|")
		line := strings.Replace(tt.line, "|", "", 1)
		newLine, newPos, options := Complete(line, pos, names)
		got := newLine[:newPos] + "|" + newLine[newPos:]
		if got != tt.want || !slices.Equal(options, tt.options) {
			t.Errorf("Complete(%q) = %q %q, want %q %q", tt.line, got, options, tt.want, tt.options)
		}
	}
}

func TestCompleteNoNames(t *testing.T) {
	if l, p, o := Complete("hi a", 4, Names{}); l != "hi a" || p != 4 || o != nil {
		t.Errorf("got %q %d %q", l, p, o)
	}
	if l, p, _ := Complete("x", 9, Names{}); l != "x" || p != 9 {
		t.Errorf("bad pos: got %q %d", l, p)
	}
}
