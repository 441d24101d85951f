package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"roomchat.dev/roomchat/conformance/dial"
)

// wsServer is a WebSocket listener on a loopback port.
type wsServer struct {
	ln   net.Listener
	addr string
}

func startWS(t *testing.T, opts WSOptions) *wsServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &wsServer{ln: WebSocket(ln, opts), addr: ln.Addr().String()}
	t.Cleanup(func() { s.ln.Close() })
	return s
}

// wsDialer dials WebSockets and keeps the TCP connection under each, with
// a receive buffer of rcvbuf bytes if positive.
type wsDialer struct {
	rcvbuf int
	tcp    net.Conn // the last connection dialed
}

func (d *wsDialer) client() *http.Client {
	nd := &net.Dialer{Timeout: failAfter}
	if d.rcvbuf > 0 {
		nd.Control = dial.RcvBufControl(d.rcvbuf)
	}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := nd.DialContext(ctx, network, addr)
		d.tcp = c
		return c, err
	}}}
}

// dial opens a WebSocket at url with the header h.
func (d *wsDialer) dial(url string, h http.Header) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: d.client(), HTTPHeader: h})
}

// pair opens a WebSocket to s and returns both ends.
func (s *wsServer) pair(t *testing.T, d *wsDialer) (server *wsConn, client *websocket.Conn) {
	t.Helper()
	if d == nil {
		d = &wsDialer{}
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := s.ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	client, _, err := d.dial("ws://"+s.addr+WSPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	client.SetReadLimit(-1) // server lines have no fixed maximum length (FRAME-11)
	c := <-accepted
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close(); client.CloseNow() })
	return c.(*wsConn), client
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	t.Cleanup(cancel)
	return ctx
}

// TestWSReadLines: the messages of a client, text or binary, one of them
// in fragments, make the lines TRANS-5 says: up to 511 bytes a line;
// longer, "too long" once, and the next message is read normally; CR or LF
// in it, a line with NUL, which FRAME-8 rejects; empty, an empty line. A
// close message ends the stream.
func TestWSReadLines(t *testing.T) {
	t.Parallel()
	s := startWS(t, WSOptions{})
	server, client := s.pair(t, nil)
	ctx := ctxFor(t)
	client.CloseRead(ctx) // reads the pongs
	go func() {
		for i, p := range payloads {
			typ := websocket.MessageText
			if i%2 == 1 {
				typ = websocket.MessageBinary
			}
			if err := client.Write(ctx, typ, []byte(p)); err != nil {
				t.Error(err)
				return
			}
		}
		w, err := client.Writer(ctx, websocket.MessageText)
		if err != nil {
			t.Error(err)
			return
		}
		for _, part := range []string{"PING ", "frag", "ments"} {
			w.Write([]byte(part))
			client.Ping(ctx) // a control message between the fragments is no line
		}
		w.Close()
		client.Close(websocket.StatusNormalClosure, "")
	}()
	got := readLines(server)
	want := []string{
		`"USERNAME alice"`, `""`, fmt.Sprintf("%q", payloads[2]), fmt.Sprintf("%q", strings.Repeat("x", 511)),
		"too long", "too long",
		`"a\x00b"`, `"a\x00b"`, `"abc\x00"`, `"\x00\x00"`, `"\xff"`, `"PING end"`,
		`"PING fragments"`, "EOF",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("read\n%q\nwant\n%q", got, want)
	}
}

// TestWSHugeMessage: a message of 10 MB is read as 512 bytes and an LF,
// the rest discarded as it arrives; the connection goes on.
func TestWSHugeMessage(t *testing.T) {
	t.Parallel()
	s := startWS(t, WSOptions{})
	server, client := s.pair(t, nil)
	ctx := ctxFor(t)
	go func() {
		client.Write(ctx, websocket.MessageBinary, make([]byte, 10<<20))
		client.Write(ctx, websocket.MessageText, []byte("PING after"))
		client.CloseNow()
	}()
	buf := make([]byte, 4096)
	var all []byte
	for {
		n, err := server.Read(buf)
		all = append(all, buf[:n]...)
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		if len(all) > 2048 {
			t.Fatalf("read %d bytes", len(all))
		}
	}
	if want := string(make([]byte, 512)) + "\nPING after\n"; string(all) != want {
		t.Errorf("read %q", trim(all))
	}
}

// TestWSWrite: each CRLF-terminated line written is one text message,
// however the writes split it, and however long it is.
func TestWSWrite(t *testing.T) {
	t.Parallel()
	s := startWS(t, WSOptions{})
	server, client := s.pair(t, nil)
	long := "USERLIST " + strings.Repeat("u", 100_000)
	for _, w := range []string{"OK a\r\nROOM #x", " b\r", "\nPONG\r\n", long[:10], long[10:] + "\r\n"} {
		if n, err := server.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", trim([]byte(w)), n, err)
		}
	}
	ctx := ctxFor(t)
	for _, want := range []string{"OK a", "ROOM #x b", "PONG", long} {
		typ, p, err := client.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(p) != want {
			t.Fatalf("read %v %q %v, want text %q", typ, trim(p), err, trim([]byte(want)))
		}
	}
}

