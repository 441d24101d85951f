package bench

import (
	"bytes"
	"math"
	"strconv"
)

// A payload is the text of one benchmark line:
//
//	s<sender> <seq> <unix-nanos>[ <padding>]
//
// for example "s17 42 1732550000123456789 defghijklm". The header names the
// sending client, the line's number from 0, and the wall-clock time it was
// formatted. The padding fills the payload to the requested size (it is
// omitted when the header alone is that long) with letters and digits drawn
// from a generator seeded with a hash of the header, so that a receiver can
// rebuild the exact payload from its header and detect any altered byte —
// in the header too, as long as there are a few bytes of padding.

// padAlphabet is the padding's alphabet: no spaces, no controls.
const padAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// appendPayload appends the payload of line seq of sender id, sent at ts
// (Unix nanoseconds), padded to size bytes, to b.
func appendPayload(b []byte, id, seq int, ts int64, size int) []byte {
	start := len(b)
	b = append(b, 's')
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, ts, 10)
	if n := len(b) - start; n < size {
		b = append(b, ' ')
		x := mix(id, seq, ts)
		for i := n + 1; i < size; i++ {
			x = x*6364136223846793005 + 1442695040888963407 // PCG's LCG step
			b = append(b, padAlphabet[(x>>40)%uint64(len(padAlphabet))])
		}
	}
	return b
}

// mix hashes a header into the padding generator's seed.
func mix(id, seq int, ts int64) uint64 {
	h := uint64(id)*0x9e3779b97f4a7c15 ^ uint64(seq)*0xc2b2ae3d27d4eb4f ^ uint64(ts)
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return h
}

// payload is a parsed payload header.
type payload struct {
	id, seq int
	ts      int64
}

// parsePayload reads the header of p and checks that p is exactly the
// payload appendPayload makes from it for the given size. scratch is a
// buffer to rebuild it in (pass the returned one back to avoid allocating).
// ok is false for any difference: a garbled line.
func parsePayload(p []byte, size int, scratch []byte) (h payload, ok bool, buf []byte) {
	buf = scratch
	rest := p
	if len(rest) == 0 || rest[0] != 's' {
		return h, false, buf
	}
	rest = rest[1:]
	var id, seq, ts int64
	if id, rest, ok = parseUint(rest, ' '); !ok {
		return h, false, buf
	}
	if seq, rest, ok = parseUint(rest, ' '); !ok {
		return h, false, buf
	}
	if ts, _, ok = parseUint(rest, ' '); !ok {
		return h, false, buf
	}
	if id > 1<<31 || seq > 1<<31 {
		return h, false, buf
	}
	h = payload{id: int(id), seq: int(seq), ts: ts}
	buf = appendPayload(buf[:0], h.id, h.seq, h.ts, size)
	return h, bytes.Equal(buf, p), buf
}

// parseUint reads decimal digits up to stop or the end of b. It fails on an
// empty or overlong number; a non-canonical one (leading zero) passes here
// but fails the comparison with the rebuilt payload.
func parseUint(b []byte, stop byte) (n int64, rest []byte, ok bool) {
	var u uint64
	i := 0
	for ; i < len(b) && b[i] != stop; i++ {
		c := b[i]
		if c < '0' || c > '9' || i >= 19 {
			return 0, b, false
		}
		u = u*10 + uint64(c-'0')
	}
	if i == 0 || u > math.MaxInt64 {
		return 0, b, false
	}
	if i < len(b) {
		i++ // the stop byte
	}
	return int64(u), b[i:], true
}
