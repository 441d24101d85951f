package modelcheck

import (
	"slices"
	"strconv"
	"strings"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// The lines of PROTOCOL.md section 13, which the generator draws only when
// the server under test is declared to implement its extensions
// (Options.Ext). Some of their words are known only when the step runs: the
// password of an account (ACCT-2, ACCT-4), which the model holds, and the
// ID of a message a HISTORY pages back from (HIST-3), which is the
// server's own. The generator writes those as tokens, which the machine
// resolves from the state when it sends the line (resolve). A step's draws
// still do not depend on the state: a token says which account or which
// message, by index, and means the same wherever the step stands.

// Tokens are written tokOpen, words separated by spaces, tokClose. The two
// runes are of Unicode's private use area, which no other draw produces.
const (
	tokOpen  = "\ue000"
	tokClose = "\ue001"
)

// tok writes a token of the given words.
func tok(words ...string) string { return tokOpen + strings.Join(words, " ") + tokClose }

// The tokens:
//
//	mypw            the password of the sender's own account; if it has none,
//	                a valid password (PASSWORD is then "Not registered")
//	before K        the server's ID of the K-th newest message any client
//	                received, from 0; with none, "*"
//	room K          the K-th of the sender's rooms, in the order it joined
//	                them (counted modulo their number), or, if it is in
//	                none, the K-th room of the pool (13.4)
//	login K HOW NAME
//	                a whole line: LOGIN to an account, the K-th (counted
//	                modulo their number) of those HOW says, or USERNAME NAME
//	                if there is none: with HOW free, of the accounts whose
//	                name is free, with their password; right, of every
//	                account, with its password; upper, the same with the
//	                name in upper case (ACCT-2 compares names as NAME-3);
//	                wrong, with a wrong password
//
// A login token stands for USERNAME while no account exists, rather than
// for a LOGIN that would fail: the few failed logins a sequence may make
// (maxFailedLogins) go to a wrong password as often as to a name that is
// no account's.
const (
	noAccountPassword = "correct-horse"
	wrongPassword     = "wrong-horse"
)

// validPasswords and invalidPasswords are the passwords REGISTER and
// PASSWORD draw: of the lengths ACCT-1 allows, its limits included, and
// of lengths it does not.
var (
	validPasswords   = []string{"correct-horse", "battery-staple", strings.Repeat("8", spec.PasswordMin), strings.Repeat("p", spec.PasswordMax)}
	invalidPasswords = []string{"short", strings.Repeat("7", spec.PasswordMin-1), strings.Repeat("p", spec.PasswordMax+1)}
)

// passwordGen draws a password, usually a valid one.
var passwordGen = oneOfWeighted(weighted{3, pick(validPasswords)}, weighted{1, pick(invalidPasswords)})

// oldPassword draws the old password of PASSWORD: usually the sender's
// own.
var oldPassword = oneOfWeighted(weighted{3, rapid.Just(tok("mypw"))}, weighted{1, rapid.Just(wrongPassword)})

// accountIndex draws which account a token names.
var accountIndex = rapid.Map(choice(4), strconv.Itoa)

// capsLines are the CAPS lines a client may send in NEW, for the offered
// extensions: names it offers (CAPS-2), none (CAPS-1), an unknown name or a
// malformed list.
func capsLines(offer spec.Ext) (valid, unknown, malformed []string) {
	names := offer.Names()
	for _, n := range names {
		valid = append(valid, "CAPS "+n)
	}
	if len(names) >= 2 {
		valid = append(valid, "CAPS "+names[0]+" "+names[1], "CAPS "+names[1]+" "+names[0])
	}
	if len(names) >= 3 {
		valid = append(valid, "CAPS "+strings.Join(names, " "), "CAPS "+names[2]+" "+names[0])
	}
	valid = append(valid, "CAPS "+names[len(names)-1]+" "+names[len(names)-1])
	for _, x := range []spec.Ext{spec.ExtAccounts, spec.ExtHistory, spec.ExtRooms} {
		if !offer.Has(x) {
			unknown = append(unknown, "CAPS "+x.Names()[0])
		}
	}
	unknown = append(unknown, "CAPS shoes", "CAPS "+strings.ToUpper(names[0]), "CAPS ping", "CAPS "+names[0]+" shoes")
	malformed = []string{"CAPS  " + names[0], "CAPS " + names[0] + " ", "CAPS "}
	return valid, unknown, malformed
}

// capsGen draws the CAPS line of a client that says hello: usually one that
// enables extensions.
func (p pools) capsGen() *rapid.Generator[string] {
	valid, unknown, malformed := capsLines(p.ext)
	if p.failing && p.ext.Has(spec.ExtAccounts) {
		// Those that enable accounts, so that logins can fail.
		valid = slices.DeleteFunc(valid, func(l string) bool { return !strings.Contains(l, "accounts") })
	}
	return oneOfWeighted(
		weighted{6, pick(valid)},
		weighted{1, rapid.Just("CAPS")},
		weighted{1, pick(unknown)},
		weighted{1, pick(malformed)},
	)
}

// gatherCaps are the CAPS lines gather sends before a client's name: none,
// so that core clients and clients that enabled history or rooms share
// rooms, or one that enables what the server offers.
func (p pools) gatherCaps() []string {
	caps := []string{""}
	if p.ext.Has(spec.ExtHistory) {
		caps = append(caps, "CAPS history")
	}
	if p.ext.Has(spec.ExtRooms) {
		caps = append(caps, "CAPS rooms", "CAPS rooms")
	}
	return append(caps, "CAPS "+strings.Join(p.ext.Names(), " "))
}

// helloNameGen draws what a client that says hello sends after CAPS: a
// name, a login to an account (with the right password, a wrong one, or
// for a name that may not be an account's), or nothing.
func (p pools) helloNameGen() *rapid.Generator[string] {
	name := pick(p.names)
	gens := []weighted{
		{3, rapid.Custom(func(t *rapid.T) string { return "USERNAME " + name.Draw(t, "name") })},
		{1, rapid.Just("")},
	}
	if p.ext.Has(spec.ExtAccounts) {
		gens = append(gens,
			weighted{3, loginTok("free", name)},
			weighted{p.often(3, 6), p.loginGen()},
		)
	}
	return oneOfWeighted(gens...)
}

// helloMoreGen draws what a client that says hello sends once named, if
// anything: REGISTER, PASSWORD, or a HISTORY that pages back from the
// newest stored message (after a restart, from what HIST-5 keeps).
func (p pools) helloMoreGen() *rapid.Generator[string] {
	gens := []weighted{{2, rapid.Just("")}}
	if p.ext.Has(spec.ExtAccounts) {
		gens = append(gens,
			weighted{p.often(2, 4), rapid.Custom(func(t *rapid.T) string { return "REGISTER " + passwordGen.Draw(t, "password") })},
			weighted{1, p.passwordCmdGen()},
		)
	}
	if p.ext.Has(spec.ExtHistory) {
		room, limit := pick(p.rooms), pick([]string{"3", "10", strconv.Itoa(spec.HistoryPage)})
		gens = append(gens, weighted{1, rapid.Custom(func(t *rapid.T) string {
			return "HISTORY " + room.Draw(t, "room") + " * " + limit.Draw(t, "limit")
		})})
	}
	return oneOfWeighted(gens...)
}

// helloPasswordGen draws whether a client that says hello and sent a line
// after its name changes its password then (ACCT-4), after REGISTER most
// often: "" for no.
func (p pools) helloPasswordGen() *rapid.Generator[string] {
	if !p.ext.Has(spec.ExtAccounts) {
		return rapid.Just("")
	}
	return oneOfWeighted(weighted{2, rapid.Just("")}, weighted{1, p.passwordCmdGen()})
}

// passwordCmdGen draws a PASSWORD, usually with the sender's own password.
func (p pools) passwordCmdGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		return "PASSWORD " + oldPassword.Draw(t, "old") + " " + passwordGen.Draw(t, "new")
	})
}

