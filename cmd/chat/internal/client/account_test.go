package client

import (
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/spec"
)

func TestPasswordDialog(t *testing.T) {
	tests := []struct {
		name    string
		dialog  *passwordDialog
		typed   []string
		prompts []string // the prompt before each password
		wire    string   // the command built; "" for none
		problem string   // substring of the problem; "" for none
	}{
		{"register", newDialog(spec.Register, ""), []string{"correct-horse", "correct-horse"},
			[]string{"new password: ", "new password again: "}, "REGISTER correct-horse", ""},
		{"register differs", newDialog(spec.Register, ""), []string{"correct-horse", "correct-hose"},
			nil, "", "the two passwords differ"},
		{"register short", newDialog(spec.Register, ""), []string{"short", "short"},
			nil, "", "8 to 128 bytes"},
		{"register long", newDialog(spec.Register, ""), []string{strings.Repeat("x", 129), strings.Repeat("x", 129)},
			nil, "", "8 to 128 bytes"},
		{"register spaced", newDialog(spec.Register, ""), []string{"correct horse", "correct horse"},
			nil, "", "without spaces"},
		{"register control", newDialog(spec.Register, ""), []string{"correct\x1bhorse", "correct\x1bhorse"},
			nil, "", "8 to 128 bytes"},
		{"register cancelled", newDialog(spec.Register, ""), []string{"correct-horse", ""},
			nil, "", "cancelled"},
		{"login", newDialog(spec.Login, "alice"), []string{"correct-horse"},
			[]string{"password for alice: "}, "LOGIN alice correct-horse", ""},
		{"login cancelled", newDialog(spec.Login, "alice"), []string{""}, nil, "", "cancelled"},
		{"password", newDialog(spec.Password, ""), []string{"correct-horse", "battery-staple", "battery-staple"},
			[]string{"current password: ", "new password: ", "new password again: "}, "PASSWORD correct-horse battery-staple", ""},
		{"password differs", newDialog(spec.Password, ""), []string{"correct-horse", "battery-staple", "battery-stable"},
			nil, "", "the two new passwords differ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prompts []string
			var cmd spec.Command
			var problem string
			for i, p := range tt.typed {
				prompts = append(prompts, tt.dialog.prompt())
				var done bool
				cmd, problem, done = tt.dialog.answer(p)
				if done != (i == len(tt.typed)-1) {
					t.Fatalf("after %d passwords: done %v", i+1, done)
				}
			}
			if tt.prompts != nil && !slices.Equal(prompts, tt.prompts) {
				t.Errorf("prompts %q, want %q", prompts, tt.prompts)
			}
			var wire string
			if cmd.Kind != 0 {
				wire = cmd.String()
			}
			if wire != tt.wire || tt.problem == "" && problem != "" || !strings.Contains(problem, tt.problem) {
				t.Errorf("got %q, problem %q; want %q, problem %q", wire, problem, tt.wire, tt.problem)
			}
			for _, p := range tt.typed {
				if p != "" && strings.Contains(problem, p) {
					t.Errorf("the problem shows a password: %q", problem)
				}
			}
			if tt.dialog.answers != nil {
				t.Errorf("the dialog keeps the passwords after it ended")
			}
		})
	}
}

func TestAccountWords(t *testing.T) {
	login := &spec.Command{Kind: spec.Login, Arg: "alice"}
	msg := &spec.Command{Kind: spec.Msg, Text: "hello"}
	tests := []struct {
		line   string
		answer *spec.Command
		want   string
	}{
		{"OK Registered alice", nil, "15:04 registered alice: next time log in with /login alice"},
		{"OK Password changed", nil, "15:04 password changed: next time log in with the new one"},
		{"ERROR Login failed", login, "15:04 ! login failed: wrong name or password"},
		{"ERROR Username taken", login, "15:04 ! login failed: alice is connected already"},
		{"ERROR Username taken", nil, "15:04 ! Username taken"},
		{"ERROR Invalid password", nil, "15:04 ! password refused: a password is 8 to 128 bytes, without spaces"},
		{"ERROR Already registered", nil, "15:04 ! your name is registered already; /password changes its password"},
		{"ERROR Not registered", nil, "15:04 ! your name is not registered; /register protects it with a password"},
		{"ERROR Wrong password", nil, "15:04 ! wrong password: the password is unchanged"},
		{"ERROR Storage failed", msg, "15:04 ! not stored, so nobody received it: hello"},
		{"ERROR Storage failed", nil, "15:04 ! Storage failed"},
		{"OK Enabled accounts", nil, "15:04 Enabled accounts"},
	}
	for _, tt := range tests {
		if got, _ := render(t, plain(), tt.line, View{Self: "alice", Answer: tt.answer}); got != tt.want {
			t.Errorf("%q: %q, want %q", tt.line, got, tt.want)
		}
	}
}

func TestWelcomeName(t *testing.T) {
	for _, tt := range []struct {
		text, name string
		ok         bool
	}{
		{"Welcome, alice!", "alice", true},
		{"Welcome, Al_ice-2!", "Al_ice-2", true},
		{"Welcome, al ice!", "", false},
		{"Welcome alice!", "", false},
		{"Welcome, alice", "", false},
	} {
		if name, ok := welcomeName(tt.text); ok != tt.ok || ok && name != tt.name {
			t.Errorf("welcomeName(%q) = %q, %v", tt.text, name, ok)
		}
	}
}
