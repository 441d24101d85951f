package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"roomchat.dev/roomchat/spec"
)

// frames returns payloads as frames with headers of h bytes.
func frames(h int, payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		b = spec.AppendFrame(b, h, []byte(p))
	}
	return b
}

// lineStream is what a framed connection reads for payloads: each as a
// line, CR and LF turned to NUL, an overlong one cut to MaxLineLen bytes.
func lineStream(payloads ...string) string {
	var b strings.Builder
	for _, p := range payloads {
		p = strings.NewReplacer("\r", "\x00", "\n", "\x00").Replace(p)
		if len(p) > spec.MaxFramePayload {
			p = p[:spec.MaxLineLen]
		}
		b.WriteString(p + "\n")
	}
	return b.String()
}

// payloads of every kind TRANS-3 names.
var payloads = []string{
	"USERNAME alice",
	"",                              // an empty line (FRAME-6)
	"MSG h\u00e9llo \u2713",         // UTF-8
	strings.Repeat("x", 511),        // the longest line (FRAME-4)
	strings.Repeat("y", 512),        // one byte too many
	strings.Repeat("z", 70_000),     // far too many
	"a\rb", "a\nb", "abc\r", "\r\n", // CR and LF inside
	"\xff",
	"PING end",
}

// TestFramedReadStream: frames read as the byte stream of their lines, for
// any sizes of the socket's reads and of the reader's buffer.
func TestFramedReadStream(t *testing.T) {
	t.Parallel()
	want := lineStream(payloads...)
	for _, h := range []int{4, 8} {
		for _, chunk := range []int{0, 1, 3, 7} {
			for _, small := range []bool{false, true} {
				t.Run(fmt.Sprintf("header=%d/chunk=%d/oneByteReads=%v", h, chunk, small), func(t *testing.T) {
					var r io.Reader = newFramedConn(&scriptConn{r: bytes.NewReader(frames(h, payloads...)), chunk: chunk}, h)
					if small {
						r = iotest.OneByteReader(r)
					}
					got, err := io.ReadAll(r)
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != want {
						t.Errorf("read %q\nwant %q", trim(got), trim([]byte(want)))
					}
				})
			}
		}
	}
}

func trim(b []byte) string {
	if len(b) > 200 {
		return string(b[:100]) + "..." + string(b[len(b)-100:])
	}
	return string(b)
}

// readLines reads r with the server's line reader until an error and
// returns what it read: each line quoted, "too long" for an overlong one,
// then the error.
func readLines(r io.Reader) []string {
	lr := spec.NewLineReader(r, spec.MaxLineLen)
	var got []string
	for {
		line, err := lr.ReadLine()
		switch {
		case err == nil:
			got = append(got, fmt.Sprintf("%q", line))
		case errors.Is(err, spec.ErrLineOverflow):
			got = append(got, "too long")
		default:
			return append(got, err.Error())
		}
	}
}

// TestFramedLines: the server's line reader makes of each payload the line
// TRANS-3 says: up to 511 bytes a line; longer, "too long" once, and the
// next frame is read normally; CR or LF inside, a line with NUL in it, which
// FRAME-8 rejects; empty, an empty line. A stream that ends inside a frame
// ends after the last whole one.
func TestFramedLines(t *testing.T) {
	t.Parallel()
	whole := []string{
		`"USERNAME alice"`, `""`, fmt.Sprintf("%q", payloads[2]), fmt.Sprintf("%q", strings.Repeat("x", 511)),
		"too long", "too long",
		`"a\x00b"`, `"a\x00b"`, `"abc\x00"`, `"\x00\x00"`, `"\xff"`, `"PING end"`,
	}
	for _, h := range []int{4, 8} {
		stream := frames(h, payloads...)
		big := spec.AppendFrame(nil, h, bytes.Repeat([]byte("w"), 1000))
		for _, tc := range []struct {
			name string
			tail []byte
			more []string // read after the whole frames
		}{
			{"whole", nil, nil},
			{"cut in a header", frames(h, "PING x")[:h-1], nil},
			{"cut after a header", frames(h, "PING x")[:h], nil},
			{"cut in a payload", frames(h, "PING x")[:h+3], nil},
			{"cut in an overlong payload", big[:h+600], []string{"too long"}},
			{"cut before an overlong payload ends", big[:h+512], []string{"too long"}},
		} {
			t.Run(fmt.Sprintf("header=%d/%s", h, tc.name), func(t *testing.T) {
				in := append(bytes.Clone(stream), tc.tail...)
				want := append(append(append([]string{}, whole...), tc.more...), "EOF")
				for _, chunk := range []int{0, 1} {
					got := readLines(newFramedConn(&scriptConn{r: bytes.NewReader(in), chunk: chunk}, h))
					if strings.Join(got, "\n") != strings.Join(want, "\n") {
						t.Errorf("chunk %d: read\n%s\nwant\n%s", chunk, strings.Join(got, "\n"), strings.Join(want, "\n"))
					}
				}
			})
		}
	}
}

