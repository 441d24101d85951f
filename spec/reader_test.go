package spec_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// item is one result of ReadLine: a line, or ErrLineOverflow.
type item struct {
	Line     string
	Overflow bool
}

func (i item) String() string {
	if i.Overflow {
		return "<overflow>"
	}
	return fmt.Sprintf("%q", i.Line)
}

func line(s string) item { return item{Line: s} }

var overflow = item{Overflow: true}

var errEmptyRead = errors.New("Read called with an empty buffer")

// countingReader counts the bytes read through it and records the largest
// buffer it was asked to fill: the LineReader holds at most that much.
type countingReader struct {
	r      io.Reader
	n      int64
	reads  int
	maxBuf int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	if len(p) == 0 {
		// A full buffer: the LineReader would hold more than its limit.
		return 0, errEmptyRead
	}
	c.maxBuf = max(c.maxBuf, len(p))
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// chunkReader returns data in pieces of the given sizes, cycling through
// them. Every size must be positive.
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.sizes[c.i%len(c.sizes)], len(p), len(c.data))
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// readItems calls ReadLine until it returns an error other than
// ErrLineOverflow, checking after every call that the reader holds at most
// max bytes and that a line fits the limit and holds no LF.
func readItems(t fataler, lr *spec.LineReader, max int) ([]item, error) {
	return readItemsBatched(t, lr, max, false)
}

// readItemsBatched is readItems, and with batched, after each line that
// ReadLine returns, it takes every line BufferedLine has too, and copies
// them all only then: the slices must still hold their lines.
func readItemsBatched(t fataler, lr *spec.LineReader, max int, batched bool) ([]item, error) {
	var items []item
	var lines [][]byte
	for {
		l, err := lr.ReadLine()
		if b := lr.Buffered(); b < 0 || b > max {
			t.Fatalf("Buffered() = %d, limit %d", b, max)
		}
		switch {
		case err == nil:
			lines = append(lines[:0], l)
			for batched {
				more, ok := lr.BufferedLine()
				if !ok {
					break
				}
				lines = append(lines, more)
			}
			for _, l := range lines {
				if len(l) > max-1 {
					t.Fatalf("line of %d bytes, limit %d with terminator: %q", len(l), max, l)
				}
				if bytes.IndexByte(l, '\n') >= 0 {
					t.Fatalf("line holds a LF: %q", l)
				}
				items = append(items, line(string(l)))
			}
		case errors.Is(err, spec.ErrLineOverflow):
			if l != nil {
				t.Fatalf("ErrLineOverflow with line %q", l)
			}
			items = append(items, overflow)
		default:
			if l != nil {
				t.Fatalf("error %v with line %q", err, l)
			}
			return items, err
		}
		if len(items) > 1<<20 {
			t.Fatalf("ReadLine does not stop")
		}
	}
}

// expectItems is what a reader of lines of at most max bytes must yield
// for stream, written from FRAME-2, FRAME-4, FRAME-5 and FRAME-10.
func expectItems(stream []byte, max int) []item {
	var items []item
	for {
		i := bytes.IndexByte(stream, '\n')
		if i < 0 {
			// Bytes after the last LF are not a line, but max of them are
			// already an overlong line.
			if len(stream) >= max {
				items = append(items, overflow)
			}
			return items
		}
		l := stream[:i]
		stream = stream[i+1:]
		if i+1 > max {
			items = append(items, overflow)
			continue
		}
		items = append(items, line(string(bytes.TrimSuffix(l, []byte("\r")))))
	}
}

// readerKinds wraps a stream in readers that deliver it in different pieces.
var readerKinds = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one-byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data-err", iotest.DataErrReader},
	{"chunks-7", func(r io.Reader) io.Reader {
		b, _ := io.ReadAll(r)
		return &chunkReader{data: b, sizes: []int{7}}
	}},
}

