// Package client is the terminal chat client of cmd/chat: it translates what
// a person types into roomchat commands (PROTOCOL.md) and renders what the
// server sends for people.
//
// One goroutine, the loop, owns the session state and the queue of lines
// to send. Three goroutines serve it: the server reader, the writer, and
// the input reader, which reads a line only when the loop asks for one, so
// nothing typed is taken before the username is accepted and typing cannot
// run ahead of a stalled socket.
//
// Before the username the client asks the server with CAPS which
// extensions of PROTOCOL.md section 13 it offers and enables accounts,
// history and rooms if it can; a core server answers ERROR Username
// required, and the client is then a core client. With accounts, /login,
// /register and /password read passwords without echo (UI.ReadSecret);
// with history, MESSAGE lines are shown as room messages and PgUp or
// /history fetch earlier ones with HISTORY. With rooms, the user may be in
// several rooms at once; one of them is shown, and named by every MSG,
// LEAVE and USERS the client sends for it (D-17). On a terminal each room
// keeps its own chat, which replaces the one shown when the user switches
// rooms, and a room bar above the prompt counts the unread messages of the
// others (see windows); a script gets every line, each with its room.
package client

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Exit statuses of Run.
const (
	StatusOK    = 0 // the user quit
	StatusError = 1 // the connection failed or closed, or the username was refused
)

// Config configures a client.
type Config struct {
	// Addr is the server's host:port.
	Addr string
	// Name is the username to ask for first; "" asks the user.
	Name string
	// Login, if not "", is a registered name to log in to (PROTOCOL.md
	// ACCT-2) instead of asking for a username; Name is then not used.
	// It needs a server that offers accounts.
	Login string
	// Password is Login's password; "" asks the user for it, without
	// echo (cmd/chat takes it from CHAT_PASSWORD). It is sent in LOGIN and
	// never shown.
	Password string
	// Keepalive bounds how long the client stays silent: it sends PING
	// when it has sent nothing for about that long, so that the server's
	// idle timeout (spec.IdleTimeout) does not close an idle user's
	// connection. 0 disables it. PING is the ping extension: a core-only
	// server would take it as a room message.
	Keepalive time.Duration
	// QuitTimeout is how long to wait for OK Goodbye! after QUIT; 0 means
	// 3 s.
	QuitTimeout time.Duration
	// DialTimeout bounds connecting; 0 means 10 s.
	DialTimeout time.Duration
	// TLS, if not nil, opens a TLS session on the connection first
	// (PROTOCOL.md TRANS-1; see TLSConfig).
	TLS *tls.Config
	// WebSocket carries the lines in WebSocket messages at /chat
	// (PROTOCOL.md TRANS-5) instead of as a byte stream.
	WebSocket bool
	// Now is the clock of the timestamps, for Main; nil means time.Now.
	Now func() time.Time
}

// maxServerLine bounds one server line. USERLIST and ROOMLIST grow with the
// server (FRAME-11); a line longer than a whole output queue (LIMIT-4)
// cannot be meant.
const maxServerLine = spec.MaxQueueBytes

// maxQueued is how many typed lines may wait for the socket before the
// client stops reading input.
const maxQueued = 16

type typedLine struct {
	line string
	err  error // io.EOF, errInputTooLong, errPageUp, errCancelled
}

type phase uint8

const (
	naming   phase = iota // no username yet
	chatting              // username accepted
	quitting              // QUIT queued; waiting for OK Goodbye! or the close
)

// loop is one client session.
type loop struct {
	// Immutable after Run starts it.
	cfg  Config
	ui   UI
	r    *Renderer
	conn net.Conn

	serverLines chan string           // server reader -> loop
	serverEnd   chan error            // server reader -> loop, once
	typed       chan typedLine        // input reader -> loop
	wantLine    chan bool             // loop -> input reader: read one more line; true: a password
	outgoing    chan string           // loop -> writer
	writeErr    chan error            // writer -> loop, once
	done        chan struct{}         // closed when the loop returns
	names       atomic.Pointer[Names] // written by the loop, read by Tab completion

	// Owned by the loop goroutine.
	s            session
	win          windows // the chat of each room, with rooms
	phase        phase
	open         opening         // the exchange in NEW: CAPS, USERNAME, LOGIN
	dialog       *passwordDialog // passwords being asked for, or nil
	pages        []int           // sizes of the pages of history to ask for once the session is not busy
	asking       bool            // a line has been requested from the input reader
	outq         []string        // lines waiting for the writer
	pendingShown []string        // what the UI was last given to show as pending
	lastSent     time.Time
	status       int // exit status once the goodbye comes
}

