package transport

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
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

// testCert is one self-signed certificate for all of these tests.
var testCert = func() struct {
	cert tls.Certificate
	fp   string
} {
	cert, fp, err := SelfSigned([]string{"chat.example", "10.1.2.3", ""})
	if err != nil {
		panic(err)
	}
	return struct {
		cert tls.Certificate
		fp   string
	}{cert, fp}
}()

func serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{testCert.cert}}
}

// trusting returns a client configuration that trusts the test
// certificate as a root.
func trusting() *tls.Config {
	roots := x509.NewCertPool()
	roots.AddCert(testCert.cert.Leaf)
	return &tls.Config{RootCAs: roots, ServerName: "localhost"}
}

// pinning returns a client configuration that accepts exactly the
// certificate of fingerprint fp, as a client told it by the operator does.
func pinning(fp string) *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, // the pin replaces the chain
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || !strings.EqualFold(Fingerprint(raw[0]), fp) {
				return errors.New("certificate does not match the pinned fingerprint")
			}
			return nil
		},
	}
}

// eofSpy tells whether the TCP stream under a TLS client ended: a client
// that reads io.EOF from TLS without its TCP stream having ended got a
// close_notify.
type eofSpy struct {
	net.Conn
	eof atomic.Bool
}

func (s *eofSpy) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if err == io.EOF {
		s.eof.Store(true)
	}
	return n, err
}

// tlsPair returns a server connection accepted by a TLS listener and a
// client over the spy, its handshake under way.
func tlsPair(t *testing.T, cfg *tls.Config) (server *tlsConn, client *tls.Conn, tcp *net.TCPConn, spy *eofSpy) {
	t.Helper()
	s, c := tcpPair(t, func(ln net.Listener) net.Listener { return TLS(ln, serverConfig()) })
	spy = &eofSpy{Conn: c}
	client = tls.Client(spy, cfg)
	t.Cleanup(func() { client.Close() })
	return s.(*tlsConn), client, c, spy
}

// TestSelfSigned: the certificate names the loopback addresses, localhost
// and the hosts given, is valid for about a year, and its fingerprint is
// the SHA-256 of its DER as colon-separated hex.
func TestSelfSigned(t *testing.T) {
	t.Parallel()
	leaf := testCert.cert.Leaf
	if err := leaf.VerifyHostname("localhost"); err != nil {
		t.Error(err)
	}
	for _, h := range []string{"127.0.0.1", "::1", "chat.example", "10.1.2.3"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Error(err)
		}
	}
	if slices.Contains(leaf.DNSNames, "") {
		t.Errorf("an empty name: %q", leaf.DNSNames)
	}
	if d := time.Until(leaf.NotAfter); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("valid for %v more", d)
	}
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(testCert.fp) {
		t.Errorf("fingerprint %q", testCert.fp)
	}
	if Fingerprint(testCert.cert.Certificate[0]) != testCert.fp {
		t.Error("Fingerprint differs from SelfSigned's")
	}
	_, fp2, _ := SelfSigned(nil)
	if fp2 == testCert.fp {
		t.Error("two certificates, one fingerprint")
	}
}

// TestTLSClients: a client that trusts the certificate, or pins its
// fingerprint, speaks lines through TLS (TRANS-1); one that trusts
// neither, pins another, or offers only TLS 1.1 is refused.
func TestTLSClients(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := TLS(ln, serverConfig())
	if got := l.(interface{ Transport() string }).Transport(); got != "tls" {
		t.Errorf("Transport() = %q", got)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(failAfter))
				line, err := spec.NewLineReader(conn, spec.MaxLineLen).ReadLine()
				if err != nil {
					return
				}
				conn.Write([]byte("PONG " + string(line) + "\r\n"))
				conn.(interface{ CloseWrite() error }).CloseWrite()
			}()
		}
	}()
	old := trusting()
	old.MaxVersion = tls.VersionTLS11
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"trusting", trusting(), true},
		{"pinning", pinning(strings.ToLower(testCert.fp)), true},
		{"system roots", &tls.Config{ServerName: "localhost"}, false},
		{"another pin", pinning(strings.Repeat("00:", 31) + "00"), false},
		{"TLS 1.1", old, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tls.Dialer{Config: tc.cfg}
			ctx, cancel := context.WithTimeout(context.Background(), failAfter)
			defer cancel()
			conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
			if err != nil {
				if tc.ok {
					t.Fatal(err)
				}
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(failAfter))
			conn.Write([]byte("PING x\n"))
			got, err := io.ReadAll(conn)
			if !tc.ok {
				t.Fatalf("connected and read %q, %v", got, err)
			}
			if err != nil || string(got) != "PONG PING x\r\n" {
				t.Fatalf("read %q, %v", got, err)
			}
			if v := conn.(*tls.Conn).ConnectionState().Version; v < tls.VersionTLS12 {
				t.Errorf("version %x", v)
			}
		})
	}
}

