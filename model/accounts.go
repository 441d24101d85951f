package model

import "roomchat.dev/roomchat/spec"

// register is ACCT-1: the connection's own name becomes an account's.
func (st *stepper) register(cmd spec.Command) {
	i := st.s.connIndex(st.id)
	name := st.s.conns[i].name
	switch {
	case !spec.ValidPassword(cmd.Text):
		st.fail(spec.ErrInvalidPassword)
	case st.s.IsAccount(name):
		st.fail(spec.ErrAlreadyRegistered)
	default:
		st.s.accounts = append(st.s.accounts, account{name: name, password: cmd.Text})
		st.s.conns[i].account = true
		st.reply(spec.OKLine(spec.OKRegistered(name)))
	}
}

// login is ACCT-2: in NEW, the right password takes the account's name as
// USERNAME would (USER-1), spelled as registered; any other failure is
// the one reply "Login failed", whether or not the name exists.
func (st *stepper) login(cmd spec.Command) {
	i := st.s.connIndex(st.id)
	a := st.s.accountIndex(cmd.Arg) // -1 for an invalid name too
	switch _, taken := st.s.userByName(cmd.Arg); {
	case st.s.conns[i].name != "":
		st.fail(spec.ErrUsernameSet) // as NAME-5
	case a < 0 || st.s.accounts[a].password != cmd.Text:
		st.fail(spec.ErrLoginFailed)
	case taken:
		st.fail(spec.ErrUsernameTaken)
	default:
		name := st.s.accounts[a].name
		st.s.conns[i].name, st.s.conns[i].account = name, true
		st.reply(spec.OKLine(spec.OKWelcome(name)))
	}
}

// password is ACCT-4, its checks in the rule's order.
func (st *stepper) password(cmd spec.Command) {
	a := st.s.accountIndex(st.s.Name(st.id))
	switch {
	case a < 0:
		st.fail(spec.ErrNotRegistered)
	case !spec.ValidPassword(cmd.Text):
		st.fail(spec.ErrInvalidPassword)
	case st.s.accounts[a].password != cmd.Arg:
		st.fail(spec.ErrWrongPassword)
	default:
		st.s.accounts[a].password = cmd.Text
		st.reply(spec.OKLine(spec.OKPasswordChanged))
	}
}
