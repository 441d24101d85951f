package client

import (
	"testing"

	"roomchat.dev/roomchat/spec"
)

// TestOpeningEnables: the answer to CAPS decides what the client enables:
// what it wants of what is offered, named in the order of PROTOCOL.md;
// nothing from a core server.
func TestOpeningEnables(t *testing.T) {
	tests := []struct {
		answer  string
		enable  string // the CAPS sent next; "" for none
		enabled spec.Ext
	}{
		{"CAPS accounts history", "CAPS accounts history", spec.ExtAccounts | spec.ExtHistory},
		{"CAPS history durable accounts", "CAPS accounts history", spec.ExtAccounts | spec.ExtHistory},
		{"CAPS history", "CAPS history", spec.ExtHistory},
		{"CAPS accounts", "CAPS accounts", spec.ExtAccounts},
		{"CAPS tls shoes", "", 0},
		{"CAPS", "", 0},
		{"ERROR Username required", "", 0}, // a core server (CAPS-1)
	}
	for _, tt := range tests {
		var o opening
		if got := o.query().String(); got != "CAPS" {
			t.Fatalf("query %q", got)
		}
		l := mustParse(t, tt.answer)
		if !o.answers(l) {
			t.Fatalf("%q does not answer CAPS", tt.answer)
		}
		answered, enable := o.answer(l)
		if answered.Kind != spec.Caps || !o.known {
			t.Errorf("%q answers %v, known %v", tt.answer, answered, o.known)
		}
		var got string
		if enable != nil {
			got = enable.String()
		}
		if got != tt.enable || o.enabled != tt.enabled {
			t.Errorf("after %q: enable %q, enabled %v; want %q, %v", tt.answer, got, o.enabled, tt.enable, tt.enabled)
		}
	}
}

// TestOpeningPipelined: the CAPS that enables and the USERNAME go out
// together; the answers come in order (ORDER-2) and are matched in order;
// the ERROR lines a server sends on its own answer nothing.
func TestOpeningPipelined(t *testing.T) {
	var o opening
	o.query()
	_, enable := o.answer(mustParse(t, "CAPS accounts history"))
	if enable == nil {
		t.Fatal("nothing enabled")
	}
	o.sent(spec.Command{Kind: spec.Login, Arg: "alice", Text: "correct-horse"})
	if !o.naming() {
		t.Error("LOGIN sent, but not naming")
	}
	for _, c := range o.awaiting {
		if c.Text == "correct-horse" {
			t.Errorf("a password is kept: %+v", o.awaiting)
		}
	}
	steps := []struct {
		line     string
		answers  bool
		answered spec.Kind
	}{
		{"PONG", false, 0},
		{"ERROR Server shutting down", false, 0},
		{"OK Enabled accounts history", true, spec.Caps},
		{"OK Welcome, alice!", true, spec.Login},
		{"OK Joined #a (0 users)", false, 0}, // nothing awaits
	}
	for _, st := range steps {
		l := mustParse(t, st.line)
		if o.answers(l) != st.answers {
			t.Fatalf("%q answers: %v, want %v", st.line, !st.answers, st.answers)
		}
		if !st.answers {
			continue
		}
		if c, _ := o.answer(l); c.Kind != st.answered {
			t.Fatalf("%q answers %v, want %v", st.line, c.Kind, st.answered)
		}
	}
	if o.naming() || !o.has(spec.ExtAccounts) || !o.has(spec.ExtHistory) {
		t.Errorf("at the end: naming %v, enabled %v", o.naming(), o.enabled)
	}
}

// TestOpeningRefused: if the CAPS that enables is refused, nothing is
// enabled (CAPS-2).
func TestOpeningRefused(t *testing.T) {
	var o opening
	o.query()
	o.answer(mustParse(t, "CAPS accounts history"))
	o.sent(spec.Command{Kind: spec.Username, Arg: "bob"})
	o.answer(mustParse(t, "ERROR Unknown extension"))
	if o.enabled != 0 || o.has(spec.ExtAccounts) {
		t.Errorf("enabled %v after ERROR Unknown extension", o.enabled)
	}
	if c, _ := o.answer(mustParse(t, "ERROR Username required")); c.Kind != spec.Username {
		t.Errorf("the next answer is for %v", c.Kind)
	}
}
