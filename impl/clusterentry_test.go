package impl

import (
	"bytes"
	"errors"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range []entry{
		{kind: entryLine, conn: 1, payload: []byte("JOIN #a")},
		{kind: entryLine, conn: 1 << 40, payload: []byte{}},
		{kind: entryLine, conn: 7, payload: []byte("\xff\x00 bytes as read")},
		{kind: entryOverlong, conn: 3},
		{kind: entryEnd, conn: 300, payload: []byte("slow-consumer")},
		{kind: entryIdle, conn: 9},
		{kind: entryGone, payload: []byte("node-a1b2")},
	} {
		got, err := decodeEntry(appendEntry(nil, e))
		if err != nil || got.kind != e.kind || got.conn != e.conn || !bytes.Equal(got.payload, e.payload) {
			t.Errorf("round trip of %+v: %+v, %v", e, got, err)
		}
	}
	for _, bad := range [][]byte{nil, {'L'}, {'L', 0x80}, {'O', 1, 'x'}, {'I', 1, 'x'}, {'G', 1, 'n'}, {'G', 0}, {'X', 1}} {
		if e, err := decodeEntry(bad); !errors.Is(err, errBadEntry) {
			t.Errorf("decodeEntry(%q) = %+v, %v; want errBadEntry", bad, e, err)
		}
	}
}

// FuzzDecodeEntry checks that decoding never panics, and that whatever
// decodes encodes back to the same bytes.
func FuzzDecodeEntry(f *testing.F) {
	for _, s := range []string{"L\x01JOIN #a", "O\x03", "E\x80\x01slow-consumer", "I\x09", "G\x00node", "", "Z\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := decodeEntry(data)
		if err != nil {
			return
		}
		if again := appendEntry(nil, e); !bytes.Equal(again, data) {
			// Only a non-minimal varint may differ.
			if e2, err := decodeEntry(again); err != nil || e2.kind != e.kind || e2.conn != e.conn || !bytes.Equal(e2.payload, e.payload) {
				t.Fatalf("%q decodes to %+v, which encodes to %q", data, e, again)
			}
		}
	})
}
