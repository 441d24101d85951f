package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"roomchat.dev/roomchat/spec"
)

// run is the loop goroutine: it asks what the server offers, then for the
// username, then relays between the user and the server until the session
// ends, and returns the exit status.
func (l *loop) run(ctx context.Context) int {
	var keepalive <-chan time.Time
	if l.cfg.Keepalive > 0 {
		t := time.NewTicker(l.cfg.Keepalive / 2)
		defer t.Stop()
		keepalive = t.C
	}
	var quitTimer <-chan time.Time
	interrupted := ctx.Done()
	l.lastSent = time.Now()

	// The answer to CAPS decides what the client can offer the user, so
	// nothing is asked of the user before it comes (see opening).
	l.send(l.open.query())
	for {
		var outgoing chan<- string
		var head string
		if len(l.outq) > 0 {
			outgoing, head = l.outgoing, l.outq[0]
		}
		if l.phase == quitting && quitTimer == nil {
			timeout := l.cfg.QuitTimeout
			if timeout == 0 {
				timeout = 3 * time.Second
			}
			quitTimer = time.After(timeout)
		}
		select {
		case line := <-l.serverLines:
			if done := l.serverLine(line); done {
				return l.status
			}
		case err := <-l.serverEnd:
			return l.closed(err)
		case err := <-l.writeErr:
			return l.closed(err)
		case in := <-l.typed:
			l.asking = false
			l.input(in)
		case outgoing <- head:
			l.outq = l.outq[1:]
			l.lastSent = time.Now()
		case now := <-keepalive:
			if l.phase != quitting && now.Sub(l.lastSent) >= l.cfg.Keepalive/2 {
				l.send(spec.Command{Kind: spec.Ping})
			}
		case <-quitTimer:
			l.notice(l.r.Error("no goodbye from the server"))
			return l.status
		case <-interrupted:
			interrupted = nil
			l.quit(StatusError)
		}
		// No more input while a page of history waits for the room or
		// for the page before it: what is typed after /history or PgUp
		// comes after it, as a script means it. With rooms, none either
		// while a JOIN or LEAVE waits for its answer, which decides the
		// room shown, where the text typed after it goes.
		if l.phase == chatting && len(l.outq) < maxQueued && len(l.pages) == 0 && !(l.s.multi && l.s.changing()) {
			l.ask()
		}
	}
}

// ask lets the input reader read one more line, unless it is at it
// already: a password while a dialog asks for one.
func (l *loop) ask() {
	if !l.asking {
		l.asking = true
		l.wantLine <- l.dialog != nil
	}
}

// send queues a command for the server.
func (l *loop) send(c spec.Command) {
	l.outq = append(l.outq, c.String())
	l.s.sent(c)
}

// sendName sends a USERNAME or LOGIN.
func (l *loop) sendName(c spec.Command) {
	l.open.sent(c)
	l.send(c)
}

// askUsername asks the user for a username.
func (l *loop) askUsername() {
	l.ui.SetPrompt("username: ")
	l.ask()
}

// beginNaming starts what the client does once it knows what the server
// offers: log in (-login), ask for the name given (-name), or ask the user.
func (l *loop) beginNaming() {
	switch name := l.cfg.Login; {
	case name != "" && !l.open.has(spec.ExtAccounts):
		l.notice(l.r.Error("this server has no accounts: cannot log in as " + name))
		l.nameFailed(fmt.Sprintf("login as %q impossible", name))
	case name != "" && l.cfg.Password != "":
		if !validPassword(l.cfg.Password) {
			l.notice(l.r.Error("the password given for " + name + " cannot be one: " + passwordRule))
			l.nameFailed(fmt.Sprintf("login as %q impossible", name))
			return
		}
		l.sendName(spec.Command{Kind: spec.Login, Arg: name, Text: l.cfg.Password})
	case name != "":
		l.startDialog(newDialog(spec.Login, name))
	case l.cfg.Name != "":
		l.sendName(spec.Command{Kind: spec.Username, Arg: l.cfg.Name})
	default:
		l.askUsername()
	}
}

// nameFailed follows a name refused or a login failed: without a person to
// ask for another, the client quits with StatusError, saying why.
func (l *loop) nameFailed(why string) {
	if l.phase != naming {
		return
	}
	if !l.ui.Interactive() {
		l.notice(l.r.Error(why))
		l.quit(StatusError)
		return
	}
	l.askUsername()
}