// Run connects to cfg.Addr and runs a session with the user at ui until the
// user quits or the connection ends. It returns the exit status: StatusOK
// after the user quit (QUIT, or end of input), StatusError when the server
// closed the connection or it broke, or when a username given without a
// person to ask again was refused.
//
// The input reader may still be blocked in ui.ReadLine when Run returns; it
// ends at its next line or at the end of input.
func Run(ctx context.Context, cfg Config, ui UI, r *Renderer) int {
	d := net.Dialer{Timeout: cfg.DialTimeout}
	if d.Timeout == 0 {
		d.Timeout = 10 * time.Second
	}
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err == nil && cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(cfg.Addr)
		}
		tconn := tls.Client(conn, tc)
		if err = tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			err = fmt.Errorf("TLS: %w", err)
		}
		conn = tconn
	}
	if err == nil && cfg.WebSocket {
		var wc *wsConn
		if wc, err = dialWS(ctx, conn, cfg.Addr, d.Timeout); err != nil {
			conn.Close()
		} else {
			conn = wc
		}
	}
	if err != nil {
		ui.Notice(r.Error(fmt.Sprintf("cannot connect to %s: %v", cfg.Addr, err)))
		return StatusError
	}
	defer conn.Close()
	ui.Notice(r.Info("connected to " + cfg.Addr + "; type /help for help"))
	l := &loop{
		cfg:         cfg,
		ui:          ui,
		r:           r,
		conn:        conn,
		serverLines: make(chan string),
		serverEnd:   make(chan error, 1),
		typed:       make(chan typedLine),
		wantLine:    make(chan bool, 1),
		outgoing:    make(chan string),
		writeErr:    make(chan error, 1),
		done:        make(chan struct{}),
	}
	defer close(l.done)
	l.names.Store(&Names{})
	ui.SetCompletion(func() Names { return *l.names.Load() })
	go l.readServer()
	go l.write()
	go l.readInput()
	return l.run(ctx)
}

// readServer reads server lines until the connection ends.
func (l *loop) readServer() {
	br := bufio.NewReaderSize(l.conn, 4096)
	for {
		line, err := readServerLine(br)
		if errors.Is(err, errServerLineTooLong) {
			line = "(a line of more than " + fmt.Sprint(maxServerLine) + " bytes)"
		} else if err != nil {
			l.serverEnd <- err
			return
		}
		select {
		case l.serverLines <- line:
		case <-l.done:
			return
		}
	}
}

var errServerLineTooLong = errors.New("server line too long")

// readServerLine reads one line, without its CRLF or LF, of at most
// maxServerLine bytes; a longer one is skipped and reported.
func readServerLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(b)+len(chunk) > maxServerLine {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if err != nil {
				return "", err
			}
			return "", errServerLineTooLong
		}
		switch err {
		case nil:
			b = append(b, chunk[:len(chunk)-1]...)
			if n := len(b); n > 0 && b[n-1] == '\r' {
				b = b[:n-1]
			}
			return string(b), nil
		case bufio.ErrBufferFull:
			b = append(b, chunk...)
		default:
			// Bytes after the last LF are not a line (FRAME-10).
			return "", err
		}
	}
}

// write sends the lines the loop hands it.
func (l *loop) write() {
	for {
		select {
		case line := <-l.outgoing:
			if _, err := io.WriteString(l.conn, line+"\r\n"); err != nil {
				l.writeErr <- err
				return
			}
		case <-l.done:
			return
		}
	}
}

// readInput reads one line from the user each time the loop asks: a
// password when it asks for one.
func (l *loop) readInput() {
	for {
		var secret bool
		select {
		case secret = <-l.wantLine:
		case <-l.done:
			return
		}
		read := l.ui.ReadLine
		if secret {
			read = l.ui.ReadSecret
		}
		line, err := read()
		select {
		case l.typed <- typedLine{line, err}:
		case <-l.done:
			return
		}
	}
}