// checkStream reads stream through every reader kind and compares the
// result with want, followed by io.EOF.
func checkStream(t *testing.T, stream string, max int, want ...item) {
	t.Helper()
	if got := expectItems([]byte(stream), max); !slices.Equal(got, want) {
		t.Fatalf("reference model: %v for %q, test wants %v", got, stream, want)
	}
	for _, rk := range readerKinds {
		cr := &countingReader{r: rk.wrap(strings.NewReader(stream))}
		lr := spec.NewLineReader(cr, max)
		got, err := readItems(t, lr, max)
		if !slices.Equal(got, want) || err != io.EOF {
			t.Errorf("%s reader of %.80q: got %v, %v; want %v, EOF", rk.name, stream, got, err, want)
		}
		lb := spec.NewLineReader(rk.wrap(strings.NewReader(stream)), max)
		if got, err := readItemsBatched(t, lb, max, true); !slices.Equal(got, want) || err != io.EOF {
			t.Errorf("%s reader of %.80q, with BufferedLine: got %v, %v; want %v, EOF", rk.name, stream, got, err, want)
		}
		if cr.n != int64(len(stream)) || cr.maxBuf > max {
			t.Errorf("%s reader: read %d of %d bytes, buffers up to %d", rk.name, cr.n, len(stream), cr.maxBuf)
		}
		// EOF is sticky.
		if l, err := lr.ReadLine(); l != nil || err != io.EOF {
			t.Errorf("%s reader: after EOF got %q, %v", rk.name, l, err)
		}
	}
}

func TestLineReaderTerminators(t *testing.T) {
	checkStream(t, "USERNAME alice\r\nROOMS\nQUIT\r\n", spec.MaxLineLen,
		line("USERNAME alice"), line("ROOMS"), line("QUIT"))
	checkStream(t, "\n\r\n\n", spec.MaxLineLen, line(""), line(""), line(""))
	checkStream(t, "", spec.MaxLineLen)
	checkStream(t, "é 😀\r\n", spec.MaxLineLen, line("é 😀"))
	// Only the one CR just before the LF is part of the terminator.
	checkStream(t, "a\r\r\nb\r\rc\n", spec.MaxLineLen, line("a\r"), line("b\r\rc"))
}

// TestLineReaderLoneCR: a CR not before the LF stays in the line, so that
// CheckLine rejects it (FRAME-8).
func TestLineReaderLoneCR(t *testing.T) {
	checkStream(t, "a\rb\r\nc\rd\n\re\n", spec.MaxLineLen, line("a\rb"), line("c\rd"), line("\re"))
	lr := spec.NewLineReader(strings.NewReader("USERNAME al\rice\r\nUSERNAME a\r\r\n"), spec.MaxLineLen)
	for range 2 {
		l, err := lr.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		if got := spec.CheckLine(l); got != spec.ErrInvalidCharacter {
			t.Errorf("CheckLine(%q) = %q, want %q", l, got, spec.ErrInvalidCharacter)
		}
	}
}

// TestLineReaderMaxLen: FRAME-4 and FRAME-5 at the boundary.
func TestLineReaderMaxLen(t *testing.T) {
	for _, term := range []string{"\r\n", "\n"} {
		exact := strings.Repeat("x", spec.MaxLineLen-len(term))
		checkStream(t, exact+term+"PING\r\n", spec.MaxLineLen, line(exact), line("PING"))
		over := exact + "y"
		checkStream(t, over+term+"PING\r\n", spec.MaxLineLen, overflow, line("PING"))
		// The line after an overlong one is read whole even when it is
		// itself of the maximum length.
		checkStream(t, over+term+exact+term, spec.MaxLineLen, overflow, line(exact))
		// An overlong line at the very start, end and after another.
		checkStream(t, over+term+over+term, spec.MaxLineLen, overflow, overflow)
	}
	// The transcript of section 2.
	checkStream(t, "USERNAME "+strings.Repeat("x", 600)+"\r\nUSERNAME alice\r\n", spec.MaxLineLen,
		overflow, line("USERNAME alice"))
	// 512 bytes before a CR LF: the 512 bytes are too many before the CR
	// arrives.
	checkStream(t, strings.Repeat("x", 511)+"\r\r\nok\n", spec.MaxLineLen, overflow, line("ok"))
	// An overlong line is reported once, however long.
	checkStream(t, strings.Repeat("x", 5*spec.MaxLineLen+3)+"\nok\n", spec.MaxLineLen, overflow, line("ok"))
}

func TestLineReaderSmallMax(t *testing.T) {
	// A limit below 2 is raised to 2: a CR LF alone, or one byte and a LF.
	for _, max := range []int{-5, 0, 1, 2} {
		lr := spec.NewLineReader(strings.NewReader("\r\na\nab\n\n"), max)
		got, err := readItems(t, lr, 2)
		want := []item{line(""), line("a"), overflow, line("")}
		if !slices.Equal(got, want) || err != io.EOF {
			t.Errorf("max %d: got %v, %v; want %v, EOF", max, got, err, want)
		}
	}
	checkStream(t, "abc\nab\na\n", 3, overflow, line("ab"), line("a"))
}

