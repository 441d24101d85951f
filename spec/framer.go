package spec

import "bytes"

// A Frame is what a server makes of the bytes a client sends, under the
// framing rules of PROTOCOL.md section 2: one complete line, or one
// overlong line (FRAME-5).
type Frame struct {
	// Line is the line without its terminator (a CR just before the LF is
	// part of the terminator); "" for an overlong line.
	Line string
	// TooLong marks a line longer than MaxLineLen bytes, terminator
	// included: the server answers it as a whole and skips the rest of it
	// through its LF (FRAME-5).
	TooLong bool
	// End is the offset, in the data given to Feed, just past the byte that
	// completed the frame: the LF of a line, or the byte that made a line
	// overlong.
	End int
}

// A Framer splits the bytes a client sends into frames, in pieces as they
// arrive, exactly as LineReader does with the default limit MaxLineLen: it
// is the one reading of the framing rules shared by everything that
// predicts what a server sees (the model's tests, the model-backed test
// server, the model-vs-server driver). The zero value is ready to use.
//
// A Framer never holds more than MaxLineLen bytes. At the end of the
// stream, the bytes of an unfinished line are discarded (FRAME-10).
type Framer struct {
	buf      []byte // the start of the current line, fewer than MaxLineLen bytes
	skipping bool   // inside an overlong line already reported
}

// Feed returns the frames that data completes, in order.
func (f *Framer) Feed(data []byte) []Frame {
	var frames []Frame
	for off := 0; off < len(data); {
		rest := data[off:]
		lf := bytes.IndexByte(rest, '\n')
		if f.skipping {
			if lf < 0 {
				break
			}
			f.skipping = false
			off += lf + 1
			continue
		}
		// room is how many more bytes without a LF make the line overlong.
		room := MaxLineLen - len(f.buf)
		switch {
		case lf >= 0 && lf < room:
			line := append(f.buf, rest[:lf]...)
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			off += lf + 1
			frames = append(frames, Frame{Line: string(line), End: off})
			f.buf = line[:0]
		case len(rest) < room:
			f.buf = append(f.buf, rest...)
			off = len(data)
		default:
			off += room
			frames = append(frames, Frame{TooLong: true, End: off})
			f.buf, f.skipping = f.buf[:0], true
		}
	}
	return frames
}

// Pending reports whether the stream is in the middle of a line: bytes of
// a line have arrived, but not its LF.
func (f *Framer) Pending() bool { return len(f.buf) > 0 || f.skipping }
