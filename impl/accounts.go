package impl

import (
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/spec"
)

// Accounts (PROTOCOL.md 13.2). The loop keeps every account in memory, by
// folded name, loaded from the database at start if there is one. A
// password is hashed and verified on the pool (async.go), never in the
// loop, and with a database an account or a new password is committed
// before its OK (HIST-5). A LOGIN, REGISTER or PASSWORD is processed
// (ORDER-1) when its last result comes back, and its checks are made then,
// against the accounts and users of that moment; the checks made when the
// line is read only spare the pool work that could not succeed.

// account is a registered name. Owned by the loop goroutine.
type account struct {
	name string // as spelled when it was registered (ACCT-2)
	hash string // PHC string (passwd.Hash); never the password (ACCT-6)
}

// registerAccount registers c's name with a password (ACCT-1).
func (l *loop) registerAccount(c *client, cmd spec.Command) {
	if !spec.ValidPassword(cmd.Text) {
		l.reply(c, spec.ErrorLine(spec.ErrInvalidPassword))
		return
	}
	if l.registered(c.fold) {
		l.reply(c, spec.ErrorLine(spec.ErrAlreadyRegistered))
		return
	}
	l.start(c, &task{kind: taskRegister, step: stepHash, cmd: cmd, secret: cmd.Text, name: c.name})
}

// registered reports whether the folded name is an account's, or is being
// stored as one.
func (l *loop) registered(fold string) bool {
	return l.accounts[fold] != nil || l.putPending[fold] > 0
}

// registerHashed takes the hash of a REGISTER's password.
func (l *loop) registerHashed(c *client, r passwd.Result) {
	t := c.task
	switch {
	case r.Err != nil:
		l.log.Error("password hash failed", "conn", c.id, "user", c.name, "err", r.Err)
		l.reply(c, spec.ErrorLine(spec.ErrStorageFailed))
	case l.registered(c.fold):
		l.reply(c, spec.ErrorLine(spec.ErrAlreadyRegistered))
	case l.writer == nil:
		l.accounts[c.fold] = &account{name: t.name, hash: r.Hash}
		l.registeredOK(c)
	default:
		t.hash, t.step = r.Hash, stepStore
		l.submitOrWait(c)
		return
	}
	l.finish(c)
}

// registeredOK answers a REGISTER whose account is kept.
func (l *loop) registeredOK(c *client) {
	l.reply(c, spec.OKLine(spec.OKRegistered(c.name)))
	l.log.Info("register", "conn", c.id, "remote", c.remote(), "user", c.name)
}

// accountStored completes a REGISTER or PASSWORD whose account the Writer
// committed, or failed to store. What is committed is applied to the
// accounts even if c has been closed meanwhile, so that memory and the
// database agree.
func (l *loop) accountStored(c *client, err error) {
	t := c.task
	fold := spec.Fold(t.name)
	if l.putPending[fold]--; l.putPending[fold] <= 0 {
		delete(l.putPending, fold)
	}
	if err == nil {
		if a := l.accounts[fold]; a != nil {
			a.hash = t.hash
		} else {
			l.accounts[fold] = &account{name: t.name, hash: t.hash}
		}
	}
	if c.phase == phaseClosed {
		c.task = nil
		return
	}
	l.actor = c
	switch {
	case err != nil:
		l.reply(c, spec.ErrorLine(spec.ErrStorageFailed))
	case t.kind == taskRegister:
		l.registeredOK(c)
	default:
		l.passwordChanged(c)
	}
	l.actor = nil
	l.finish(c)
}

// login takes the name of an account whose password is given (ACCT-2).
// It waits first for a token of its source address's bucket (ACCT-5).
func (l *loop) login(c *client, cmd spec.Command) {
	c.task = &task{kind: taskLogin, cmd: cmd}
	l.loginStart(c)
}

// loginStart takes a login token for c's LOGIN, or waits for one, then
// has the password verified.
func (l *loop) loginStart(c *client) {
	t := c.task
	addr := sourceAddr(c)
	if wait := l.takeLoginToken(addr); wait > 0 {
		t.step = stepToken
		l.wakeAt(c, now()+wait)
		if l.debugEnabled() {
			l.log.Debug("login waits for a token", "conn", c.id, "remote", c.remote(), "wait", wait)
		}
		return
	}
	t.addr = addr
	l.loginVerify(c)
}

