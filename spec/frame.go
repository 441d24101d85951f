package spec

import (
	"encoding/binary"
	"fmt"
	"io"
)

// The length-prefixed transport (PROTOCOL.md 2.1, TRANS-2 to TRANS-4): each
// message is a big-endian unsigned length of FrameHeader bytes, 4 or 8,
// then that many bytes of payload, which is one line of the protocol
// without its terminator.

// MaxFramePayload is the longest payload a client may send: the longest
// line content FRAME-4 allows, with a bare LF (TRANS-3).
const MaxFramePayload = MaxLineLen - 1

// ValidFrameHeader reports whether n is a header size of the transport.
func ValidFrameHeader(n int) bool { return n == 4 || n == 8 }

// AppendFrame appends payload to dst as one frame with a header of n bytes
// (4 or 8).
func AppendFrame(dst []byte, n int, payload []byte) []byte {
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], uint64(len(payload)))
	return append(append(dst, h[8-n:]...), payload...)
}

// ReadFrameHeader reads a header of n bytes (4 or 8) from r and returns the
// payload length it announces. At the end of the stream it returns io.EOF
// if no byte of the header arrived, and io.ErrUnexpectedEOF if some did.
func ReadFrameHeader(r io.Reader, n int) (uint64, error) {
	if !ValidFrameHeader(n) {
		return 0, fmt.Errorf("spec: a frame header has 4 or 8 bytes, not %d", n)
	}
	var h [8]byte
	if _, err := io.ReadFull(r, h[8-n:]); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(h[:]), nil
}