// TestLineReaderLongStream sends a line of 10 MB, then a valid line. The
// reader reports one overflow, stays in step, and never holds more than
// MaxLineLen bytes (FRAME-5).
func TestLineReaderLongStream(t *testing.T) {
	const junk = 10 << 20
	const next = "\r\nUSERNAME alice\r\n" // the end of the long line, then a line
	cr := &countingReader{r: io.MultiReader(io.LimitReader(repeatReader('x'), junk), strings.NewReader(next))}
	lr := spec.NewLineReader(cr, spec.MaxLineLen)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := readItems(t, lr, spec.MaxLineLen)
	runtime.ReadMemStats(&after)

	if want := []item{overflow, line("USERNAME alice")}; !slices.Equal(got, want) || err != io.EOF {
		t.Fatalf("got %v, %v; want %v, EOF", got, err, want)
	}
	if cr.n != junk+int64(len(next)) {
		t.Errorf("read %d bytes, want %d", cr.n, junk+len(next))
	}
	if cr.maxBuf > spec.MaxLineLen {
		t.Errorf("reader asked for %d bytes at once, limit %d", cr.maxBuf, spec.MaxLineLen)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("reading 10 MB allocated %d bytes", alloc)
	}
}

// TestLineReaderLongStreamAtEOF: 10 MB without a LF, then the end of the
// stream: one overflow, then EOF.
func TestLineReaderLongStreamAtEOF(t *testing.T) {
	const junk = 10 << 20
	cr := &countingReader{r: io.LimitReader(repeatReader('x'), junk)}
	got, err := readItems(t, spec.NewLineReader(cr, spec.MaxLineLen), spec.MaxLineLen)
	if want := []item{overflow}; !slices.Equal(got, want) || err != io.EOF {
		t.Fatalf("got %v, %v; want %v, EOF", got, err, want)
	}
	if cr.n != junk || cr.maxBuf > spec.MaxLineLen {
		t.Errorf("read %d of %d bytes, buffers up to %d", cr.n, junk, cr.maxBuf)
	}
}

// TestLineReaderOverflowEarly: ErrLineOverflow comes as soon as max bytes
// have arrived, without waiting for the rest of the line (FRAME-5).
func TestLineReaderOverflowEarly(t *testing.T) {
	cr := &countingReader{r: repeatReader('x')} // never ends
	lr := spec.NewLineReader(cr, spec.MaxLineLen)
	if _, err := lr.ReadLine(); err != spec.ErrLineOverflow {
		t.Fatalf("got %v, want ErrLineOverflow", err)
	}
	if cr.n != spec.MaxLineLen {
		t.Errorf("read %d bytes before reporting, want %d", cr.n, spec.MaxLineLen)
	}
}

// TestLineReaderManyLinesPerRead: many lines in one read are all returned,
// and from few reads (FRAME-3).
func TestLineReaderManyLinesPerRead(t *testing.T) {
	var stream strings.Builder
	var want []item
	for i := range 200 {
		fmt.Fprintf(&stream, "m%d\r\n", i)
		want = append(want, line(fmt.Sprintf("m%d", i)))
	}
	checkStream(t, stream.String(), spec.MaxLineLen, want...)

	cr := &countingReader{r: strings.NewReader(stream.String())}
	got, err := readItems(t, spec.NewLineReader(cr, spec.MaxLineLen), spec.MaxLineLen)
	if !slices.Equal(got, want) || err != io.EOF {
		t.Fatalf("got %v, %v", got, err)
	}
	if limit := stream.Len()/(spec.MaxLineLen/2) + 2; cr.reads > limit {
		t.Errorf("%d reads for %d bytes, want at most %d", cr.reads, stream.Len(), limit)
	}
}

// TestLineReaderPartialAtEOF: bytes after the last LF are discarded
// (FRAME-10).
func TestLineReaderPartialAtEOF(t *testing.T) {
	checkStream(t, "PING\r\nPIN", spec.MaxLineLen, line("PING"))
	checkStream(t, "PING\r\nQUIT\r", spec.MaxLineLen, line("PING"))
	checkStream(t, "abc", spec.MaxLineLen)
	checkStream(t, "\r", spec.MaxLineLen)
	// max bytes without a LF are an overlong line even at the end.
	checkStream(t, strings.Repeat("x", spec.MaxLineLen-1), spec.MaxLineLen)
	checkStream(t, strings.Repeat("x", spec.MaxLineLen), spec.MaxLineLen, overflow)
	checkStream(t, "ok\n"+strings.Repeat("x", 3*spec.MaxLineLen), spec.MaxLineLen, line("ok"), overflow)
}

func TestLineReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("a\r\nb\nc"), iotest.ErrReader(boom))
	lr := spec.NewLineReader(r, spec.MaxLineLen)
	got, err := readItems(t, lr, spec.MaxLineLen)
	if want := []item{line("a"), line("b")}; !slices.Equal(got, want) || err != boom {
		t.Fatalf("got %v, %v; want %v, %v", got, err, want, boom)
	}
	if _, err := lr.ReadLine(); err != boom {
		t.Errorf("error is not sticky: %v", err)
	}

	// Lines that arrive together with an error are returned before it.
	lr = spec.NewLineReader(iotest.TimeoutReader(strings.NewReader("x\ny\n")), spec.MaxLineLen)
	got, err = readItems(t, lr, spec.MaxLineLen)
	if want := []item{line("x"), line("y")}; !slices.Equal(got, want) || err != iotest.ErrTimeout {
		t.Fatalf("got %v, %v; want %v, ErrTimeout", got, err, want)
	}
}

// noProgressReader returns nothing and no error, for ever.
type noProgressReader struct{ calls int }

func (r *noProgressReader) Read([]byte) (int, error) {
	r.calls++
	if r.calls > 1000 {
		return 0, errors.New("LineReader keeps calling Read")
	}
	return 0, nil
}

func TestLineReaderNoProgress(t *testing.T) {
	lr := spec.NewLineReader(&noProgressReader{}, spec.MaxLineLen)
	if _, err := lr.ReadLine(); err != io.ErrNoProgress {
		t.Errorf("got %v, want io.ErrNoProgress", err)
	}
}

func TestLineReaderLazyBuffer(t *testing.T) {
	lr := spec.NewLineReader(strings.NewReader("hi\n"), spec.MaxLineLen)
	if lr.Buffered() != 0 {
		t.Errorf("Buffered() = %d before the first read", lr.Buffered())
	}
	allocs := testing.AllocsPerRun(100, func() {
		lr := spec.NewLineReader(strings.NewReader(""), 1<<20)
		_ = lr.Buffered()
	})
	if allocs > 2 { // the reader and the strings.Reader, not the 1 MiB buffer
		t.Errorf("NewLineReader allocates %v times", allocs)
	}
}

