package dial

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

// frameServer accepts one connection, reads frames with a header of n
// bytes and sends each payload it received to got; it answers each with a
// frame "ok <length>".
func frameServer(t *testing.T, n int) (string, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 100)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		defer close(got)
		br := bufio.NewReader(c)
		for {
			size, err := spec.ReadFrameHeader(br, n)
			if err != nil {
				return
			}
			p := make([]byte, size)
			if _, err := io.ReadFull(br, p); err != nil {
				return
			}
			got <- string(p)
			c.Write(spec.AppendFrame(nil, n, []byte("ok "+strings.Repeat("x", len(p)%7))))
		}
	}()
	return ln.Addr().String(), got
}

// TestFramedWrites: what a script writes as lines goes out as frames: one
// per line, terminator dropped, a line split over writes joined, 512 bytes
// without an LF at once as one overlong frame and the rest of that line
// dropped, bytes left without an LF never sent.
func TestFramedWrites(t *testing.T) {
	for _, n := range []int{4, 8} {
		addr, got := frameServer(t, n)
		tr := Framed4
		if n == 8 {
			tr = Framed8
		}
		c, err := Dialer{Transport: tr, Timeout: time.Second}.Dial(addr, Options{})
		if err != nil {
			t.Fatal(err)
		}
		long := strings.Repeat("y", 600)
		for _, w := range []string{"USERNAME a\r\n", "JOIN ", "#r\n", "a\rb\n", "\n", long + "\r\n", "PING z\r\nunfinished"} {
			if _, err := c.Write([]byte(w)); err != nil {
				t.Fatal(err)
			}
		}
		c.CloseWrite()
		var frames []string
		for p := range got {
			frames = append(frames, p)
		}
		want := []string{"USERNAME a", "JOIN #r", "a\rb", "", long[:spec.MaxLineLen], "PING z"}
		if strings.Join(frames, "|") != strings.Join(want, "|") {
			t.Errorf("header %d: frames %q, want %q", n, frames, want)
		}
		// Each answer frame reads as a CRLF line.
		br := bufio.NewReader(c)
		for range want {
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "ok ") || !strings.HasSuffix(line, "\r\n") {
				t.Fatalf("header %d: read %q, %v", n, line, err)
			}
		}
		if _, err := br.ReadString('\n'); err != io.EOF {
			t.Errorf("header %d: after the last frame: %v, want EOF", n, err)
		}
		c.Close()
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"", "lines", "tls", "framed4", "framed8", "ws"} {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q): %v", s, err)
		}
	}
	if _, err := Parse("wss"); err == nil || !bytes.Contains([]byte(err.Error()), []byte("framed8, ws")) {
		t.Errorf("Parse(wss): %v", err)
	}
}
