package dial

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsConn is a client's end of a WebSocket connection (TRANS-5), read and
// written as lines: each line written is one text message, each message
// received one line.
type wsConn struct {
	net.Conn // the TCP connection, for addresses; reads and writes go through ws
	ws       *websocket.Conn

	wmu   sync.Mutex
	lines lineSplitter
	wdl   time.Time // the write deadline

	rmu  sync.Mutex
	next []byte
	rdl  time.Time // the read deadline
}

// dialWS opens a WebSocket at ws://addr/chat over tcp.
func dialWS(tcp *net.TCPConn, addr string, timeout time.Duration) (*wsConn, error) {
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	used := false
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, fmt.Errorf("one connection only")
			}
			used = true
			return tcp, nil
		},
	}}
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/chat", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		return nil, fmt.Errorf("WebSocket handshake: %w", err)
	}
	ws.SetReadLimit(-1) // server lines have no maximum (FRAME-11); maxServerFrame guards
	return &wsConn{Conn: tcp, ws: ws}, nil
}

func (c *wsConn) ctx(deadline time.Time) (context.Context, context.CancelFunc) {
	if deadline.IsZero() {
		return context.WithCancel(context.Background())
	}
	return context.WithDeadline(context.Background(), deadline)
}

// Write sends each complete line of p as one text message (see
// lineSplitter).
func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for i, m := range c.lines.split(p) {
		ctx, cancel := c.ctx(c.wdl)
		err := c.ws.Write(ctx, websocket.MessageText, m)
		cancel()
		if err != nil && i > 0 {
			// The server closed the WebSocket after an earlier line of
			// this write (a QUIT among them): over TCP the rest would
			// have gone into the socket and been dropped by the server,
			// so they are dropped here too rather than failing a write
			// that TCP would have accepted.
			return len(p), nil
		}
		if err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeMessage sends one message of type typ as it is (for scripts that
// make messages by hand).
func (c *wsConn) writeMessage(typ websocket.MessageType, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := c.ctx(c.wdl)
	defer cancel()
	return c.ws.Write(ctx, typ, data)
}

// Read returns each message as a line ending in CRLF; a close of the
// server is the end of the stream.
func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.next) == 0 {
		ctx, cancel := c.ctx(c.rdl)
		_, r, err := c.ws.Reader(ctx)
		if err == nil {
			var data []byte
			data, err = io.ReadAll(io.LimitReader(r, maxServerFrame+1))
			if err == nil && len(data) > maxServerFrame {
				err = fmt.Errorf("the server sent a message of more than %d bytes", maxServerFrame)
			}
			c.next = append(data, '\r', '\n')
		}
		cancel()
		if err != nil {
			c.next = nil
			switch st := websocket.CloseStatus(err); {
			case st == websocket.StatusNormalClosure:
				return 0, io.EOF // the close of TRANS-6
			case st != -1:
				return 0, fmt.Errorf("the server closed the WebSocket with status %d, not 1000 (TRANS-6)", st)
			}
			if ctx.Err() == context.DeadlineExceeded {
				return 0, timeoutError{}
			}
			return 0, err
		}
	}
	n := copy(p, c.next)
	c.next = c.next[n:]
	return n, nil
}

// timeoutError is a read that passed its deadline, as net.Error says.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (c *wsConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *wsConn) SetReadDeadline(t time.Time) error {
	c.rmu.Lock()
	c.rdl = t
	c.rmu.Unlock()
	return nil
}

func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	c.wdl = t
	c.wmu.Unlock()
	return nil
}

// Close closes the connection at once, as a client that goes away does:
// no close message (a QUIT is how a client leaves politely).
func (c *wsConn) Close() error {
	c.ws.CloseNow()
	return c.Conn.Close()
}

// CloseWrite half-closes the TCP connection under the WebSocket: the server
// reads the end of the stream, with no close message, and may still send
// what it owes (DISC-6), as over lines. A WebSocket itself has no
// half-close: a close message would also end what the server may send.
func (c *wsConn) CloseWrite() error {
	return c.Conn.(*net.TCPConn).CloseWrite()
}