// loginGen draws a LOGIN: with an account's password, in the case it was
// registered in or another; with a wrong one; or as a name that may be no
// account's (ACCT-2).
func (p pools) loginGen() *rapid.Generator[string] {
	name := pick(p.names)
	password := pick(validPasswords)
	return oneOfWeighted(
		weighted{2, loginTok("right", name)},
		weighted{1, loginTok("upper", name)},
		weighted{p.often(2, 6), loginTok("wrong", name)},
		weighted{p.often(1, 2), rapid.Custom(func(t *rapid.T) string {
			return "LOGIN " + name.Draw(t, "name") + " " + password.Draw(t, "password")
		})},
	)
}

// often returns the weight of a draw that may fail logins: w, or, in a
// sequence that may fail them, more.
func (p pools) often(w, more int) int {
	if p.failing {
		return more
	}
	return w
}

// loginTok draws a login token (see resolve) of the given kind, whose
// USERNAME, when there is no account, is drawn from names.
func loginTok(how string, names *rapid.Generator[string]) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		return tok("login", accountIndex.Draw(t, "account"), how, names.Draw(t, "name"))
	})
}

// historyGen draws a HISTORY: of a room of the pool or an invalid one,
// before "*", a message a client received or something that is no ID, and
// a limit from 1 to HistoryPage or out of that range (HIST-3).
func (p pools) historyGen() *rapid.Generator[string] {
	room := p.roomGen()
	before := oneOfWeighted(
		weighted{3, rapid.Just("*")},
		weighted{3, rapid.Map(choice(8), func(k int) string { return tok("before", strconv.Itoa(k)) })},
		weighted{1, pick([]string{"0", "01", "x", "-1", "9223372036854775808"})},
	)
	limit := oneOfWeighted(
		weighted{5, pick([]string{"1", "2", "3", "5", "10", strconv.Itoa(spec.HistoryPage)})},
		weighted{1, pick([]string{"0", strconv.Itoa(spec.HistoryPage + 1), "007", "1000", "x"})},
	)
	return rapid.Custom(func(t *rapid.T) string {
		return "HISTORY " + room.Draw(t, "room") + " " + before.Draw(t, "before") + " " + limit.Draw(t, "limit")
	})
}

