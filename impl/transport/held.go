package transport

import "io"

// The server's writer writes with a deadline a fraction of its write
// timeout ahead, and a write that returns at its deadline having got some
// bytes through is progress: the writer goes on with the rest (LIMIT-4).
// An adapter that encodes what it is given (a frame, a TLS record) cannot
// take back the part of an encoding that went out, so it holds the rest of
// it, sends that first on the next write, and meanwhile counts for the
// caller fewer bytes than the encoding stands for; the caller gives them
// again, and the adapter skips them once the held bytes are out.

// held is the unwritten rest of an encoding that a write got only part of
// through, and the number of the caller's bytes it stands for.
type held struct {
	buf  []byte
	owed int // > 0 while buf holds anything
}

// flush writes h.buf to w. It returns the number of the caller's bytes to
// count now, and whether h is now empty.
func (h *held) flush(w io.Writer) (n int, all bool, err error) {
	k, err := w.Write(h.buf)
	if k == len(h.buf) {
		n = h.owed
		*h = held{}
		return n, true, nil
	}
	h.buf = h.buf[k:]
	n = credit(k, h.owed)
	h.owed -= n
	if err == nil {
		err = io.ErrShortWrite
	}
	return n, false, err
}

// credit returns how many of the in bytes an encoding stands for to count
// as written when sent of the encoding's bytes went out but not all of
// them: as many as were sent, but always fewer than in, so that the caller
// comes back with at least one, and the rest of the encoding can go out
// then. An encoding is longer than what it encodes (a header, a record's
// overhead), so what is held is never less than what is owed.
func credit(sent, in int) int { return min(sent, in-1) }