// TestTLSCloses: a Close ends the session with a close_notify, a
// CloseWrite too, and then half-closes the TCP connection, which still
// reads; after SetLinger(0) Close resets the connection without one
// (TRANS-1, LIMIT-8).
func TestTLSCloses(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"Close", "CloseWrite", "reset"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			server, client, _, spy := tlsPair(t, trusting())
			go client.Write([]byte("PING\r\n"))
			server.SetDeadline(time.Now().Add(failAfter))
			lr := spec.NewLineReader(server, spec.MaxLineLen)
			if line, err := lr.ReadLine(); err != nil || string(line) != "PING" {
				t.Fatalf("server read %q, %v", line, err)
			}
			server.Write([]byte("PONG\r\n"))
			client.SetDeadline(time.Now().Add(failAfter))
			r := bufio.NewReader(client)
			if line, err := r.ReadString('\n'); line != "PONG\r\n" {
				t.Fatalf("client read %q, %v", line, err)
			}
			switch how {
			case "Close":
				server.Close()
			case "CloseWrite":
				server.CloseWrite()
			case "reset":
				server.SetLinger(0)
				server.Close()
			}
			_, err := r.ReadString('\n')
			switch {
			case how == "reset":
				if !isReset(err) {
					t.Fatalf("client read %v, want a reset", err)
				}
			case err != io.EOF || spy.eof.Load():
				t.Fatalf("client read %v, TCP ended %v; want the EOF of a close_notify", err, spy.eof.Load())
			}
			if how == "CloseWrite" {
				if _, err := spy.Read(make([]byte, 1)); err != io.EOF {
					t.Errorf("after the close_notify the TCP stream goes on: %v; want it half-closed", err)
				}
				client.Write([]byte("LATE\r\n"))
				if line, err := lr.ReadLine(); err != nil || string(line) != "LATE" {
					t.Errorf("server read %q, %v after CloseWrite", line, err)
				}
			}
		})
	}
}

// TestTLSSlowReader: a client that reads steadily but more slowly than the
// server writes, written to as the server's writer does (deadlines a slice
// ahead, the rest written again after each timeout), receives every line,
// whole and in order. A bare tls.Conn cannot do this: its first write
// timeout breaks it for good.
func TestTLSSlowReader(t *testing.T) {
	t.Parallel()
	server, client, tcp, _ := tlsPair(t, trusting())
	server.raw.Conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
	tcp.SetReadBuffer(16 << 10)
	go client.Write([]byte("PING\r\n"))
	server.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := server.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	const lines = 2000
	done := make(chan int)
	go func() {
		defer close(done)
		batch := make(net.Buffers, lines)
		for i := range batch {
			batch[i] = fmt.Appendf(nil, "ROOM #r u %05d %s\r\n", i, strings.Repeat("t", 200))
		}
		timeouts := 0
		start := time.Now()
		for len(batch) > 0 && time.Since(start) < failAfter {
			server.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
			if _, err := batch.WriteTo(server); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("write: %v", err)
					return
				}
				timeouts++
			}
		}
		server.SetWriteDeadline(time.Now().Add(failAfter))
		server.CloseWrite()
		done <- timeouts
	}()
	client.SetReadDeadline(time.Now().Add(failAfter))
	r := bufio.NewReaderSize(client, 1024)
	for i := range lines {
		line, err := r.ReadString('\n')
		if want := fmt.Sprintf("ROOM #r u %05d ", i); err != nil || !strings.HasPrefix(line, want) || len(line) != len(want)+202 {
			t.Fatalf("line %d: %q, %v", i, line, err)
		}
		if i%100 == 0 {
			time.Sleep(10 * time.Millisecond) // a slow reader: the server's writes time out
		}
	}
	if _, err := r.ReadString('\n'); err != io.EOF {
		t.Errorf("after the lines: %v, want EOF", err)
	}
	if n := <-done; n == 0 {
		t.Errorf("no write timed out: the test tests nothing")
	} else {
		t.Logf("%d writes timed out", n)
	}
}

// TestTLSHandshakeTimeout: a client that opens TCP and sends nothing is
// closed once the handshake's time is up, whether the server reads or
// writes.
func TestTLSHandshakeTimeout(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"Read", "Write"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			s, c := tcpPair(t, func(ln net.Listener) net.Listener {
				l := TLS(ln, serverConfig()).(*tlsListener)
				l.handshakeTimeout = 50 * time.Millisecond
				return l
			})
			start := time.Now()
			var err error
			if op == "Read" {
				_, err = s.Read(make([]byte, 10))
			} else {
				_, err = s.Write([]byte("ERROR Server full\r\n"))
			}
			if err == nil || time.Since(start) > failAfter/2 {
				t.Fatalf("%s: %v after %v", op, err, time.Since(start))
			}
			c.SetReadDeadline(time.Now().Add(failAfter))
			if _, err := readAllUntilErr(c); err != io.EOF && !isReset(err) {
				t.Errorf("client: %v, want the connection closed", err)
			}
		})
	}
}

// TestTLSCloseDoesNotWait: with output to a client that does not read
// held, Close returns at once (it is called by the server's loop).
func TestTLSCloseDoesNotWait(t *testing.T) {
	t.Parallel()
	server, client, tcp, _ := tlsPair(t, trusting())
	tcp.SetReadBuffer(4 << 10)
	go client.Write([]byte("PING\r\n"))
	server.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := server.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("x"), 64<<10)
	for start := time.Now(); ; {
		server.SetWriteDeadline(time.Now().Add(5 * time.Millisecond))
		if _, err := server.Write(line); errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if time.Since(start) > failAfter {
			t.Fatal("the client's buffers never filled")
		}
	}
	server.SetWriteDeadline(time.Time{}) // as if the writer had set none
	start := time.Now()
	server.Close()
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Close took %v", d)
	}
}
