package impl_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomchat.dev/roomchat/conformance/dial"
	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/transport"
	"roomchat.dev/roomchat/spec"
)

// The reference server on every transport at once (PROTOCOL.md 2.1):
// lines, TLS, frames with 4- and 8-byte headers and WebSockets, one
// listener each, one set of users and rooms.

// multiServer is a server with a listener of every transport.
type multiServer struct {
	srv                *impl.Server
	lines, tls, f4, f8 string // addresses
	ws                 string
	roots              *x509.CertPool
	serveErr           chan error
	n                  int
	done               bool
}

// startTransports starts a server with cfg on a listener of every
// transport; it is shut down when the test ends.
func startTransports(t *testing.T, cfg impl.Config) *multiServer {
	t.Helper()
	cert, _, err := transport.SelfSigned(nil)
	if err != nil {
		t.Fatal(err)
	}
	ms := &multiServer{srv: impl.New(cfg), roots: x509.NewCertPool(), serveErr: make(chan error, 5)}
	ms.roots.AddCert(cert.Leaf)
	listen := func(addr *string, wrap func(net.Listener) net.Listener) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		*addr = ln.Addr().String()
		ms.n++
		go func() { ms.serveErr <- ms.srv.Serve(wrap(ln)) }()
	}
	listen(&ms.lines, func(ln net.Listener) net.Listener { return ln })
	listen(&ms.tls, func(ln net.Listener) net.Listener {
		return transport.TLS(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	})
	listen(&ms.f4, func(ln net.Listener) net.Listener { return transport.Framed(ln, 4) })
	listen(&ms.f8, func(ln net.Listener) net.Listener { return transport.Framed(ln, 8) })
	listen(&ms.ws, func(ln net.Listener) net.Listener { return transport.WebSocket(ln, transport.WSOptions{}) })
	t.Cleanup(func() { ms.shutdown(t) })
	return ms
}

// shutdown shuts the server down, once, and checks that every Serve
// returned ErrServerClosed.
func (ms *multiServer) shutdown(t *testing.T) {
	if ms.done {
		return
	}
	ms.done = true
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	if err := ms.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	for range ms.n {
		if err := <-ms.serveErr; !errors.Is(err, impl.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	}
}

// chatter is a client of any transport.
type chatter interface {
	name() string
	send(line string)
	readLine() (string, error)
	raw() net.Conn
}

// dialTCP connects to addr; a positive rcvbuf is the socket's receive
// buffer, set before the handshake so that it is small from the start.
func dialTCP(t *testing.T, addr string, rcvbuf int) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: failAfter}
	if rcvbuf > 0 {
		d.Control = dial.RcvBufControl(rcvbuf)
	}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.(*net.TCPConn)
}

// streamClient speaks lines over a plain socket (like nc, with bare LFs)
// or inside TLS.
type streamClient struct {
	t     *testing.T
	label string
	conn  net.Conn
	r     *bufio.Reader
	eol   string
}

func (c *streamClient) name() string  { return c.label }
func (c *streamClient) raw() net.Conn { return c.conn }

func (c *streamClient) send(line string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := io.WriteString(c.conn, line+c.eol); err != nil {
		c.t.Fatalf("%s: write: %v", c.label, err)
	}
}

func (c *streamClient) readLine() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(failAfter))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("line %q does not end in CRLF", line)
	}
	return strings.TrimSuffix(line, "\r\n"), nil
}

// dialLines connects a client that ends its lines with a bare LF, as nc.
func (ms *multiServer) dialLines(t *testing.T, label string) *streamClient {
	conn := dialTCP(t, ms.lines, 0)
	return &streamClient{t: t, label: label, conn: conn, r: bufio.NewReader(conn), eol: "\n"}
}

// dialTLS connects a TLS client that verifies the server's certificate;
// rcvbuf as dialTCP. Its handshake completes on its first line.
func (ms *multiServer) dialTLS(t *testing.T, label string, rcvbuf int) *streamClient {
	conn := tls.Client(dialTCP(t, ms.tls, rcvbuf), &tls.Config{RootCAs: ms.roots, ServerName: "localhost"})
	return &streamClient{t: t, label: label, conn: conn, r: bufio.NewReader(conn), eol: "\r\n"}
}

