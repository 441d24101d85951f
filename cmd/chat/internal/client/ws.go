package client

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// wsConn carries the client's lines in WebSocket messages (PROTOCOL.md
// TRANS-5): each line written is one text message, without its
// terminator, and each message read is a line ending in CRLF, so that the
// session reads and writes the stream of lines it reads over TCP.
type wsConn struct {
	net.Conn // the TCP connection under it, for Close
	ws       *websocket.Conn
	next     []byte
}

// dialWS opens a WebSocket at ws://addr/chat on conn.
func dialWS(ctx context.Context, conn net.Conn, addr string, timeout time.Duration) (*wsConn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	once := false
	hc := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		if once {
			return nil, fmt.Errorf("one connection only")
		}
		once = true
		return conn, nil
	}}}
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/chat", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, fmt.Errorf("WebSocket: %w", err)
	}
	ws.SetReadLimit(maxServerLine)
	return &wsConn{Conn: conn, ws: ws}, nil
}

func (c *wsConn) Read(p []byte) (int, error) {
	if len(c.next) == 0 {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return 0, err
		}
		c.next = append(data, '\r', '\n')
	}
	n := copy(p, c.next)
	c.next = c.next[n:]
	return n, nil
}

// Write sends p, one line with its terminator (the session writes a line
// at a time), as one text message.
func (c *wsConn) Write(p []byte) (int, error) {
	line := bytes.TrimSuffix(bytes.TrimSuffix(p, []byte("\n")), []byte("\r"))
	if err := c.ws.Write(context.Background(), websocket.MessageText, line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close ends the WebSocket at once; QUIT is how the session leaves.
func (c *wsConn) Close() error {
	c.ws.CloseNow()
	return c.Conn.Close()
}
