package spec_test

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/spec"
)

// checkFramer feeds stream to a Framer in pieces of the given sizes (the
// rest in one piece when they run out) and checks that it yields what a
// LineReader with the default limit reads from the whole stream, that every
// frame's End points where the frame was completed, and that Pending tells
// whether the stream stops in the middle of a line.
func checkFramer(t fataler, stream []byte, sizes []int) {
	lr := spec.NewLineReader(bytes.NewReader(stream), spec.MaxLineLen)
	want, err := readItems(t, lr, spec.MaxLineLen)
	if err != io.EOF {
		t.Fatalf("LineReader: %v", err)
	}
	var (
		fr   spec.Framer
		got  []item
		prev int // where the previous frame ended, in the whole stream
	)
	for off := 0; off < len(stream); {
		n := len(stream) - off
		if len(sizes) > 0 {
			n, sizes = min(n, sizes[0]), sizes[1:]
		}
		for _, f := range fr.Feed(stream[off : off+n]) {
			end := off + f.End
			if f.End < 1 || f.End > n || end <= prev {
				t.Fatalf("frame %+v of a piece of %d bytes at %d: End out of order (previous frame ended at %d)", f, n, off, prev)
			}
			switch {
			case f.TooLong:
				// The line's bytes, without a LF, reach the limit here.
				if from := bytes.LastIndexByte(stream[:end], '\n') + 1; end-from != spec.MaxLineLen {
					t.Fatalf("overlong frame ends %d bytes into its line", end-from)
				}
				got = append(got, overflow)
			default:
				if stream[end-1] != '\n' {
					t.Fatalf("line %q ends at %d, not at a LF", f.Line, end)
				}
				got = append(got, line(f.Line))
			}
			prev = end
		}
		off += n
	}
	if !slices.Equal(got, want) {
		t.Fatalf("stream %.200q:\nFramer     %v\nLineReader %v", stream, got, want)
	}
	if pending := len(stream) > 0 && stream[len(stream)-1] != '\n'; fr.Pending() != pending {
		t.Fatalf("Pending() = %v at the end of %.200q", fr.Pending(), stream)
	}
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("x", spec.MaxLineLen)
	for _, stream := range []string{
		"", "\n", "a\r\nb\nc", "\r\n\r\r\n", "no end",
		long[:spec.MaxLineLen-1] + "\n",         // the longest line with a bare LF
		long[:spec.MaxLineLen-2] + "\r\n",       // the longest with CRLF
		long[:spec.MaxLineLen-1] + "\r\nnext\n", // one byte over
		long + "\nnext\n", long + long + long + "\nafter\n", long, long[:spec.MaxLineLen-1],
	} {
		for _, sizes := range [][]int{nil, {1}, {7, 1, 500, 3}} {
			if sizes != nil && len(sizes) == 1 {
				sizes = slices.Repeat(sizes, len(stream))
			}
			checkFramer(t, []byte(stream), sizes)
		}
	}
}

func TestFramerProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var stream []byte
		for range rapid.IntRange(0, 8).Draw(t, "lines") {
			n := rapid.OneOf(rapid.IntRange(0, 20), rapid.IntRange(spec.MaxLineLen-3, spec.MaxLineLen+2), rapid.IntRange(0, 3*spec.MaxLineLen)).Draw(t, "length")
			stream = append(stream, bytes.Repeat([]byte{rapid.SampledFrom([]byte("a\r\xff")).Draw(t, "byte")}, n)...)
			stream = append(stream, rapid.SampledFrom([]string{"\n", "\r\n", ""}).Draw(t, "term")...)
		}
		sizes := rapid.SliceOfN(rapid.IntRange(1, 2*spec.MaxLineLen), 0, 10).Draw(t, "pieces")
		checkFramer(t, stream, sizes)
	})
}

func FuzzFramer(f *testing.F) {
	f.Add([]byte("USERNAME alice\r\nJOIN #general\nHello\r\n"), []byte{0})
	f.Add([]byte(strings.Repeat("x", 600)+"\nok\n"), []byte{255, 1, 255})
	f.Fuzz(func(t *testing.T, stream, pieces []byte) {
		sizes := make([]int, len(pieces))
		for i, p := range pieces {
			sizes[i] = int(p) + 1
		}
		checkFramer(t, stream, sizes)
	})
}