// frameClient speaks in length-prefixed frames. With keep > 0 it reads
// frames of at most keep bytes, and skips longer ones by their length, as
// a peer with a 4,096-byte limit must (TRANS-4).
type frameClient struct {
	t       *testing.T
	label   string
	conn    net.Conn
	r       *bufio.Reader
	header  int
	keep    uint64
	skipped []uint64 // the lengths of the frames skipped
}

func (c *frameClient) name() string  { return c.label }
func (c *frameClient) raw() net.Conn { return c.conn }

func (c *frameClient) send(line string) { c.sendFrames(line) }

// sendFrames sends each payload as a frame, all in one write.
func (c *frameClient) sendFrames(payloads ...string) {
	c.t.Helper()
	var b []byte
	for _, p := range payloads {
		b = spec.AppendFrame(b, c.header, []byte(p))
	}
	c.writeRaw(b)
}

func (c *frameClient) writeRaw(b []byte) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(failAfter))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("%s: write: %v", c.label, err)
	}
}

func (c *frameClient) readLine() (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(failAfter))
	for {
		n, err := spec.ReadFrameHeader(c.r, c.header)
		if err != nil {
			return "", err
		}
		if c.keep > 0 && n > c.keep {
			if _, err := io.CopyN(io.Discard, c.r, int64(n)); err != nil {
				return "", err
			}
			c.skipped = append(c.skipped, n)
			continue
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.r, p); err != nil {
			return "", err
		}
		if bytes.ContainsAny(p, "\r\n") {
			return "", fmt.Errorf("a frame with CR or LF: %q", p)
		}
		return string(p), nil
	}
}

// dialFramed connects a client with headers of h bytes; keep and rcvbuf as
// frameClient and dialTCP.
func (ms *multiServer) dialFramed(t *testing.T, label string, h int, keep uint64, rcvbuf int) *frameClient {
	addr := ms.f4
	if h == 8 {
		addr = ms.f8
	}
	conn := dialTCP(t, addr, rcvbuf)
	return &frameClient{t: t, label: label, conn: conn, r: bufio.NewReader(conn), header: h, keep: keep}
}

// expect reads c's next lines and checks them.
func expect(t *testing.T, c chatter, want ...string) {
	t.Helper()
	for _, w := range want {
		got, err := c.readLine()
		if err != nil {
			t.Fatalf("%s: want %q, got %v", c.name(), w, err)
		}
		if got != w {
			t.Fatalf("%s: got %q, want %q", c.name(), got, w)
		}
	}
}

// expectEnd checks that the server ends c's connection with no other line.
func expectEnd(t *testing.T, c chatter) {
	t.Helper()
	line, err := c.readLine()
	if err != io.EOF {
		t.Fatalf("%s: got %q, %v; want the end of the stream", c.name(), line, err)
	}
}

// TestTransportsShareRooms: a client of nc, one of TLS, one like the
// length-prefixed app (4-byte headers, UTF-8 text) and one like the family
// chat (8-byte headers, frames of at most 4,096 bytes kept) share a room:
// each sees the others join and speak. A ROOMLIST longer than 4,096
// bytes is one frame, whole (TRANS-4), which the family chat skips by its
// length, reading on; the others read it as the line client does.
func TestTransportsShareRooms(t *testing.T) {
	ms := startTransports(t, impl.Config{})
	clients := []chatter{
		ms.dialLines(t, "nc"),
		ms.dialTLS(t, "tls", 0),
		ms.dialFramed(t, "app", 4, 0, 0),
		ms.dialFramed(t, "family", 8, 4096, 0),
	}
	for i, c := range clients {
		c.send("USERNAME " + c.name())
		expect(t, c, "OK Welcome, "+c.name()+"!")
		c.send("JOIN #home")
		expect(t, c, fmt.Sprintf("OK Joined #home (%d users)", i))
		for _, o := range clients[:i] {
			expect(t, c, "JOIN #home "+o.name())
			expect(t, o, "JOIN #home "+c.name())
		}
	}
	texts := []string{"hello from nc", "hello over TLS", "h\u00e9llo \u2713 in frames", "hi from the family"}
	for i, c := range clients {
		c.send("MSG " + texts[i])
		for _, o := range clients {
			expect(t, o, "ROOM #home "+c.name()+" "+texts[i])
		}
	}
	clients[3].send("PRIVMSG app psst")
	expect(t, clients[3], "OK Sent")
	expect(t, clients[2], "PRIVMSG family psst")

	// Enough rooms, with long names, for a ROOMLIST of more than 4,096 bytes.
	const rooms = 130
	for i := range rooms {
		c := ms.dialLines(t, fmt.Sprintf("r%d", i))
		c.send(fmt.Sprintf("USERNAME r%d\nJOIN #%s%03d\nPING in", i, strings.Repeat("r", spec.MaxRoomLen-4), i))
		expect(t, c, fmt.Sprintf("OK Welcome, r%d!", i), fmt.Sprintf("OK Joined #%s%03d (0 users)", strings.Repeat("r", spec.MaxRoomLen-4), i), "PONG in")
	}
	var lists []string
	for _, c := range clients {
		c.send("ROOMS")
		c.send("PING listed")
	}
	for _, c := range clients[:3] {
		list, err := c.readLine()
		if err != nil || !strings.HasPrefix(list, "ROOMLIST #home #rrr") || len(list) <= 4096 {
			t.Fatalf("%s: ROOMLIST of %d bytes, %v", c.name(), len(list), err)
		}
		lists = append(lists, list)
		expect(t, c, "PONG listed")
	}
	if lists[1] != lists[0] || lists[2] != lists[0] {
		t.Errorf("the transports read different ROOMLISTs")
	}
	family := clients[3].(*frameClient)
	expect(t, family, "PONG listed")
	if len(family.skipped) != 1 || family.skipped[0] != uint64(len(lists[0])) {
		t.Errorf("family skipped frames of %v bytes, want one of %d", family.skipped, len(lists[0]))
	}
}

