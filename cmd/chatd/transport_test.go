package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomchat.dev/roomchat/impl/transport"
	"roomchat.dev/roomchat/spec"
)

// TestTransportFlags: the listeners the flags ask for; the default -addr
// only if no other.
func TestTransportFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args                  []string
		addr, tlsAddr, framed string
		header                int
		selfSigned            bool
	}{
		{nil, "127.0.0.1:9999", "", "", 4, false},
		{[]string{"-addr", "none", "-tls-addr", ":7000", "-tls-self-signed"}, "", ":7000", "", 4, true},
		{[]string{"-addr", "", "-framed-addr", ":7001", "-frame-header", "8"}, "", "", ":7001", 8, false},
		{[]string{"-p", "7002", "-tls-addr", ":0", "-tls-cert", "c", "-tls-key", "k", "-framed-addr", ":0"}, "127.0.0.1:7002", ":0", ":0", 4, false},
		// Without -addr or -p, the default line listener goes with no other.
		{[]string{"-framed-addr", ":7003"}, "", "", ":7003", 4, false},
		{[]string{"-addr", "127.0.0.1:9999", "-framed-addr", ":7003"}, "127.0.0.1:9999", "", ":7003", 4, false},
		{[]string{"-ws-addr", ":7004"}, "", "", "", 4, false},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if o.addr != tc.addr || o.tlsAddr != tc.tlsAddr || o.framedAddr != tc.framed || o.frameHeader != tc.header || o.tlsSelfSigned != tc.selfSigned {
			t.Errorf("%q: %+v", tc.args, o)
		}
	}
}

var fingerprintRE = regexp.MustCompile(`msg="tls certificate" fingerprint=(\S+)`)

// pinned returns a TLS configuration that accepts exactly the certificate
// of fingerprint fp.
func pinned(fp string) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // the pin replaces the chain
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || transport.Fingerprint(raw[0]) != fp {
				return errors.New("not the pinned certificate")
			}
			return nil
		},
	}
}

// dialTLS connects an nc-like client inside TLS.
func dialTLS(t *testing.T, addr, name string, cfg *tls.Config) *ncClient {
	t.Helper()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: failAfter}, Config: cfg}
	conn, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(failAfter))
	return &ncClient{t: t, name: name, conn: conn, r: bufio.NewReader(conn)}
}

// framedClient speaks in frames with headers of h bytes.
type framedClient struct {
	t    *testing.T
	name string
	conn net.Conn
	r    *bufio.Reader
	h    int
}

func dialFramed(t *testing.T, addr, name string, h int) *framedClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(failAfter))
	return &framedClient{t: t, name: name, conn: conn, r: bufio.NewReader(conn), h: h}
}

func (c *framedClient) send(line string) {
	c.t.Helper()
	if _, err := c.conn.Write(spec.AppendFrame(nil, c.h, []byte(line))); err != nil {
		c.t.Fatalf("%s: %v", c.name, err)
	}
}

func (c *framedClient) expect(want ...string) {
	c.t.Helper()
	for _, w := range want {
		n, err := spec.ReadFrameHeader(c.r, c.h)
		if err != nil {
			c.t.Fatalf("%s: want %q, got %v", c.name, w, err)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.r, p); err != nil || string(p) != w {
			c.t.Fatalf("%s: got %q, %v; want %q", c.name, p, err, w)
		}
	}
}

func (c *framedClient) expectEOF() {
	c.t.Helper()
	if _, err := spec.ReadFrameHeader(c.r, c.h); err != io.EOF {
		c.t.Fatalf("%s: %v, want EOF", c.name, err)
	}
}

// TestAllTransports: chatd with a listener of every kind, each on port 0,
// logs where each listens and the fingerprint of its self-signed
// certificate; a client of each, the TLS one pinning that fingerprint,
// chat in one room, and SIGTERM tells them all.
func TestAllTransports(t *testing.T) {
	t.Parallel()
	d := startDaemonFor(t, []string{"lines", "tls", "framed8"},
		"-addr", "127.0.0.1:0", "-tls-addr", "127.0.0.1:0", "-tls-self-signed",
		"-framed-addr", "127.0.0.1:0", "-frame-header", "8", "-log-interval", "1h")
	m := fingerprintRE.FindStringSubmatch(d.log())
	if m == nil {
		t.Fatalf("no fingerprint logged:\n%s", d.log())
	}
	for tr, addr := range d.listeners {
		if _, port, _ := net.SplitHostPort(addr); port == "0" {
			t.Errorf("%s: logged port 0", tr)
		}
	}
	if n := strings.Count(d.log(), " addr="); n != 1 {
		t.Errorf("%d records with addr=, want the line listener's alone:\n%s", n, d.log())
	}
	nc := dial(t, d.addr, "nc")
	tc := dialTLS(t, d.listeners["tls"], "tls", pinned(m[1]))
	fc := dialFramed(t, d.listeners["framed8"], "fam", 8)

	nc.send("USERNAME nc")
	nc.expect("OK Welcome, nc!")
	nc.send("JOIN #home")
	nc.expect("OK Joined #home (0 users)")
	tc.send("USERNAME tls")
	tc.expect("OK Welcome, tls!")
	tc.send("JOIN #home")
	tc.expect("OK Joined #home (1 users)", "JOIN #home nc")
	nc.expect("JOIN #home tls")
	fc.send("USERNAME fam")
	fc.expect("OK Welcome, fam!")
	fc.send("JOIN #home")
	fc.expect("OK Joined #home (2 users)", "JOIN #home nc", "JOIN #home tls")
	nc.expect("JOIN #home fam")
	tc.expect("JOIN #home fam")
	fc.send("MSG h\u00e9llo")
	fc.expect("ROOM #home fam h\u00e9llo")
	nc.expect("ROOM #home fam h\u00e9llo")
	tc.expect("ROOM #home fam h\u00e9llo")

	done := make(chan error, 1)
	go func() { done <- d.stop(t, syscall.SIGTERM) }()
	nc.expect("ERROR Server shutting down")
	tc.expect("ERROR Server shutting down")
	fc.expect("ERROR Server shutting down")
	nc.expectEOF()
	tc.expectEOF()
	fc.expectEOF()
	nc.conn.Close()
	tc.conn.Close()
	fc.conn.Close()
	if err := <-done; err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}
	if !strings.Contains(d.log(), " connects=3 disconnects=3 ") {
		t.Errorf("the count is not of every transport:\n%s", d.log())
	}
}

