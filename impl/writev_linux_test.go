package impl

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// loaded returns the bytes the iovecs of v point at, in order.
func (v *vecWriter) loaded() []byte {
	var b []byte
	for _, iov := range v.iov {
		b = append(b, unsafe.Slice(iov.Base, iov.Len)...)
	}
	return b
}

// TestVecWriterLoad: the iovecs cover the first lines of the batch, in
// order; long lines each have their own, pointing at the line itself, and
// neighbouring short lines share one into the gather buffer; a load stops
// at maxIovecs and when the gather buffer is full.
func TestVecWriterLoad(t *testing.T) {
	long := func(c byte) []byte { return bytes.Repeat([]byte{c}, vecMinLine) }
	v := vecWriters.Get().(*vecWriter)
	defer vecWriters.Put(v)

	batch := net.Buffers{[]byte("a\r\n"), []byte("b\r\n"), long('c'), {}, []byte("d\r\n"), long('e'), long('f')}
	v.load(batch)
	if len(v.iov) != 5 {
		t.Fatalf("%d iovecs, want 5: a and b, c, d, e, f", len(v.iov))
	}
	if got, want := v.loaded(), bytes.Join(batch, nil); !bytes.Equal(got, want) {
		t.Fatalf("loaded %q, want %q", got, want)
	}
	if v.iov[1].Base != &batch[2][0] {
		t.Error("a long line was copied")
	}

	var many net.Buffers
	for range maxIovecs + 10 {
		many = append(many, long('x'))
	}
	v.load(many)
	if len(v.iov) != maxIovecs {
		t.Errorf("%d iovecs for %d long lines, want %d", len(v.iov), len(many), maxIovecs)
	}

	short := []byte(strings.Repeat("y", vecMinLine-3) + "\r\n")
	var shorts net.Buffers
	for range 2 * gatherBytes / len(short) {
		shorts = append(shorts, short)
	}
	v.load(shorts)
	fit := gatherBytes / len(short)
	if len(v.iov) != 1 || int(v.iov[0].Len) != fit*len(short) {
		t.Errorf("short lines: %d iovecs, the first of %d bytes; want 1 of %d", len(v.iov), v.iov[0].Len, fit*len(short))
	}
	clear(v.iov)
}

// TestConsume: consume drops whole lines and cuts the first of the rest.
func TestConsume(t *testing.T) {
	batch := net.Buffers{[]byte("ab"), []byte("cde"), []byte("f")}
	rest := consume(batch, 3)
	if got := string(bytes.Join(rest, nil)); got != "def" || len(rest) != 2 {
		t.Errorf("after 3 bytes: %q in %d lines, want \"def\" in 2", got, len(rest))
	}
	if rest := consume(net.Buffers{[]byte("ab"), {}}, 2); len(rest) != 0 {
		t.Errorf("after all: %d lines left", len(rest))
	}
}

// TestWriteVectoredSocket: to a peer that does not read, writeVectored
// writes what the socket takes and fails at the deadline with nothing
// more written; once the peer reads, the rest goes, and the peer receives
// every byte once, in order.
func TestWriteVectoredSocket(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, peer := acceptPair(t, ln)
	// Small socket buffers, so that the batch below is far more than
	// they hold.
	peer.(*net.TCPConn).SetReadBuffer(16 << 10)
	conn.(*net.TCPConn).SetWriteBuffer(16 << 10)
	rc := rawConnOf(conn)
	if rc == nil {
		t.Fatal("no raw connection for a TCP socket")
	}

	// Lines of both kinds, 1.7 MB in all.
	var batch net.Buffers
	for i := range 4000 {
		n := 20 + i%3*400
		batch = append(batch, []byte(strings.Repeat(string(rune('a'+i%26)), n)+"\r\n"))
	}
	want := bytes.Join(batch, nil)

	conn.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
	sent := 0
	var werr error
	for len(batch) > 0 && werr == nil {
		var n int
		n, batch, werr = writeVectored(rc, batch)
		sent += n
	}
	if !errors.Is(werr, os.ErrDeadlineExceeded) || sent == 0 || sent >= len(want) {
		t.Fatalf("to a peer that does not read: %d of %d bytes, then %v; want some, then the deadline", sent, len(want), werr)
	}

	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(peer)
		got <- b
	}()
	conn.SetWriteDeadline(time.Time{})
	for len(batch) > 0 {
		var n int
		n, batch, werr = writeVectored(rc, batch)
		if werr != nil {
			t.Fatalf("after %d bytes: %v", sent, werr)
		}
		sent += n
	}
	conn.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("the peer received %d bytes that differ from the %d written", len(b), len(want))
	}
	if sent != len(want) {
		t.Errorf("%d bytes counted, %d written", sent, len(want))
	}
}