// TestTransportsFramedLines: a payload is checked as the line it carries
// (TRANS-3): 511 bytes is a line, 512 too long, answered once however long;
// CR or LF in it is a forbidden character, a final CR too; empty, it is
// ignored; the next frame is read normally. A stream that ends inside a
// frame ends there: the incomplete frame is no line.
func TestTransportsFramedLines(t *testing.T) {
	ms := startTransports(t, impl.Config{})
	for _, h := range []int{4, 8} {
		t.Run(fmt.Sprintf("header=%d", h), func(t *testing.T) {
			c := ms.dialFramed(t, "f", h, 0, 0)
			longest := "PING " + strings.Repeat("x", spec.MaxFramePayload-len("PING "))
			c.sendFrames(
				longest,
				longest+"x",
				"PING "+strings.Repeat("y", 100_000),
				"USERNAME al\rice",
				"PING a\nb",
				"PING x\r",
				"",
				"PING \xff",
				"PING end",
			)
			expect(t, c,
				"PONG "+longest[len("PING "):],
				"ERROR "+spec.ErrLineTooLong,
				"ERROR "+spec.ErrLineTooLong,
				"ERROR "+spec.ErrInvalidCharacter,
				"ERROR "+spec.ErrInvalidCharacter,
				"ERROR "+spec.ErrInvalidCharacter,
				"ERROR "+spec.ErrInvalidUTF8,
				"PONG end",
			)
			c.writeRaw(spec.AppendFrame(nil, h, []byte("PING cut"))[:h+4])
			c.conn.(*net.TCPConn).CloseWrite()
			expectEnd(t, c)
		})
	}
}

// TestTransportsSlowConsumer: a framed client and a TLS client that stop
// reading in a busy room are slow consumers: each is reset (LIMIT-8), the
// TLS one without a close_notify (TRANS-1), and the room hears LEAVE.
func TestTransportsSlowConsumer(t *testing.T) {
	ms := startTransports(t, impl.Config{MaxQueueBytes: 64 << 10, WriteTimeout: 250 * time.Millisecond})
	talker := ms.dialLines(t, "talker")
	talker.send("USERNAME talker")
	talker.send("JOIN #flood")
	expect(t, talker, "OK Welcome, talker!", "OK Joined #flood (0 users)")
	stuck := []chatter{ms.dialFramed(t, "slowframes", 4, 0, 4096), ms.dialTLS(t, "slowtls", 4096)}
	for i, c := range stuck {
		c.send("USERNAME " + c.name())
		c.send("JOIN #flood")
		expect(t, c, "OK Welcome, "+c.name()+"!", fmt.Sprintf("OK Joined #flood (%d users)", i+1), "JOIN #flood talker")
		if i == 1 {
			expect(t, c, "JOIN #flood slowframes")
			expect(t, stuck[0], "JOIN #flood slowtls")
		}
		expect(t, talker, "JOIN #flood "+c.name())
	}
	left := map[string]bool{}
	text := strings.Repeat("f", 400)
	for round := 0; len(left) < len(stuck); round++ {
		if round > 2000 {
			t.Fatalf("after %d rounds, only %v left", round, left)
		}
		var b strings.Builder
		for range 50 {
			b.WriteString("MSG " + text + "\n")
		}
		b.WriteString("PING round")
		talker.send(b.String())
		for {
			line, err := talker.readLine()
			if err != nil {
				t.Fatal(err)
			}
			if name, ok := strings.CutPrefix(line, "LEAVE #flood "); ok {
				left[name] = true
			}
			if line == "PONG round" {
				break
			}
		}
	}
	for _, c := range stuck {
		c.raw().SetReadDeadline(time.Now().Add(failAfter))
		var err error
		if tc, ok := c.raw().(*tls.Conn); ok {
			_, err = io.Copy(io.Discard, tc)
		} else {
			_, err = io.Copy(io.Discard, c.raw())
		}
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s: %v, want the connection reset (LIMIT-8)", c.name(), err)
		}
	}
}