// repeatReader reads as an endless run of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestFramedHugePayload: a payload of 64 MiB is answered as too long as
// soon as its first 512 bytes are in, and then discarded by its length as
// it arrives, without being held: the next frame reads normally, and
// reading it all allocates next to nothing. A length no stream could
// reach is read as too long the same way.
func TestFramedHugePayload(t *testing.T) {
	const size = 64 << 20
	src := &countingReader{r: io.MultiReader(
		bytes.NewReader([]byte{0, 0, 0, 0, 0x04, 0, 0, 0}), // size, 8-byte header
		io.LimitReader(repeatReader('z'), size),
		bytes.NewReader(frames(8, "PING after")),
	)}
	conn := &scriptConn{r: src}
	lr := spec.NewLineReader(newFramedConn(conn, 8), spec.MaxLineLen)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := lr.ReadLine(); !errors.Is(err, spec.ErrLineOverflow) {
		t.Fatalf("first line: %v, want too long", err)
	}
	if src.n > 64<<10 {
		t.Errorf("%d bytes read before the answer, want it after 512", src.n)
	}
	line, err := lr.ReadLine()
	if err != nil || string(line) != "PING after" {
		t.Fatalf("after the huge payload: %q, %v", line, err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<10 && !raceEnabled {
		t.Errorf("reading 64 MiB allocated %d bytes", got)
	}
	if conn.maxRead > skipChunk {
		t.Errorf("a read of %d bytes from the socket, more than %d", conn.maxRead, skipChunk)
	}
	if _, err := lr.ReadLine(); err != io.EOF {
		t.Errorf("at the end: %v, want EOF", err)
	}

	for _, h := range []int{4, 8} {
		hdr := bytes.Repeat([]byte{0xff}, h)
		in := append(append(hdr, bytes.Repeat([]byte("q"), 600)...), 0)
		got := readLines(newFramedConn(&scriptConn{r: bytes.NewReader(in)}, h))
		if want := []string{"too long", "EOF"}; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("header %d of the largest length, cut short: %q, want %q", h, got, want)
		}
	}
}

// parseFrames splits b into the payloads of frames of h-byte headers.
func parseFrames(t *testing.T, b []byte, h int) []string {
	t.Helper()
	r := bytes.NewReader(b)
	var got []string
	for {
		n, err := spec.ReadFrameHeader(r, h)
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("frames cut short after %q: %v", got, err)
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatalf("payload cut short after %q: %v", got, err)
		}
		got = append(got, string(p))
	}
}

// TestFramedWrite: each CRLF-terminated line written, however the writes
// cut the stream, goes out as one frame whatever its length (TRANS-4), and
// the frames of one Write in one write to the socket.
func TestFramedWrite(t *testing.T) {
	t.Parallel()
	long := "USERLIST " + strings.Repeat("u", 10_000)
	writes := []string{
		"OK Welcome, alice!\r\n",
		"JOIN #a bob\r\nROOM #a bob hi\r\n",
		"ROOM #a bob spl",
		"it",
		"\r",
		"\n" + long + "\r\nPONG\r",
		"\n",
		"",
		"ROOM #a bob a\rb\r\n", // a CR that is not a terminator stays
	}
	want := []string{"OK Welcome, alice!", "JOIN #a bob", "ROOM #a bob hi", "ROOM #a bob split", long, "PONG", "ROOM #a bob a\rb"}
	wantWrites := 5
	for _, h := range []int{4, 8} {
		conn := &scriptConn{}
		f := newFramedConn(conn, h)
		for _, w := range writes {
			n, err := f.Write([]byte(w))
			if n != len(w) || err != nil {
				t.Fatalf("Write(%q) = %d, %v", w, n, err)
			}
		}
		if got := parseFrames(t, conn.written(), h); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("header %d: frames %q\nwant %q", h, got, want)
		}
		if conn.writes != wantWrites {
			t.Errorf("header %d: %d writes to the socket, want %d", h, conn.writes, wantWrites)
		}
	}
}

