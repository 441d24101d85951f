package spec

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrames(t *testing.T) {
	for _, n := range []int{4, 8} {
		var stream []byte
		payloads := []string{"USERNAME alice", "", string(bytes.Repeat([]byte("x"), 70000))}
		for _, p := range payloads {
			stream = AppendFrame(stream, n, []byte(p))
		}
		r := bytes.NewReader(stream)
		for _, p := range payloads {
			size, err := ReadFrameHeader(r, n)
			if err != nil || size != uint64(len(p)) {
				t.Fatalf("header %d: %d, %v; want %d", n, size, err, len(p))
			}
			got := make([]byte, size)
			io.ReadFull(r, got)
			if string(got) != p {
				t.Fatalf("header %d: payload differs", n)
			}
		}
		if _, err := ReadFrameHeader(r, n); err != io.EOF {
			t.Errorf("header %d at the end: %v, want EOF", n, err)
		}
		if _, err := ReadFrameHeader(bytes.NewReader([]byte{0, 0}), n); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("header %d cut short: %v", n, err)
		}
	}
	if got := AppendFrame(nil, 4, []byte("hi")); !bytes.Equal(got, []byte{0, 0, 0, 2, 'h', 'i'}) {
		t.Errorf("4-byte frame: % x", got)
	}
	if _, err := ReadFrameHeader(bytes.NewReader(nil), 3); err == nil {
		t.Errorf("a 3-byte header: no error")
	}
}