// startDialog starts asking for the passwords of an account command.
func (l *loop) startDialog(d *passwordDialog) {
	l.dialog = d
	l.ui.SetPrompt(d.prompt())
	if l.phase == naming {
		l.ask() // in the chat, run asks
	}
}

// endDialog ends a dialog; if it sent nothing while naming, the user is
// asked for a name again.
func (l *loop) endDialog(sent bool) {
	d := l.dialog
	l.dialog = nil
	if l.phase != naming {
		l.ui.SetPrompt(l.s.prompt())
		return
	}
	if !sent {
		l.nameFailed(fmt.Sprintf("login as %q not sent", d.name))
	}
}

// dialogInput handles a password typed for the dialog.
func (l *loop) dialogInput(in typedLine) {
	switch {
	case errors.Is(in.err, errCancelled):
		l.notice(l.r.Error("cancelled: nothing sent"))
		l.endDialog(false)
		return
	case errors.Is(in.err, errInputTooLong):
		l.notice(l.r.Error(passwordRule + ": nothing sent"))
		l.endDialog(false)
		return
	case errors.Is(in.err, errPageUp):
		l.askAgain()
		return
	case in.err != nil:
		l.dialog = nil
		l.quit(StatusOK)
		return
	}
	cmd, problem, done := l.dialog.answer(in.line)
	if !done {
		l.ui.SetPrompt(l.dialog.prompt())
		l.askAgain()
		return
	}
	if problem != "" {
		l.notice(l.r.Error(problem))
		l.endDialog(false)
		return
	}
	l.endDialog(true)
	if cmd.Kind == spec.Login {
		l.sendName(cmd)
	} else {
		l.send(cmd)
	}
}

// accountCommand starts /register or /password, or refuses /login: it is
// for the time before a name is chosen.
func (l *loop) accountCommand(d *passwordDialog) {
	switch {
	case !l.open.has(spec.ExtAccounts):
		l.notice(l.r.Error("this server has no accounts"))
	case d.kind == spec.Login:
		l.notice(l.r.Error("you have a name already: /login is for choosing one; reconnect to log in"))
	default:
		l.startDialog(d)
	}
}

// fetchHistory asks for n messages of the room before those shown. While
// a JOIN or a page is on its way, it asks later (see morePages), and run
// reads no input meanwhile: a script's /join then /history, or PgUp
// pressed three times, do what they say, in order.
func (l *loop) fetchHistory(n int) {
	if !l.open.has(spec.ExtHistory) {
		l.notice(l.r.Error("this server keeps no history"))
		return
	}
	l.pages = append(l.pages, n)
	l.morePages()
}

// morePages asks for the pages that waited, once the session is no longer
// busy.
func (l *loop) morePages() {
	for len(l.pages) > 0 && !l.s.busy() {
		n := l.pages[0]
		l.pages = l.pages[1:]
		cmd, notice := l.s.fetch(n)
		if notice != "" {
			l.notice(l.r.Info(notice))
		}
		if cmd != nil {
			l.send(*cmd)
		}
	}
}

// help returns /help's text, and what of it this server allows.
func (l *loop) help(text string) string {
	rooms := "this server allows one room at a time: /join moves you, and /win and Alt-1 to Alt-9 do not work here"
	if l.open.has(spec.ExtRooms) {
		rooms = "this server lets you be in several rooms: /join adds one, /win or Alt-1 to Alt-9 shows another, /part leaves one"
	}
	var what string
	switch ext := l.open.enabled; {
	case ext.Has(spec.ExtAccounts | spec.ExtHistory):
		what = "this server has accounts and keeps history"
	case ext.Has(spec.ExtHistory):
		what = "this server keeps history; it has no accounts: /login, /register and /password do not work here"
	case ext.Has(spec.ExtAccounts):
		what = "this server has accounts; it keeps no history: /history and PgUp do not work here"
	default:
		what = "this server has no accounts and keeps no history: /login, /register, /password, /history and PgUp do not work here"
	}
	return text + "\n" + what + "\n" + rooms
}

// quit sends QUIT; the loop then ends with status when the server says
// goodbye or closes.
func (l *loop) quit(status int) {
	if l.phase == quitting {
		return
	}
	l.phase = quitting
	l.status = status
	l.send(spec.Command{Kind: spec.Quit})
}