// TestFramedWriteTimeouts: a socket that takes a few bytes at a time
// before its deadline passes, written as the server's writer does (one
// net.Buffers of lines, written again from where it stopped): every line
// arrives as one whole frame, once, in order; every byte is counted once;
// and a write that moved more than a header's worth counts some progress,
// so the writer does not take a slow reader for a stalled one.
func TestFramedWriteTimeouts(t *testing.T) {
	t.Parallel()
	var lines []string
	for i := range 60 {
		lines = append(lines, fmt.Sprintf("ROOM #r u%d %s", i, strings.Repeat("m", i*7)))
	}
	lines = append(lines, "USERLIST "+strings.Repeat("n", 5000), "PONG")
	for _, h := range []int{4, 8} {
		for seed := range uint64(8) {
			rng := rand.New(rand.NewPCG(seed, uint64(h)))
			conn := &scriptConn{accept: func(int) int {
				if rng.IntN(4) == 0 {
					return 0
				}
				return rng.IntN(3 * h)
			}}
			f := newFramedConn(conn, h)
			w := &progressWriter{t: t, w: f, conn: conn, h: h}
			batch := make(net.Buffers, len(lines))
			total := 0
			for i, l := range lines {
				batch[i] = []byte(l + "\r\n")
				total += len(batch[i])
			}
			var sum int64
			for tries := 0; len(batch) > 0; tries++ {
				if tries > 100_000 {
					t.Fatal("no end")
				}
				n, err := batch.WriteTo(w)
				sum += n
				if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatal(err)
				}
			}
			if sum != int64(total) {
				t.Errorf("header %d seed %d: %d bytes counted, want %d", h, seed, sum, total)
			}
			if got := parseFrames(t, conn.written(), h); strings.Join(got, "|") != strings.Join(lines, "|") {
				t.Fatalf("header %d seed %d: frames differ:\n%q", h, seed, got)
			}
		}
	}
}

// progressWriter checks each Write for progress: more than h+1 bytes out
// of the socket means at least one byte counted.
type progressWriter struct {
	t    *testing.T
	w    io.Writer
	conn *scriptConn
	h    int
}

func (p *progressWriter) Write(b []byte) (int, error) {
	before := p.conn.size()
	n, err := p.w.Write(b)
	if moved := p.conn.size() - before; moved > p.h+1 && n == 0 {
		p.t.Errorf("%d bytes went out, none counted", moved)
	}
	if err == nil && n != len(b) || err != nil && n >= len(b) {
		p.t.Errorf("Write of %d bytes: %d, %v", len(b), n, err)
	}
	return n, err
}

// TestFramedConn: over a real socket, deadlines reach the socket and a
// frame cut by a read timeout is read whole once the rest arrives; a
// write past its deadline fails without sending anything; SetLinger(0)
// and Close reset the connection (LIMIT-8), CloseWrite half-closes it.
func TestFramedConn(t *testing.T) {
	t.Parallel()
	server, client := tcpPair(t, func(ln net.Listener) net.Listener { return Framed(ln, 4) })
	if got := Framed(nil, 8).(interface{ Transport() string }).Transport(); got != "framed8" {
		t.Errorf("Transport() = %q", got)
	}

	lr := spec.NewLineReader(server, spec.MaxLineLen)
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := server.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	frame := frames(4, "PING split")
	client.Write(frame[:2])
	server.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := server.Read(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline inside a header: %v", err)
	}
	client.Write(frame[2:])
	server.SetReadDeadline(time.Now().Add(failAfter))
	if line, err := lr.ReadLine(); err != nil || string(line) != "PING split" {
		t.Fatalf("after the timeout: %q, %v", line, err)
	}

	server.SetWriteDeadline(time.Now().Add(-time.Second))
	if n, err := server.Write([]byte("LOST\r\n")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write past the deadline: %d, %v", n, err)
	}
	server.SetWriteDeadline(time.Now().Add(failAfter))
	server.Write([]byte("PONG split\r\n"))
	if err := server.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(failAfter))
	data, err := io.ReadAll(client)
	if err != nil || strings.Join(parseFrames(t, data, 4), "|") != "PONG split" {
		t.Fatalf("client read %q, %v; want one frame, then EOF", data, err)
	}

	server2, client2 := tcpPair(t, func(ln net.Listener) net.Listener { return Framed(ln, 8) })
	client2.Write(frames(8, "PING"))
	if line, err := spec.NewLineReader(server2, spec.MaxLineLen).ReadLine(); err != nil || string(line) != "PING" {
		t.Fatalf("read %q, %v", line, err)
	}
	server2.(interface{ SetLinger(int) error }).SetLinger(0)
	server2.Close()
	client2.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := readAllUntilErr(client2); !isReset(err) {
		t.Fatalf("after SetLinger(0) and Close: %v, want a reset", err)
	}
}
