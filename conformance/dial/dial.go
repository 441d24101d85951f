// Package dial connects the suite to a server over each transport of
// PROTOCOL.md (section 2 and 2.1): lines over TCP, lines inside TLS,
// length-prefixed frames with 4- or 8-byte headers, and WebSocket
// messages. Whatever the
// transport, a connection reads and writes the byte stream of section 2:
// CRLF-terminated lines. So every script command and the model checkers
// work unchanged, and a script's bytes mean over frames what they mean
// over lines: each line is one frame, a line left without its LF when the
// connection ends is never sent (FRAME-10), and 512 bytes without an LF
// go out as one overlong frame at once, so that the server answers as
// FRAME-5 says (TRANS-3).
//
// It imports spec, the standard library and a WebSocket library only: the
// suite reaches a server's transports with dialers of its own, never
// through the server's code.
package dial

import (
	"crypto/tls"
	"fmt"
	"github.com/coder/websocket"
	"net"
	"slices"
	"strings"
	"time"
)

// Transport names a transport of PROTOCOL.md.
type Transport string

// The transports.
const (
	Lines   Transport = "lines"   // section 2: lines over TCP
	TLS     Transport = "tls"     // TRANS-1: lines inside TLS
	Framed4 Transport = "framed4" // TRANS-2: frames with a 4-byte header
	Framed8 Transport = "framed8" // TRANS-2: frames with an 8-byte header
	WS      Transport = "ws"      // TRANS-5: WebSocket messages
)

// Transports lists every transport, lines first.
var Transports = []Transport{Lines, TLS, Framed4, Framed8, WS}

// Parse returns the transport called s ("" is Lines).
func Parse(s string) (Transport, error) {
	if s == "" {
		return Lines, nil
	}
	if t := Transport(s); slices.Contains(Transports, t) {
		return t, nil
	}
	var names []string
	for _, t := range Transports {
		names = append(names, string(t))
	}
	return "", fmt.Errorf("unknown transport %q (known: %s)", s, strings.Join(names, ", "))
}

// Tag returns the tag of PROTOCOL.md that a server must implement to be
// tested over t: "" for lines (core), tls, or framed.
func (t Transport) Tag() string {
	switch t {
	case TLS:
		return "tls"
	case Framed4, Framed8:
		return "framed"
	case WS:
		return "ws"
	}
	return ""
}

// A Dialer connects over one transport.
type Dialer struct {
	Transport Transport
	// TLS configures a TLS client; nil verifies the server's certificate
	// against the system's roots.
	TLS     *tls.Config
	Timeout time.Duration
}

// Options of one connection.
type Options struct {
	// RcvBuf, if positive, sets the socket's receive buffer (SO_RCVBUF)
	// before it connects, which also turns off the kernel's tuning of it.
	RcvBuf int
}

// A Conn is a connection over some transport, read and written as the
// byte stream of section 2.
type Conn struct {
	net.Conn              // the stream of lines
	tcp      *net.TCPConn // the TCP connection under it
}

// TCP returns the TCP connection the transport runs on, for what only TCP
// can do: a receive buffer, a reset.
func (c *Conn) TCP() *net.TCPConn { return c.tcp }

// CloseWrite ends the client's side of the stream: over TLS after a
// close_notify, over frames after the last complete frame.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return c.tcp.CloseWrite()
}

// SendMessage sends one WebSocket message as it is, text or binary: over
// ws only, for scripts that make messages by hand (TRANS-5).
func (c *Conn) SendMessage(binary bool, data []byte) error {
	wc, ok := c.Conn.(*wsConn)
	if !ok {
		return fmt.Errorf("not a WebSocket connection")
	}
	typ := websocket.MessageText
	if binary {
		typ = websocket.MessageBinary
	}
	return wc.writeMessage(typ, data)
}

// Reset closes the connection abortively: the server reads a reset.
func (c *Conn) Reset() error {
	c.tcp.SetLinger(0)
	return c.tcp.Close()
}

// Dial connects to addr.
func (d Dialer) Dial(addr string, o Options) (*Conn, error) {
	t := d.Transport
	if t == "" {
		t = Lines
	}
	nd := net.Dialer{Timeout: d.Timeout}
	if o.RcvBuf > 0 {
		nd.Control = RcvBufControl(o.RcvBuf)
	}
	nc, err := nd.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	tcp := nc.(*net.TCPConn)
	switch t {
	case Lines:
		return &Conn{Conn: tcp, tcp: tcp}, nil
	case TLS:
		cfg := d.TLS
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
			cfg = cfg.Clone()
			host, _, _ := net.SplitHostPort(addr)
			cfg.ServerName = host
		}
		tc := tls.Client(tcp, cfg)
		if d.Timeout > 0 {
			tc.SetDeadline(time.Now().Add(d.Timeout))
		}
		if err := tc.Handshake(); err != nil {
			tcp.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		tc.SetDeadline(time.Time{})
		return &Conn{Conn: tc, tcp: tcp}, nil
	case Framed4, Framed8:
		header := 4
		if t == Framed8 {
			header = 8
		}
		return &Conn{Conn: newFramed(tcp, header), tcp: tcp}, nil
	case WS:
		wc, err := dialWS(tcp, addr, d.Timeout)
		if err != nil {
			tcp.Close()
			return nil, err
		}
		return &Conn{Conn: wc, tcp: tcp}, nil
	}
	tcp.Close()
	return nil, fmt.Errorf("unknown transport %q", t)
}