// extCommands are the weighted lines of section 13 that commandGen draws
// besides the core ones, for the offered extensions.
func (p pools) extCommands() []weighted {
	gens := []weighted{
		{1, pick([]string{"CAPS", "CAPS " + p.ext.Names()[0], "CAPS LOCK is on"})},
	}
	usage := []string{"CAPS  " + p.ext.Names()[0]}
	if p.ext.Has(spec.ExtAccounts) {
		gens = append(gens,
			weighted{2, rapid.Custom(func(t *rapid.T) string { return "REGISTER " + passwordGen.Draw(t, "password") })},
			weighted{2, p.passwordCmdGen()},
			weighted{1, p.loginGen()},
		)
		usage = append(usage, "REGISTER", "REGISTER two words", "LOGIN onlyname", "LOGIN", "PASSWORD onlyone", "PASSWORD a  b")
	}
	if p.ext.Has(spec.ExtHistory) {
		gens = append(gens, weighted{5, p.historyGen()})
		usage = append(usage, "HISTORY", "HISTORY "+p.rooms[0]+" *", "HISTORY "+p.rooms[0]+"  * 5", "HISTORY "+p.rooms[0]+" * 5 more")
	}
	if p.ext.Has(spec.ExtRooms) {
		gens = append(gens, p.roomCommands()...)
		usage = append(usage, "LEAVE", "USERS", "MSG "+p.rooms[0], "MSG  "+p.rooms[0]+" x", "MSG "+p.rooms[0]+" ")
	}
	return append(gens, weighted{1, pick(usage)})
}

// roomCommands are the weighted lines of 13.4 that commandGen draws for a
// server that offers rooms: MSG, LEAVE and USERS of one of the sender's
// rooms (a room token), of a room of the pool, which it may not be in, or
// of an invalid one; and JOINs of the larger pool of roam. On a connection
// that did not enable rooms, "MSG <room> <text>" is a message whose text
// begins with the room, and LEAVE and USERS with a room are usage errors.
func (p pools) roomCommands() []weighted {
	text := p.textGen()
	mine := rapid.Map(choice(4), func(k int) string { return tok("room", strconv.Itoa(k)) })
	room := oneOfWeighted(weighted{4, mine}, weighted{2, pick(p.rooms)}, weighted{1, pick(p.oddRooms)})
	return []weighted{
		{5, rapid.Custom(func(t *rapid.T) string { return "MSG " + room.Draw(t, "room") + " " + text.Draw(t, "text") })},
		{2, rapid.Custom(func(t *rapid.T) string { return "LEAVE " + room.Draw(t, "room") })},
		{2, rapid.Custom(func(t *rapid.T) string { return "USERS " + room.Draw(t, "room") })},
		{2, rapid.Custom(func(t *rapid.T) string { return "JOIN " + pick(p.moreRooms).Draw(t, "room") })},
	}
}

// extTexts are message texts that begin with a command word of section 13:
// on a connection that did not enable its extension, a line that begins
// with one is a text line (CAPS-3).
var extTexts = []string{"LOGIN failed again", "HISTORY of rome", "REGISTER now", "CAPS LOCK is on"}

// resolved is a line whose tokens are resolved: as sent, as the model is
// given it, and as a saved script writes it.
type resolved struct {
	wire, model, script string
}

// resolve resolves the tokens of line, sent by id, in state s. A message
// ID (the token before) is the server's on the wire, the model's for the
// model and a variable in a script, if the line is a HISTORY command;
// elsewhere, in a text line, it is "*" for all three, as a text is not
// translated.
func (m *machine) resolve(s model.State, id model.ClientID, line string) resolved {
	r := m.resolveIDs(s, id, line, true)
	if r.wire != r.model {
		cmd, err := spec.ParseCommandWith(r.wire, wordsOf(s, id))
		if err != nil || cmd.Kind != spec.History {
			r = m.resolveIDs(s, id, line, false)
		}
	}
	return r
}

