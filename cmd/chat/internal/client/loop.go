package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"roomchat.dev/roomchat/spec"
)

// run is the loop goroutine: it asks for the username, then relays between
// the user and the server until the session ends, and returns the exit
// status.
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

	if l.cfg.Name != "" {
		l.askName(l.cfg.Name)
	} else {
		l.ui.SetPrompt("username: ")
		l.ask()
	}
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
			l.ui.Notice(l.r.Error("no goodbye from the server"))
			return l.status
		case <-interrupted:
			interrupted = nil
			l.quit(StatusError)
		}
		if l.phase == chatting && len(l.outq) < maxQueued {
			l.ask()
		}
	}
}

// ask lets the input reader read one more line, unless it is at it already.
func (l *loop) ask() {
	if !l.asking {
		l.asking = true
		l.wantLine <- struct{}{}
	}
}

// send queues a command for the server.
func (l *loop) send(c spec.Command) {
	l.outq = append(l.outq, c.String())
	l.s.sent(c)
}

// askName sends USERNAME name.
func (l *loop) askName(name string) {
	l.pendingName = name
	l.send(spec.Command{Kind: spec.Username, Arg: name})
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
	switch {
	case errors.Is(in.err, errInputTooLong):
		l.ui.Notice(l.r.Error("not sent: the line is too long"))
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
		l.ui.Notice(l.r.Error(a.Error))
	case a.Show != "":
		l.ui.Notice(l.r.Info(a.Show))
	case a.Send != nil && a.Send.Kind == spec.Quit:
		l.quit(StatusOK)
	case a.Send != nil:
		l.send(*a.Send)
		l.showPending()
	}
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
	if l.phase == naming && l.pendingName == "" {
		l.ask()
	}
}

// nameInput handles a line typed while there is no username.
func (l *loop) nameInput(line string) {
	switch a := ParseInput(line); {
	case line == "":
		l.ask()
	case a.Send != nil && a.Send.Kind == spec.Quit:
		l.quit(StatusOK)
	case a.Show != "" || a.Error != "" || a.Send != nil && a.Send.Kind != spec.Msg:
		l.ui.Notice(l.r.Error("choose a username first"))
		l.ask()
	default:
		if msg := spec.CheckLine([]byte(line)); msg != "" || len(line) > spec.MaxNameLen {
			l.ui.Notice(l.r.Error("invalid username: 1 to 32 letters, digits, '_' or '-'"))
			l.ask()
			return
		}
		l.askName(line)
	}
}

// serverLine handles a line from the server. It reports whether the session
// is over.
func (l *loop) serverLine(raw string) bool {
	sl, err := spec.ParseServerLine(raw)
	if err != nil {
		l.ui.Print(l.r.Malformed(raw))
		return false
	}
	if l.phase == quitting && sl.Kind == spec.OK && sl.Text == spec.OKGoodbye {
		text, _ := l.r.Line(sl, View{})
		l.ui.Print(text)
		return true
	}
	if l.pendingName != "" && (sl.Kind == spec.OK || sl.Kind == spec.Error) {
		l.nameReply(sl)
		return false
	}
	before := l.s.room
	v := l.s.apply(sl)
	l.names.Store(new(l.s.names()))
	if l.s.room != before {
		// Before the Print, whose redraw shows the new prompt.
		l.ui.SetPrompt(l.s.prompt())
	}
	// Before the Print too, so that a message is never on the screen
	// twice, pending and confirmed.
	l.showPending()
	if text, ok := l.r.Line(sl, v); ok {
		l.ui.Print(text)
	}
	return false
}

// nameReply handles the answer to USERNAME.
func (l *loop) nameReply(sl spec.ServerLine) {
	name := l.pendingName
	l.pendingName = ""
	if sl.Kind == spec.OK {
		l.s.self = name
		l.ui.SetPrompt(l.s.prompt())
		l.ui.Print(l.r.stamp(l.r.paint(sgrGreen, sl.Text)))
		if l.phase == naming {
			l.phase = chatting
		}
		return
	}
	text, _ := l.r.Line(sl, View{})
	l.ui.Print(text)
	if l.phase != naming {
		return
	}
	if !l.ui.Interactive() {
		l.ui.Notice(l.r.Error(fmt.Sprintf("username %q refused", name)))
		l.quit(StatusError)
		return
	}
	l.ui.SetPrompt("username: ")
	l.ask()
}

// closed ends the session after the connection ended.
func (l *loop) closed(err error) int {
	if l.phase == quitting {
		return l.status
	}
	if errors.Is(err, io.EOF) {
		l.ui.Notice(l.r.Error("the server closed the connection"))
	} else {
		l.ui.Notice(l.r.Error(fmt.Sprintf("connection lost: %v", err)))
	}
	return StatusError
}
