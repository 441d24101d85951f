package client

import (
	"strings"

	"roomchat.dev/roomchat/spec"
)

// passwordDialog asks for the passwords of an account command (PROTOCOL.md
// 13.2), one line at a time, read without echo (UI.ReadSecret), and then
// builds the command. A password is never shown, logged or kept once the
// command is built; an empty answer cancels.
type passwordDialog struct {
	kind    spec.Kind // spec.Register, spec.Login or spec.Password
	name    string    // the name LOGIN logs in to
	answers []string  // the passwords typed so far
}

// newDialog returns the dialog of kind, for LOGIN to name.
func newDialog(kind spec.Kind, name string) *passwordDialog {
	return &passwordDialog{kind: kind, name: name}
}

// prompt returns the prompt for the next password.
func (d *passwordDialog) prompt() string {
	switch d.kind {
	case spec.Login:
		return "password for " + d.name + ": "
	case spec.Register:
		if len(d.answers) == 0 {
			return "new password: "
		}
		return "new password again: "
	default: // spec.Password
		switch len(d.answers) {
		case 0:
			return "current password: "
		case 1:
			return "new password: "
		}
		return "new password again: "
	}
}

// passwordRule says what a password may be, for the user.
const passwordRule = "a password is 8 to 128 bytes, without spaces"

// answer takes the next password typed. When the dialog is over it returns
// done, and either the command to send or, if nothing is to be sent, why
// not, in words for the user.
func (d *passwordDialog) answer(p string) (cmd spec.Command, problem string, done bool) {
	if p == "" {
		d.answers = nil
		return spec.Command{}, "cancelled: nothing sent", true
	}
	d.answers = append(d.answers, p)
	need := map[spec.Kind]int{spec.Login: 1, spec.Register: 2, spec.Password: 3}[d.kind]
	if len(d.answers) < need {
		return spec.Command{}, "", false
	}
	a := d.answers
	d.answers = nil
	switch {
	case d.kind == spec.Register && a[0] != a[1]:
		return spec.Command{}, "the two passwords differ: not registered", true
	case d.kind == spec.Password && a[1] != a[2]:
		return spec.Command{}, "the two new passwords differ: password not changed", true
	}
	for _, p := range a {
		if !validPassword(p) {
			return spec.Command{}, passwordRule + ": nothing sent", true
		}
	}
	switch d.kind {
	case spec.Login:
		return spec.Command{Kind: spec.Login, Arg: d.name, Text: a[0]}, "", true
	case spec.Register:
		return spec.Command{Kind: spec.Register, Text: a[0]}, "", true
	default:
		return spec.Command{Kind: spec.Password, Arg: a[0], Text: a[1]}, "", true
	}
}

// validPassword reports whether p can be a password: of an allowed length
// (ACCT-1), and one word of characters a line may hold (password =
// 1*word-char), so that the command is never a usage error.
func validPassword(p string) bool {
	return spec.ValidPassword(p) && !strings.Contains(p, " ") && spec.CheckLine([]byte(p)) == ""
}

// accountError returns, in words for the user, the ERROR texts of section
// 13.2, given the command answered if the client knows it; "" for any
// other text.
func accountError(text string, answered *spec.Command) string {
	switch text {
	case spec.ErrLoginFailed:
		return "login failed: wrong name or password"
	case spec.ErrInvalidPassword:
		return "password refused: " + passwordRule
	case spec.ErrAlreadyRegistered:
		return "your name is registered already; /password changes its password"
	case spec.ErrNotRegistered:
		return "your name is not registered; /register protects it with a password"
	case spec.ErrWrongPassword:
		return "wrong password: the password is unchanged"
	case spec.ErrUsernameTaken:
		if answered != nil && answered.Kind == spec.Login {
			return "login failed: " + answered.Arg + " is connected already"
		}
	case spec.ErrStorageFailed:
		if answered != nil && answered.Kind == spec.Msg {
			return "not stored, so nobody received it: " + answered.Text
		}
	}
	return ""
}

// accountOK returns, in words for the user, the OK texts of section 13.2;
// "" for any other text.
func accountOK(text string) string {
	if name, ok := strings.CutPrefix(text, "Registered "); ok && spec.ValidUsername(name) {
		return "registered " + name + ": next time log in with /login " + name
	}
	if text == spec.OKPasswordChanged {
		return "password changed: next time log in with the new one"
	}
	return ""
}

// welcomeName returns the name in the text of OK Welcome (USER-1). After
// LOGIN it is the name as registered (ACCT-2), which may differ in case
// from the name typed.
func welcomeName(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, "Welcome, ")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "!")
	return name, ok && spec.ValidUsername(name)
}