// input handles a line typed by the user.
func (l *loop) input(in typedLine) {
	if l.phase == quitting {
		return
	}
	if l.dialog != nil {
		l.dialogInput(in)
		return
	}
	var win windowKey
	switch {
	case errors.Is(in.err, errPageUp):
		if l.phase == chatting {
			l.fetchHistory(historyPageSize)
		}
		l.askAgain()
		return
	case errors.As(in.err, &win):
		if l.phase == chatting {
			l.switchTo(strconv.Itoa(int(win)))
		}
		l.askAgain()
		return
	case errors.Is(in.err, errInputTooLong):
		l.notice(l.r.Error("not sent: the line is too long"))
		l.askAgain()
		return
	case in.err != nil:
		// End of input (Ctrl-D), or the input broke: leave politely.
		l.quit(StatusOK)
		return
	}
	if l.phase == naming {
		l.nameInput(in.line)
		return
	}
	a := ParseInput(in.line)
	switch {
	case a.Error != "":
		l.notice(l.r.Error(a.Error))
	case a.Show != "":
		l.notice(l.r.Info(l.help(a.Show)))
	case a.Dialog != nil:
		l.accountCommand(a.Dialog)
	case a.History > 0:
		l.fetchHistory(a.History)
	case a.Win != "":
		l.switchTo(a.Win)
	case a.Send != nil && a.Send.Kind == spec.Quit:
		l.quit(StatusOK)
	case a.Send != nil && a.Send.Kind == spec.Join && l.s.multi && l.s.inRoom(a.Send.Arg):
		l.switchTo(a.Send.Arg) // one of the user's rooms: show it
	case a.Send != nil:
		c, problem := l.address(*a.Send)
		if problem != "" {
			l.notice(l.r.Error(problem))
			return
		}
		l.send(c)
		l.showPending()
	}
}

// address completes a command typed for the room shown. With rooms, MSG,
// LEAVE and USERS name the room they act on (PROTOCOL.md 13.4): the room
// shown unless the user named another. Without, the one room is the
// server's to know, and LEAVE cannot name another. It returns a local
// error instead when there is no room to name, or the line would be too
// long.
func (l *loop) address(c spec.Command) (spec.Command, string) {
	switch c.Kind {
	case spec.Msg, spec.Users, spec.Leave:
	default:
		return c, ""
	}
	if !l.s.multi {
		if c.Kind != spec.Leave || c.Arg == "" {
			return c, ""
		}
		if !l.s.inRoom(c.Arg) {
			return c, "you are not in " + c.Arg
		}
		c.Arg = "" // a core LEAVE names no room
		return c, ""
	}
	if c.Arg == "" {
		if l.s.room == "" {
			return c, "you are in no room: /join one first"
		}
		c.Arg = l.s.room
	}
	if a := checked(c); a.Error != "" {
		return c, a.Error
	}
	return c, ""
}

// showPending shows the messages sent and not yet confirmed. The line
// typed was erased when it was entered: until its echo or OK Sent comes,
// this is where it is seen, and then only the confirmation is.
func (l *loop) showPending() {
	var lines []string
	for _, c := range l.s.pending() {
		lines = append(lines, l.r.Pending(c.Command, c.Room))
	}
	if !slices.Equal(lines, l.pendingShown) {
		l.pendingShown = lines
		l.ui.SetPending(lines)
	}
}

// askAgain asks for another line while naming; in the chat, run asks.
func (l *loop) askAgain() {
	if l.phase == naming && !l.open.naming() {
		l.ask()
	}
}

// nameInput handles a line typed while there is no username.
func (l *loop) nameInput(line string) {
	word, _, _ := strings.Cut(line, " ")
	switch a := ParseInput(line); {
	case line == "":
		l.ask()
	case a.Send != nil && a.Send.Kind == spec.Quit:
		l.quit(StatusOK)
	case a.Show != "":
		l.notice(l.r.Info(l.help(a.Show)))
		l.ask()
	case strings.EqualFold(word, "/login") && a.Error != "":
		l.notice(l.r.Error(a.Error))
		l.ask()
	case a.Dialog != nil && a.Dialog.kind == spec.Login:
		if !l.open.has(spec.ExtAccounts) {
			l.notice(l.r.Error("this server has no accounts: choose a username"))
			l.ask()
			return
		}
		l.startDialog(a.Dialog)
	case a.Error != "" || a.Send != nil && a.Send.Kind != spec.Msg || a.Dialog != nil || a.History > 0:
		if l.open.has(spec.ExtAccounts) {
			l.notice(l.r.Error("choose a username first, or log in with /login name"))
		} else {
			l.notice(l.r.Error("choose a username first"))
		}
		l.ask()
	default:
		if msg := spec.CheckLine([]byte(line)); msg != "" || len(line) > spec.MaxNameLen {
			l.notice(l.r.Error(invalidUsername))
			l.ask()
			return
		}
		l.sendName(spec.Command{Kind: spec.Username, Arg: line})
	}
}

