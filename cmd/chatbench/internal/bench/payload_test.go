package bench

import (
	"bytes"
	"fmt"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	const ts = 1732550000123456789
	var scratch []byte
	for size := 1; size <= maxSize; size++ {
		for _, h := range []payload{{0, 0, ts}, {17, 42, ts}, {19999, 1 << 20, 1}} {
			p := appendPayload(nil, h.id, h.seq, h.ts, size)
			header := len(fmt.Sprintf("s%d %d %d", h.id, h.seq, h.ts))
			if want := max(size, header); len(p) != want {
				t.Fatalf("size %d %+v: len %d, want %d: %q", size, h, len(p), want, p)
			}
			if bytes.ContainsAny(p, "\r\n\x00") || bytes.HasSuffix(p, []byte(" ")) && len(p) != header+1 {
				t.Fatalf("size %d: bad bytes in %q", size, p)
			}
			var got payload
			var ok bool
			got, ok, scratch = parsePayload(p, size, scratch)
			if !ok || got != h {
				t.Fatalf("size %d: parsePayload(%q) = %+v, %v; want %+v, true", size, p, got, ok, h)
			}
		}
	}
}

func TestPayloadExample(t *testing.T) {
	got := string(appendPayload([]byte("MSG "), 17, 42, 1732550000123456789, 40))
	want := "MSG s17 42 1732550000123456789 gsxi1q1BbwVrm" // 40 bytes after "MSG "
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// Any single changed, missing or extra byte makes the payload garbled.
func TestPayloadDetectsGarbling(t *testing.T) {
	const size = 64
	p := appendPayload(nil, 3, 7, 1732550000123456789, size)
	for i := range p {
		for _, c := range []byte{'0', '9', 'a', 'Z', ' ', 'x' + 1} {
			if c == p[i] {
				continue
			}
			q := bytes.Clone(p)
			q[i] = c
			if _, ok, _ := parsePayload(q, size, nil); ok {
				t.Errorf("byte %d changed to %q: %q accepted", i, c, q)
			}
		}
		cut := append(bytes.Clone(p[:i]), p[i+1:]...)
		if _, ok, _ := parsePayload(cut, size, nil); ok {
			t.Errorf("byte %d removed: %q accepted", i, cut)
		}
	}
	for _, bad := range []string{
		"", "s", "s1", "s1 2", "x1 2 3", "s1  2 3", "s01 2 3", "s1 2 99999999999999999999",
		string(p) + "x", string(p[:size-1]),
	} {
		if h, ok, _ := parsePayload([]byte(bad), size, nil); ok {
			t.Errorf("parsePayload(%q) accepted as %+v", bad, h)
		}
	}
}

func TestParsePayloadDoesNotAllocate(t *testing.T) {
	p := appendPayload(nil, 3, 7, 1732550000123456789, 128)
	scratch := make([]byte, 0, maxSize+32)
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok, _ := parsePayload(p, 128, scratch); !ok {
			t.Fatal("not ok")
		}
	})
	if allocs != 0 {
		t.Errorf("parsePayload allocates %v times per call", allocs)
	}
}