// loginVerify has the password of c's LOGIN verified against the account
// it names, or, if there is none, against a dummy hash of the same cost,
// so that the reply takes as long whether or not the name exists.
func (l *loop) loginVerify(c *client) {
	t := c.task
	t.acct, t.phc = nil, l.dummyHash
	if spec.ValidUsername(t.cmd.Arg) {
		if a := l.accounts[spec.Fold(t.cmd.Arg)]; a != nil {
			t.acct, t.phc = a, a.hash
		}
	}
	t.secret, t.step = t.cmd.Text, stepVerify
	l.submitOrWait(c)
}

// loginVerified completes a LOGIN once its password is verified.
func (l *loop) loginVerified(c *client, r passwd.Result) {
	t := c.task
	if r.Err != nil {
		l.log.Error("password verify failed", "conn", c.id, "user", t.cmd.Arg, "err", r.Err)
	}
	fold := spec.Fold(t.cmd.Arg)
	if cur := l.currentAccount(t.cmd.Arg); cur != t.acct || cur != nil && cur.hash != t.phc {
		l.loginVerify(c) // registered or changed meanwhile: verify against what is there now
		return
	}
	if r.Err != nil || !r.OK || t.acct == nil {
		l.loginFailed(c, spec.ErrLoginFailed, t.cmd.Arg)
		return
	}
	l.refundLoginToken(t.addr) // only a failure costs a token
	t.addr = ""
	if l.users[fold] != nil {
		l.reply(c, spec.ErrorLine(spec.ErrUsernameTaken))
		l.finish(c)
		return
	}
	c.name, c.fold = t.acct.name, fold
	l.users[fold] = c
	l.reply(c, spec.OKLine(spec.OKWelcome(c.name)))
	l.log.Info("login", "conn", c.id, "remote", c.remote(), "user", c.name)
	l.finish(c)
}

// currentAccount returns the account called name now, or nil.
func (l *loop) currentAccount(name string) *account {
	if !spec.ValidUsername(name) {
		return nil
	}
	return l.accounts[spec.Fold(name)]
}

// password changes the password of c's account (ACCT-4).
func (l *loop) password(c *client, cmd spec.Command) {
	a := l.accounts[c.fold]
	if a == nil {
		l.reply(c, spec.ErrorLine(spec.ErrNotRegistered))
		return
	}
	if !spec.ValidPassword(cmd.Text) {
		l.reply(c, spec.ErrorLine(spec.ErrInvalidPassword))
		return
	}
	l.start(c, &task{kind: taskPassword, step: stepVerify, cmd: cmd, acct: a, phc: a.hash, secret: cmd.Arg, name: a.name})
}

// passwordVerified takes the verification of a PASSWORD's old password.
func (l *loop) passwordVerified(c *client, r passwd.Result) {
	t := c.task
	if r.Err != nil {
		l.log.Error("password verify failed", "conn", c.id, "user", c.name, "err", r.Err)
	}
	if a := l.accounts[c.fold]; a != nil && (a != t.acct || a.hash != t.phc) {
		t.acct, t.phc, t.name = a, a.hash, a.name // changed meanwhile: verify again
		l.submitOrWait(c)
		return
	}
	if r.Err != nil || !r.OK {
		l.debitLoginToken(sourceAddr(c))
		l.loginFailed(c, spec.ErrWrongPassword, c.name)
		return
	}
	t.secret, t.step = t.cmd.Text, stepHash
	l.submitOrWait(c)
}

// passwordHashed takes the hash of a PASSWORD's new password.
func (l *loop) passwordHashed(c *client, r passwd.Result) {
	t := c.task
	switch {
	case r.Err != nil:
		l.log.Error("password hash failed", "conn", c.id, "user", c.name, "err", r.Err)
		l.reply(c, spec.ErrorLine(spec.ErrStorageFailed))
	case l.writer == nil:
		t.acct.hash = r.Hash
		l.passwordChanged(c)
	default:
		t.hash, t.step = r.Hash, stepStore
		l.submitOrWait(c)
		return
	}
	l.finish(c)
}

// passwordChanged answers a PASSWORD whose new hash is kept.
func (l *loop) passwordChanged(c *client) {
	l.reply(c, spec.OKLine(spec.OKPasswordChanged))
	l.log.Info("password changed", "conn", c.id, "remote", c.remote(), "user", c.name)
}