// TestLineReaderProperty: for any sequence of lines, valid or overlong, and
// any way of cutting the stream into reads, the reader yields exactly the
// expected lines and overflows (FRAME-2 to FRAME-5, FRAME-10).
func TestLineReaderProperty(t *testing.T) {
	byteGen := rapid.OneOf(
		rapid.SampledFrom([]byte("ab \r\x00\xff\xc3\xa9")),
		rapid.Map(rapid.Byte(), func(b byte) byte {
			if b == '\n' {
				return 'n'
			}
			return b
		}),
	)
	rapid.Check(t, func(t *rapid.T) {
		limit := rapid.OneOf(rapid.IntRange(0, 40), rapid.Just(spec.MaxLineLen)).Draw(t, "max")
		eff := max(limit, 2)
		var stream []byte
		var want []item
		for i, n := 0, rapid.IntRange(0, 12).Draw(t, "lines"); i < n; i++ {
			term := rapid.SampledFrom([]string{"\n", "\r\n"}).Draw(t, "term")
			if rapid.Bool().Draw(t, "overlong") {
				content := rapid.SliceOfN(byteGen, eff+1-len(term), 3*eff).Draw(t, "content")
				stream = append(append(stream, content...), term...)
				want = append(want, overflow)
				continue
			}
			content := rapid.SliceOfN(byteGen, 0, eff-len(term)).Draw(t, "content")
			stream = append(append(stream, content...), term...)
			if term == "\n" {
				content = bytes.TrimSuffix(content, []byte("\r"))
			}
			want = append(want, line(string(content)))
		}
		tail := rapid.SliceOfN(byteGen, 0, 2*eff).Draw(t, "tail")
		stream = append(stream, tail...)
		if len(tail) >= eff {
			want = append(want, overflow)
		}
		if ref := expectItems(stream, eff); !slices.Equal(ref, want) {
			t.Fatalf("reference model %v, generator %v", ref, want)
		}

		sizes := rapid.SliceOfN(rapid.IntRange(1, 2*eff+3), 1, 8).Draw(t, "chunks")
		cr := &countingReader{r: &chunkReader{data: stream, sizes: sizes}}
		got, err := readItems(t, spec.NewLineReader(cr, limit), eff)
		if err != io.EOF {
			t.Fatalf("final error %v, want EOF", err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("stream %q:\ngot  %v\nwant %v", stream, got, want)
		}
		if cr.n != int64(len(stream)) || cr.maxBuf > eff {
			t.Fatalf("read %d of %d bytes, buffers up to %d", cr.n, len(stream), cr.maxBuf)
		}
	})
}

func FuzzLineReader(f *testing.F) {
	f.Add([]byte("USERNAME alice\r\nJOIN #general\nHello\r\n"), 512, []byte{0})
	f.Add([]byte("abc\nabcd\r\nab\r\n\n"), 4, []byte{1, 2})
	f.Add([]byte("a\rb\r\r\n\r\nxyz"), 3, []byte{})
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxx\nok\nxxxxxxxx"), 8, []byte{3, 0, 7})
	f.Add([]byte("\n\n\n"), 0, []byte{255})
	f.Fuzz(func(t *testing.T, stream []byte, limit int, chunks []byte) {
		limit %= 1024
		eff := max(limit, 2)
		sizes := chunkSizes(stream, chunks)
		cr := &countingReader{r: &chunkReader{data: stream, sizes: sizes}}
		got, err := readItems(t, spec.NewLineReader(cr, limit), eff)
		if err != io.EOF {
			t.Fatalf("final error %v, want EOF", err)
		}
		want := expectItems(stream, eff)
		if !slices.Equal(got, want) {
			t.Fatalf("stream %q, max %d:\ngot  %v\nwant %v", stream, limit, got, want)
		}
		// Taking every buffered line after each read changes nothing.
		batched, err := readItemsBatched(t, spec.NewLineReader(&chunkReader{data: stream, sizes: sizes}, limit), eff, true)
		if err != io.EOF || !slices.Equal(batched, want) {
			t.Fatalf("stream %q, max %d, with BufferedLine:\ngot  %v, %v\nwant %v", stream, limit, batched, err, want)
		}
		// Every byte of the stream was read, and no more than the limit at once.
		if cr.n != int64(len(stream)) || cr.maxBuf > eff {
			t.Fatalf("read %d of %d bytes, buffers up to %d", cr.n, len(stream), cr.maxBuf)
		}
		// Every line and every overflow but a final one used up one LF.
		lfs := bytes.Count(stream, []byte("\n"))
		ended := len(got)
		if tail := len(stream) - bytes.LastIndexByte(stream, '\n') - 1; tail >= eff {
			ended-- // the last overflow is the tail, which has no LF
		}
		if ended != lfs {
			t.Fatalf("%d items end in a LF, stream has %d LFs", ended, lfs)
		}
	})
}

// FuzzLineReaderSize: a reader with a buffer of its own size frames the
// stream as one of the limit's own size does, whether each line is taken
// alone or with the lines buffered after it (BufferedLine), and when what
// is left after them is taken out (TakeBuffered) and handed back through
// the stream, as a server keeps an idle connection's incomplete line.
func FuzzLineReaderSize(f *testing.F) {
	f.Add([]byte("USERNAME alice\r\nJOIN #general\nHello\r\n"), 512, 4096, []byte{0}, true)
	f.Add([]byte("abc\nabcd\r\nab\r\n\n"), 4, 9, []byte{1, 2}, true)
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxx\nok\nxxxxxxxx\nlast\n"), 8, 20, []byte{3, 0, 7}, false)
	f.Fuzz(func(t *testing.T, stream []byte, limit, size int, chunks []byte, take bool) {
		limit %= 1024
		size %= 8192
		eff := max(limit, 2)
		effSize := max(size, eff)
		sizes := chunkSizes(stream, chunks)
		src := &carrySource{r: &chunkReader{data: stream, sizes: sizes}}
		lr := spec.NewLineReaderSize(src, limit, size)
		var got []item
		for {
			l, err := lr.ReadLine()
			if b := lr.Buffered(); b < 0 || b > effSize {
				t.Fatalf("Buffered() = %d, size %d", b, effSize)
			}
			if errors.Is(err, spec.ErrLineOverflow) {
				got = append(got, overflow)
				continue
			}
			if err != nil {
				if err != io.EOF {
					t.Fatalf("final error %v, want EOF", err)
				}
				break
			}
			lines := [][]byte{l}
			for {
				more, ok := lr.BufferedLine()
				if !ok {
					break
				}
				lines = append(lines, more)
			}
			for _, l := range lines {
				if len(l) > eff-1 || bytes.IndexByte(l, '\n') >= 0 {
					t.Fatalf("line %q breaks the limit %d or holds a LF", l, eff)
				}
				got = append(got, line(string(l)))
			}
			if take && !src.failed {
				src.carry = bytes.Clone(lr.TakeBuffered())
			}
			if len(got) > 1<<20 {
				t.Fatalf("ReadLine does not stop")
			}
		}
		if want := expectItems(stream, eff); !slices.Equal(got, want) {
			t.Fatalf("stream %q, max %d, size %d, take %v:\ngot  %v\nwant %v", stream, limit, size, take, got, want)
		}
	})
}

// FuzzLineReaderFill: a reader filled by Fill from a stream that often has
// nothing yet, its lines taken with BufferedLine, and ReadLine called only
// when Fill brings in no complete line, frames the stream as ReadLine alone
// does, as a server reads a socket without waiting for as long as it has
// bytes, then waits in ReadLine.
func FuzzLineReaderFill(f *testing.F) {
	f.Add([]byte("USERNAME alice\r\nJOIN #general\nHello\r\n"), 512, 4096, []byte{0}, []byte{1, 0})
	f.Add([]byte("abc\nabcd\r\nab\r\n\n"), 4, 9, []byte{1, 2}, []byte{0, 1, 1})
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxx\nok\nxxxxxxxx\nlast\n"), 8, 20, []byte{3, 0, 7}, []byte{1})
	f.Fuzz(func(t *testing.T, stream []byte, limit, size int, chunks, waits []byte) {
		limit %= 1024
		size %= 8192
		eff := max(limit, 2)
		src := &waitingSource{r: &chunkReader{data: stream, sizes: chunkSizes(stream, chunks)}, waits: waits}
		lr := spec.NewLineReaderSize(src, limit, size)
		var got []item
		for len(got) <= 1<<20 {
			if l, ok := lr.BufferedLine(); ok {
				got = append(got, line(string(l)))
				continue
			}
			src.now = true
			n, err := lr.Fill()
			src.now = false
			if n > 0 && err == nil {
				continue
			}
			l, err := lr.ReadLine()
			if errors.Is(err, spec.ErrLineOverflow) {
				got = append(got, overflow)
				continue
			}
			if err != nil {
				if err != io.EOF {
					t.Fatalf("final error %v, want EOF", err)
				}
				break
			}
			got = append(got, line(string(l)))
		}
		if want := expectItems(stream, eff); !slices.Equal(got, want) {
			t.Fatalf("stream %q, max %d, size %d:\ngot  %v\nwant %v", stream, limit, size, got, want)
		}
	})
}

// waitingSource is a stream that, while now is set, has nothing yet
// whenever the next of waits (cycling) is odd: it returns 0 and no error,
// as a socket read that does not wait.
type waitingSource struct {
	r     io.Reader
	waits []byte
	i     int
	now   bool
}

func (s *waitingSource) Read(p []byte) (int, error) {
	if s.now && len(s.waits) > 0 {
		w := s.waits[s.i%len(s.waits)]
		s.i++
		if w%2 == 1 {
			return 0, nil
		}
	}
	return s.r.Read(p)
}

// chunkSizes turns a fuzzer's chunks into the sizes of a chunkReader's
// reads: each byte plus one, or the whole stream at once if there are none.
func chunkSizes(stream, chunks []byte) []int {
	if len(chunks) == 0 {
		return []int{len(stream) + 1}
	}
	sizes := make([]int, len(chunks))
	for i, c := range chunks {
		sizes[i] = int(c) + 1
	}
	return sizes
}

// carrySource is a stream that first hands back the bytes a reader took out
// of its buffer (carry), then reads from r. failed: r returned an error.
type carrySource struct {
	r      io.Reader
	carry  []byte
	failed bool
}

func (s *carrySource) Read(p []byte) (int, error) {
	if len(s.carry) > 0 {
		n := copy(p, s.carry)
		s.carry = s.carry[n:]
		return n, nil
	}
	n, err := s.r.Read(p)
	if err != nil {
		s.failed = true
	}
	return n, err
}

func BenchmarkLineReader(b *testing.B) {
	var stream []byte
	for i := range 1000 {
		stream = fmt.Appendf(stream, "PRIVMSG bob message number %d of a typical length, more or less\r\n", i)
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		lr := spec.NewLineReader(bytes.NewReader(stream), spec.MaxLineLen)
		for {
			if _, err := lr.ReadLine(); err == io.EOF {
				break
			}
		}
	}
}
