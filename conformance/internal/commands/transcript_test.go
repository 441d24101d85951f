package commands

import (
	"strings"
	"testing"
)

// TestTranscriptUnread: a line a client received but the script has not
// consumed is marked "(unread)" in the transcript; once consumed it is not.
func TestTranscriptUnread(t *testing.T) {
	tr := NewTranscript()
	c := &Client{name: "bob", tr: tr, lines: [][]byte{[]byte("hello\r\n"), []byte("again\r\n")}}
	tr.add(event{client: c, kind: evReceived, data: c.lines[0], index: 0})
	tr.add(event{client: c, kind: evReceived, data: c.lines[1], index: 1})
	c.next = 1
	out := tr.String()
	if !strings.Contains(out, "bob< hello\n") || !strings.Contains(out, "bob< again   (unread)\n") {
		t.Errorf("transcript:\n%s", out)
	}
	events := tr.Events()
	if len(events) != 2 || events[0].Unread || !events[1].Unread {
		t.Errorf("events %+v", events)
	}
}