// serverLine handles a line from the server. It reports whether the session
// is over.
func (l *loop) serverLine(raw string) bool {
	sl, err := spec.ParseServerLine(raw)
	if err != nil {
		l.print("", l.r.Malformed(raw), false)
		return false
	}
	if l.phase == quitting && sl.Kind == spec.OK && sl.Text == spec.OKGoodbye {
		text, _ := l.r.Line(sl, View{})
		l.print("", text, false)
		return true
	}
	if l.open.answers(sl) {
		l.openingReply(sl)
		return false
	}
	before := l.s.room
	v := l.s.apply(sl)
	l.names.Store(new(l.s.names()))
	// Before the Print, whose redraw shows the new prompt, and the room
	// now shown.
	l.shown(before)
	// Before the Print too, so that a message is never on the screen
	// twice, pending and confirmed.
	l.showPending()
	if text, ok := l.r.Line(sl, v); ok {
		mine := l.s.self != "" && spec.Fold(sl.User) == spec.Fold(l.s.self)
		message := (sl.Kind == spec.Room || sl.Kind == spec.Message) && !mine
		l.print(lineRoom(sl, v), text, message)
	}
	if v.Page != nil && v.Page.Again {
		l.pages = slices.Insert(l.pages, 0, v.Page.Limit)
	}
	l.morePages()
	return false
}

// lineRoom returns the room a server line belongs to, "" if none: a room
// message, a JOIN or LEAVE note, or a page of earlier messages. The other
// lines go with the room shown.
func lineRoom(sl spec.ServerLine, v View) string {
	switch sl.Kind {
	case spec.Room, spec.Message, spec.Stored, spec.Joined, spec.Left:
		return sl.Room
	case spec.OK:
		if v.Page != nil {
			return v.Page.Room
		}
	}
	return ""
}

// openingReply handles the answer to a command sent in NEW.
func (l *loop) openingReply(sl spec.ServerLine) {
	answered, enable := l.open.answer(sl)
	// What is enabled decides what JOIN means, and whether the screen
	// shows one room at a time.
	defer func() {
		l.s.multi = l.open.has(spec.ExtRooms)
		l.win.on = l.s.multi && l.ui.Windowed()
	}()
	switch answered.Kind {
	case spec.Caps:
		if l.phase == quitting {
			l.open.awaiting = nil // nothing more is sent
			return
		}
		if enable != nil {
			// Sent at once, and the name after it: both are answered
			// in order (ORDER-2).
			l.send(*enable)
		}
		if answered.Text == "" {
			l.beginNaming()
		} else if sl.Kind == spec.Error {
			text, _ := l.r.Line(sl, View{})
			l.print("", text, false)
			l.notice(l.r.Error("the server did not enable " + answered.Text))
		}
	case spec.Username, spec.Login:
		l.nameReply(answered, sl)
	}
}

// nameReply handles the answer to USERNAME or LOGIN.
func (l *loop) nameReply(answered spec.Command, sl spec.ServerLine) {
	name := answered.Arg
	if sl.Kind == spec.OK {
		if n, ok := welcomeName(sl.Text); ok {
			name = n // as registered, after LOGIN (ACCT-2)
		}
		l.s.self = name
		l.ui.SetPrompt(l.s.prompt())
		l.print("", l.r.stamp(l.r.paint(sgrGreen, sl.Text)), false)
		if l.phase == naming {
			l.phase = chatting
		}
		return
	}
	text, _ := l.r.Line(sl, View{Answer: &answered})
	l.print("", text, false)
	if answered.Kind == spec.Login {
		l.nameFailed(fmt.Sprintf("login as %q failed", name))
		return
	}
	if sl.Text == spec.ErrUsernameTaken && l.open.has(spec.ExtAccounts) {
		how := "/login " + name
		if !l.ui.Interactive() {
			how = "-login " + name
		}
		l.notice(l.r.Info("if " + name + " is your registered name, log in with " + how))
	}
	l.nameFailed(fmt.Sprintf("username %q refused", name))
}

// closed ends the session after the connection ended.
func (l *loop) closed(err error) int {
	if l.phase == quitting {
		return l.status
	}
	if errors.Is(err, io.EOF) {
		l.notice(l.r.Error("the server closed the connection"))
	} else {
		l.notice(l.r.Error(fmt.Sprintf("connection lost: %v", err)))
	}
	return StatusError
}