// resolveIDs resolves the tokens of line, the message IDs of before tokens
// only if ids.
func (m *machine) resolveIDs(s model.State, id model.ClientID, line string, ids bool) resolved {
	r := resolved{wire: line, model: line, script: line}
	if !strings.Contains(line, tokOpen) {
		return r
	}
	var wire, mdl, script strings.Builder
	rest := line
	for {
		i := strings.Index(rest, tokOpen)
		if i < 0 {
			break
		}
		j := strings.Index(rest[i:], tokClose)
		if j < 0 {
			break
		}
		for _, b := range []*strings.Builder{&wire, &mdl, &script} {
			b.WriteString(rest[:i])
		}
		w, md, sc := m.token(s, id, strings.Fields(rest[i+len(tokOpen):i+j]), ids)
		wire.WriteString(w)
		mdl.WriteString(md)
		script.WriteString(sc)
		rest = rest[i+j+len(tokClose):]
	}
	for _, b := range []*strings.Builder{&wire, &mdl, &script} {
		b.WriteString(rest)
	}
	return resolved{wire: wire.String(), model: mdl.String(), script: script.String()}
}

// token resolves one token: as sent, as the model is given it, and as a
// script writes it.
func (m *machine) token(s model.State, id model.ClientID, words []string, ids bool) (wire, mdl, script string) {
	same := func(v string) (string, string, string) { return v, v, v }
	k := 0
	if len(words) > 1 {
		k, _ = strconv.Atoi(words[1])
	}
	switch words[0] {
	case "mypw":
		if pw, ok := s.Password(s.Name(id)); ok {
			return same(pw)
		}
		return same(noAccountPassword)
	case "before":
		known := m.d.IDs().Known()
		if len(known) == 0 || !ids {
			return same("*")
		}
		mid := known[len(known)-1-k%len(known)]
		sid, _ := m.d.IDs().Server(mid)
		return strconv.FormatUint(sid, 10), strconv.FormatUint(mid, 10), varOpen + idVar(mid) + varClose
	case "room":
		if rooms := s.RoomsOf(id); len(rooms) > 0 {
			return same(rooms[k%len(rooms)])
		}
		return same(m.p.rooms[k%len(m.p.rooms)])
	case "login":
		how, name := words[2], words[3]
		var these []string
		for _, a := range s.Accounts() {
			if how != "free" || userNamed(s, a) == "" {
				these = append(these, a)
			}
		}
		if len(these) == 0 {
			return same("USERNAME " + name)
		}
		a := these[k%len(these)]
		pw, _ := s.Password(a)
		switch how {
		case "upper":
			a = m.upper(a)
		case "wrong":
			pw = wrongPassword
		}
		return same("LOGIN " + a + " " + pw)
	}
	return same(strings.Join(words, " "))
}

// idVar is the script variable that holds the server's ID of the model's
// message id.
func idVar(id uint64) string { return "M" + strconv.FormatUint(id, 10) }

// upper is name in another case, as NAME-3 compares names: its ASCII
// letters in upper case, but for the case's suffix, which a saved script
// writes as $U.
func (m *machine) upper(name string) string {
	if prefix, ok := strings.CutSuffix(name, m.sfx); ok && m.sfx != "" {
		return asciiUpper(prefix) + m.sfx
	}
	return asciiUpper(name)
}

// asciiUpper folds the ASCII letters of s to upper case and leaves every
// other byte alone.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// maxFailedLogins is the most failed logins (ACCT-5: "ERROR Login failed"
// or "ERROR Wrong password") a sequence makes, and failLoginsGen draws
// whether it may make any: one sequence in 16, which then draws more
// clients that log in, and more logins that fail (pools.failing). In the
// others a line that would fail a login is not sent. A server pauses a
// connection after each of its failed logins, and keeps a bucket of them
// per source address that holds 20 and refills at one a second; every
// client of the checker comes from the same address, and a fast server
// runs a hundred sequences a second, so more failures would soon empty
// that bucket and leave every later LOGIN waiting a second for it: 300
// sequences make about a dozen. The draw shrinks to "none".
const maxFailedLogins = 2

var failLoginsGen = rapid.Map(choice(16), func(n int) bool { return n == 15 })

// failedLogins counts the failed logins among outs to id.
func failedLogins(outs []model.Output, id model.ClientID) int {
	n := 0
	for _, o := range outs {
		if o.To == id && (o.Line == "ERROR "+spec.ErrLoginFailed || o.Line == "ERROR "+spec.ErrWrongPassword) {
			n++
		}
	}
	return n
}