// TestWSOrigins: a handshake without Origin, or from the listener's own
// host, or from an allowed origin, opens a chat; one from any other
// origin is refused with 403 (TRANS-6). Other paths are not found.
func TestWSOrigins(t *testing.T) {
	t.Parallel()
	s := startWS(t, WSOptions{AllowedOrigins: []string{"*.example.org", "https://app.example.com"}})
	go func() {
		for {
			c, err := s.ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + s.addr, true},
		{"https://chat.example.org", true},
		{"https://app.example.com", true},
		{"http://app.example.com", false},
		{"https://evil.example", false},
		{"http://127.0.0.1:1", false},
		{"null", false},
	} {
		h := http.Header{}
		if tc.origin != "" {
			h.Set("Origin", tc.origin)
		}
		c, resp, err := (&wsDialer{}).dial("ws://"+s.addr+WSPath, h)
		switch {
		case tc.ok && err != nil:
			t.Errorf("origin %q: %v", tc.origin, err)
		case !tc.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden):
			t.Errorf("origin %q: %v, %v; want 403", tc.origin, resp, err)
		}
		if c != nil {
			c.CloseNow()
		}
	}
	for _, p := range []string{"/chat/", "/index.html", "/nothing"} { // / serves the web page (impl/transport/web)
		resp, err := http.Get("http://" + s.addr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", p, resp.Status)
		}
	}
}

// TestWSCloses: Close and CloseWrite end with a close message of status
// 1000 after the last line; after SetLinger(0), Close resets the
// connection without one (TRANS-6).
func TestWSCloses(t *testing.T) {
	t.Parallel()
	s := startWS(t, WSOptions{})
	for _, how := range []string{"Close", "CloseWrite", "reset"} {
		t.Run(how, func(t *testing.T) {
			server, client := s.pair(t, nil)
			server.Write([]byte("OK Goodbye!\r\n"))
			switch how {
			case "Close":
				server.Close()
			case "CloseWrite":
				server.CloseWrite()
			case "reset":
				server.SetLinger(0)
				server.Close()
			}
			ctx := ctxFor(t)
			_, p, err := client.Read(ctx)
			if how != "reset" && (err != nil || string(p) != "OK Goodbye!") {
				t.Fatalf("read %q, %v", p, err)
			}
			if err == nil {
				_, _, err = client.Read(ctx)
			}
			switch {
			case how == "reset":
				if websocket.CloseStatus(err) != -1 || !isReset(err) {
					t.Errorf("read %v, want a reset without close message", err)
				}
			case websocket.CloseStatus(err) != websocket.StatusNormalClosure:
				t.Errorf("read %v, want close status 1000", err)
			}
			if how == "CloseWrite" {
				// The client has answered the close message; the server
				// reads the end.
				server.SetReadDeadline(time.Now().Add(failAfter))
				if n, err := server.Read(make([]byte, 10)); err != io.EOF {
					t.Errorf("server read %d, %v after CloseWrite; want EOF", n, err)
				}
			}
		})
	}
}

// TestWSSlowReader: writes to a client that does not read return at their
// deadline having sent part of what they were given, and the connection
// stays usable: written on, as the server's writer does, every message
// arrives whole, in order. Close then does not wait.
func TestWSSlowReader(t *testing.T) {
	t.Parallel()
	s := startWS(t, WSOptions{})
	server, client := s.pair(t, &wsDialer{rcvbuf: 4096})
	server.sock.Conn.(*net.TCPConn).SetWriteBuffer(4096)
	const lines = 2000
	var out []byte
	for i := range lines {
		out = fmt.Appendf(out, "ROOM #r u %04d %s\r\n", i, strings.Repeat("m", 300))
	}
	timeouts := 0
	read := make(chan struct{})
	for rest := out; len(rest) > 0; {
		server.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
		n, err := server.Write(rest)
		if n > len(rest) || n == len(rest) && err != nil {
			t.Fatalf("Write of %d bytes: %d, %v", len(rest), n, err)
		}
		rest = rest[n:]
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			timeouts++
			if timeouts == 3 {
				go func() {
					defer close(read)
					readWS(t, client, lines)
				}()
			}
		default:
			t.Fatal(err)
		}
	}
	if timeouts < 3 {
		t.Fatalf("%d timeouts; the client's buffers took everything", timeouts)
	}
	<-read

	// Output backed up again: Close sends no close message, and returns.
	server, _ = s.pair(t, &wsDialer{rcvbuf: 4096})
	server.sock.Conn.(*net.TCPConn).SetWriteBuffer(4096)
	for {
		server.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
		if _, err := server.Write(out); err != nil {
			break
		}
	}
	start := time.Now()
	server.Close()
	if d := time.Since(start); d > time.Second {
		t.Errorf("Close took %v", d)
	}
}

// readWS reads n messages of TestWSSlowReader's.
func readWS(t *testing.T, client *websocket.Conn, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	for i := range n {
		_, p, err := client.Read(ctx)
		if err != nil {
			t.Errorf("message %d: %v", i, err)
			return
		}
		if want := fmt.Sprintf("ROOM #r u %04d %s", i, strings.Repeat("m", 300)); string(p) != want {
			t.Errorf("message %d: %q", i, trim(p))
			return
		}
	}
}