// TestTransportsMaxClients: MaxClients counts the connections of every
// transport; a connection beyond it is refused on its own transport.
func TestTransportsMaxClients(t *testing.T) {
	ms := startTransports(t, impl.Config{MaxClients: 2})
	in := []chatter{ms.dialFramed(t, "a", 4, 0, 0), ms.dialTLS(t, "b", 0)}
	for _, c := range in {
		c.send("PING in")
		expect(t, c, "PONG in")
	}
	for _, c := range []chatter{ms.dialLines(t, "c"), ms.dialFramed(t, "d", 8, 0, 0), ms.dialTLS(t, "e", 0)} {
		if tc, ok := c.raw().(*tls.Conn); ok {
			if err := tc.Handshake(); err != nil {
				t.Fatal(err)
			}
		}
		expect(t, c, "ERROR "+spec.ErrServerFull)
		expectEnd(t, c)
	}
}

// TestTransportsShutdown: at shutdown every client, of every transport,
// reads the notice, then the end of its stream (SHUT-1); over TLS that
// end is a close_notify.
func TestTransportsShutdown(t *testing.T) {
	ms := startTransports(t, impl.Config{})
	clients := []chatter{ms.dialLines(t, "a"), ms.dialTLS(t, "b", 0), ms.dialFramed(t, "c", 4, 0, 0), ms.dialFramed(t, "d", 8, 0, 0)}
	for _, c := range clients {
		c.send("PING in")
		expect(t, c, "PONG in")
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ms.shutdown(t)
	}()
	for _, c := range clients {
		expect(t, c, "ERROR "+spec.ErrShuttingDown)
		expectEnd(t, c)
		c.raw().Close() // so that the server need not linger
	}
	<-stopped
}

// wsClient speaks in WebSocket messages, as a browser does, over a TCP
// connection it keeps for raw.
type wsClient struct {
	t     *testing.T
	label string
	ws    *websocket.Conn
	tcp   net.Conn
}

func (c *wsClient) name() string  { return c.label }
func (c *wsClient) raw() net.Conn { return c.tcp }

func (c *wsClient) send(line string) { c.sendMessage(websocket.MessageText, line) }

func (c *wsClient) sendMessage(typ websocket.MessageType, p string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	if err := c.ws.Write(ctx, typ, []byte(p)); err != nil {
		c.t.Fatalf("%s: write: %v", c.label, err)
	}
}

// readLine reads a message; a close message of status 1000 reads as
// io.EOF, the end of the stream.
func (c *wsClient) readLine() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	typ, p, err := c.ws.Read(ctx)
	switch {
	case websocket.CloseStatus(err) == websocket.StatusNormalClosure:
		return "", io.EOF
	case err != nil:
		return "", err
	case typ != websocket.MessageText:
		return "", fmt.Errorf("a binary message: %q", p)
	}
	return string(p), nil
}

// dialWS opens a WebSocket at /chat; rcvbuf as dialTCP.
func (ms *multiServer) dialWS(t *testing.T, label string, rcvbuf int) *wsClient {
	t.Helper()
	c := &wsClient{t: t, label: label}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		c.tcp = dialTCP(t, ms.ws, rcvbuf)
		return c.tcp, nil
	}}}
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+ms.ws+"/chat", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(-1) // a server line has no fixed maximum length (FRAME-11)
	c.ws = ws
	return c
}

