package cluster

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	n := newNames("ROOMCHAT", "roomchat")
	if n.filter != "roomchat.log.*" {
		t.Fatalf("filter %q", n.filter)
	}
	if s := n.entrySubject("a1"); s != "roomchat.log.a1" {
		t.Fatalf("entry subject %q", s)
	}
	if s := n.hbSubject("a1"); s != "roomchat.hb.a1" {
		t.Fatalf("heartbeat subject %q", s)
	}
	for subject, want := range map[string]string{
		"roomchat.log.a1":   "a1",
		"roomchat.log.":     "",
		"roomchat.log.a.b":  "",
		"roomchat.log":      "",
		"roomchat.hb.a1":    "",
		"other.log.a1":      "",
		"roomchat.log.a b":  "",
		"roomchat.log.NODE": "NODE",
	} {
		got, err := n.entryNode(subject)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("entryNode(%q) = %q, %v; want %q", subject, got, err, want)
		}
	}
	if got, err := n.hbNode("roomchat.hb.x"); got != "x" || err != nil {
		t.Errorf("hbNode = %q, %v", got, err)
	}
}

func TestValidNode(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "A-b_9": true, NewNode(): true, strings.Repeat("x", MaxNodeLen): true,
		"": false, "a.b": false, "a*": false, ">": false, "a b": false, "é": false,
		strings.Repeat("x", MaxNodeLen+1): false,
	} {
		if validNode(id) != want {
			t.Errorf("validNode(%q) = %v", id, !want)
		}
	}
	if NewNode() == NewNode() {
		t.Error("NewNode repeats itself")
	}
}

// FuzzEntryNode checks the one parser of the package, which reads the node
// out of a subject that the stream delivered: it accepts exactly the
// subjects made by entrySubject from one token.
func FuzzEntryNode(f *testing.F) {
	for _, s := range []string{"roomchat.log.a", "roomchat.log.", "roomchat.log.a.b", "roomchat.hb.a", "", "roomchat.log.a\r\n"} {
		f.Add(s)
	}
	n := newNames("ROOMCHAT", "roomchat")
	f.Fuzz(func(t *testing.T, subject string) {
		node, err := n.entryNode(subject)
		if err != nil {
			if node != "" {
				t.Fatalf("node %q with error", node)
			}
			return
		}
		if node == "" || strings.ContainsAny(node, ". \t\r\n") {
			t.Fatalf("entryNode(%q) = %q", subject, node)
		}
		if n.entrySubject(node) != subject {
			t.Fatalf("entryNode(%q) = %q, which does not round-trip", subject, node)
		}
		if validNode(node) {
			if back, err := n.entryNode(n.entrySubject(node)); err != nil || back != node {
				t.Fatalf("valid node %q does not round-trip: %q, %v", node, back, err)
			}
		}
	})
}