// TestCertificateFiles: -tls-cert and -tls-key, with no line listener:
// the log has no addr= at all, and gives the file certificate's
// fingerprint; a client that trusts the certificate connects. A missing
// file is an error at start.
func TestCertificateFiles(t *testing.T) {
	t.Parallel()
	cert, fp, err := transport.SelfSigned(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)

	d := startDaemonFor(t, []string{"tls", "framed4"}, "-addr", "none", "-tls-addr", "127.0.0.1:0",
		"-tls-cert", certFile, "-tls-key", keyFile, "-framed-addr", "127.0.0.1:0")
	if strings.Contains(d.log(), "addr=") {
		t.Errorf("an addr= without a line listener:\n%s", d.log())
	}
	if m := fingerprintRE.FindStringSubmatch(d.log()); m == nil || m[1] != fp {
		t.Errorf("fingerprint %q logged, want %s", m, fp)
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	c := dialTLS(t, d.listeners["tls"], "c", &tls.Config{RootCAs: roots, ServerName: "localhost"})
	c.send("PING tls")
	c.expect("PONG tls")
	f := dialFramed(t, d.listeners["framed4"], "f", 4)
	f.send("PING framed")
	f.expect("PONG framed")
	c.conn.Close()
	f.conn.Close()
	if err := d.stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}

	var stderr strings.Builder
	got := run(context.Background(), []string{"-addr", "none", "-tls-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", filepath.Join(dir, "missing.pem")}, io.Discard, &stderr)
	if got != 1 || !strings.Contains(stderr.String(), "missing.pem") {
		t.Errorf("with a missing key: status %d, log:\n%s", got, stderr.String())
	}
}

// TestWebSocketFlags: -ws-addr alone turns the default line listener off;
// -ws-origin is repeatable and takes lists; it needs -ws-addr and valid
// patterns.
func TestWebSocketFlags(t *testing.T) {
	t.Parallel()
	o, err := parseFlags([]string{"-ws-addr", ":7004", "-ws-origin", "a.example", "-ws-origin", "*.b.example, https://c.example"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "" || o.wsAddr != ":7004" || strings.Join(o.wsOrigins, " ") != "a.example *.b.example https://c.example" {
		t.Errorf("%+v", o)
	}
	for _, args := range [][]string{
		{"-ws-origin", "a.example"},
		{"-ws-addr", ":0", "-ws-origin", "[a"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}

// TestWebSocketListener: chatd logs where it listens for WebSockets; a
// WebSocket client and a line client chat in one room; a page of another
// origin is refused unless -ws-origin allows it; SIGTERM ends the
// WebSocket with a close message of status 1000.
func TestWebSocketListener(t *testing.T) {
	t.Parallel()
	d := startDaemonFor(t, []string{"lines", "ws"}, "-addr", "127.0.0.1:0", "-ws-addr", "127.0.0.1:0",
		"-ws-origin", "https://*.example.org", "-log-interval", "1h")
	url := "ws://" + d.listeners["ws"] + "/chat"
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	for origin, ok := range map[string]bool{"https://evil.example": false, "https://chat.example.org": true, "http://chat.example.org": false} {
		c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if ok != (err == nil) || !ok && (resp == nil || resp.StatusCode != http.StatusForbidden) {
			t.Errorf("origin %s: %v, %v", origin, resp, err)
		}
		if c != nil {
			c.CloseNow()
		}
	}
	web, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer web.CloseNow()
	expectWS := func(want ...string) {
		t.Helper()
		for _, w := range want {
			if _, p, err := web.Read(ctx); err != nil || string(p) != w {
				t.Fatalf("web: %q, %v; want %q", p, err, w)
			}
		}
	}
	nc := dial(t, d.addr, "nc")
	nc.send("USERNAME nc")
	nc.expect("OK Welcome, nc!")
	nc.send("JOIN #home")
	nc.expect("OK Joined #home (0 users)")
	web.Write(ctx, websocket.MessageText, []byte("USERNAME web"))
	web.Write(ctx, websocket.MessageText, []byte("JOIN #home"))
	expectWS("OK Welcome, web!", "OK Joined #home (1 users)", "JOIN #home nc")
	nc.expect("JOIN #home web")
	nc.send("MSG hello web")
	nc.expect("ROOM #home nc hello web")
	expectWS("ROOM #home nc hello web")

	done := make(chan error, 1)
	go func() { done <- d.stop(t, syscall.SIGTERM) }()
	nc.expect("ERROR Server shutting down")
	expectWS("ERROR Server shutting down")
	if _, _, err := web.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("web: %v, want a close message of status 1000", err)
	}
	nc.expectEOF()
	nc.conn.Close()
	if err := <-done; err != nil {
		t.Fatalf("chatd: %v\n%s", err, d.log())
	}
}