// TestTransportsWebSocket: a WebSocket client and a line client chat in
// one room. A message's payload is checked as a line (TRANS-5): binary
// as text; CR or LF inside, a forbidden character; 100 KB, one ERROR Line
// too long, and the connection goes on; empty, ignored. QUIT ends with
// "OK Goodbye!", then a close message of status 1000 (TRANS-6).
func TestTransportsWebSocket(t *testing.T) {
	ms := startTransports(t, impl.Config{})
	nc := ms.dialLines(t, "nc")
	web := ms.dialWS(t, "web", 0)
	nc.send("USERNAME nc")
	nc.send("JOIN #home")
	expect(t, nc, "OK Welcome, nc!", "OK Joined #home (0 users)")
	web.sendMessage(websocket.MessageBinary, "USERNAME web")
	web.send("JOIN #home")
	expect(t, web, "OK Welcome, web!", "OK Joined #home (1 users)", "JOIN #home nc")
	expect(t, nc, "JOIN #home web")
	web.send("MSG h\u00e9llo \u2713")
	expect(t, web, "ROOM #home web h\u00e9llo \u2713")
	expect(t, nc, "ROOM #home web h\u00e9llo \u2713")
	nc.send("MSG hi web")
	expect(t, nc, "ROOM #home nc hi web")
	expect(t, web, "ROOM #home nc hi web")

	web.send("MSG two\r\nlines")
	web.send("MSG bare\nLF")
	web.send("MSG " + strings.Repeat("y", 100_000))
	web.send("")
	web.sendMessage(websocket.MessageBinary, "MSG \xff")
	web.send("PING still here")
	expect(t, web,
		"ERROR "+spec.ErrInvalidCharacter,
		"ERROR "+spec.ErrInvalidCharacter,
		"ERROR "+spec.ErrLineTooLong,
		"ERROR "+spec.ErrInvalidUTF8,
		"PONG still here")

	web.send("QUIT")
	expect(t, web, "OK Goodbye!")
	expectEnd(t, web)
	expect(t, nc, "LEAVE #home web")
}

// TestTransportsWebSocketSlowConsumer: a WebSocket client that stops
// reading in a busy room is a slow consumer: it is reset, without a close
// message (TRANS-6), and the room hears LEAVE.
func TestTransportsWebSocketSlowConsumer(t *testing.T) {
	ms := startTransports(t, impl.Config{MaxQueueBytes: 64 << 10, WriteTimeout: 250 * time.Millisecond})
	talker := ms.dialLines(t, "talker")
	talker.send("USERNAME talker")
	talker.send("JOIN #flood")
	expect(t, talker, "OK Welcome, talker!", "OK Joined #flood (0 users)")
	stuck := ms.dialWS(t, "slowweb", 4096)
	stuck.send("USERNAME slowweb")
	stuck.send("JOIN #flood")
	expect(t, stuck, "OK Welcome, slowweb!", "OK Joined #flood (1 users)", "JOIN #flood talker")
	expect(t, talker, "JOIN #flood slowweb")
	text := strings.Repeat("f", 400)
	for left := false; !left; {
		var b strings.Builder
		for range 50 {
			b.WriteString("MSG " + text + "\n")
		}
		b.WriteString("PING round")
		talker.send(b.String())
		for {
			line, err := talker.readLine()
			if err != nil {
				t.Fatal(err)
			}
			if line == "LEAVE #flood slowweb" {
				left = true
			}
			if line == "PONG round" {
				break
			}
		}
	}
	var err error
	for err == nil {
		_, err = stuck.readLine()
	}
	if websocket.CloseStatus(err) != -1 || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("%v, want the connection reset without a close message (LIMIT-8, TRANS-6)", err)
	}
}

// TestTransportsWebSocketShutdown: at shutdown a WebSocket client reads
// the notice, then a close message of status 1000 (SHUT-1, TRANS-6).
func TestTransportsWebSocketShutdown(t *testing.T) {
	ms := startTransports(t, impl.Config{})
	web := ms.dialWS(t, "web", 0)
	web.send("PING in")
	expect(t, web, "PONG in")
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ms.shutdown(t)
	}()
	expect(t, web, "ERROR "+spec.ErrShuttingDown)
	expectEnd(t, web)
	<-stopped
}
