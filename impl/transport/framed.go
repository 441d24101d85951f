package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"

	"roomchat.dev/roomchat/spec"
)

// skipChunk bounds one step of discarding the rest of an overlong payload.
const skipChunk = 64 << 10

// maxKeptWriteBuf is the largest write buffer a framed connection keeps
// between writes; a larger one, grown for a long USERLIST, is dropped.
const maxKeptWriteBuf = 16 << 10

// Framed returns a listener whose connections carry the protocol in
// length-prefixed frames with headers of header bytes, 4 or 8 (TRANS-2);
// it panics on any other size. Its Transport method returns "framed4" or
// "framed8".
//
// Each connection reads as the byte stream of section 2: the payload of
// every frame, then a bare LF. Inside a payload, CR and LF read as NUL, so
// that the line is rejected with ERROR Invalid character (FRAME-8), as
// TRANS-3 says, and a final CR is not taken for a terminator. Of a payload
// longer than spec.MaxFramePayload only spec.MaxLineLen bytes are read as
// the line, which the line reader reports as too long (FRAME-5); the rest
// is discarded by its length as it arrives, never held. A stream that ends
// inside a frame reads as io.EOF after the last whole frame (TRANS-3).
//
// Each CRLF-terminated line written goes out as one frame, whatever its
// length (TRANS-4): the frames of one Write are sent in one write. A line
// may be split over several writes.
func Framed(ln net.Listener, header int) net.Listener {
	if !spec.ValidFrameHeader(header) {
		panic(fmt.Sprintf("transport: a frame header has 4 or 8 bytes, not %d", header))
	}
	return &framedListener{Listener: ln, header: header}
}

// framedListener is the listener Framed returns.
type framedListener struct {
	net.Listener
	header int
}

// Accept waits for the next connection and returns it as frames.
func (l *framedListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newFramedConn(conn, l.header), nil
}

// Transport names the transport: "framed4" or "framed8".
func (l *framedListener) Transport() string { return "framed" + strconv.Itoa(l.header) }

// framedConn turns frames into lines and lines into frames over conn.
type framedConn struct {
	net.Conn     // the connection carrying the frames; Close and deadlines go straight to it
	header   int // 4 or 8

	// Owned by the goroutine that reads; reads are not concurrent.
	hdr   [8]byte      // the header being read
	hdrN  int          // how much of it has arrived
	hr    bytes.Reader // hdr, for spec.ReadFrameHeader
	give  uint64       // payload bytes still to hand over as the line
	lf    bool         // the line's LF is still to hand over, after give
	skip  uint64       // payload bytes to discard after the LF: the rest of an overlong one
	ended error        // the end of the stream, returned from then on

	wmu   sync.Mutex // serialises writes and guards the fields below
	carry []byte     // the start of a line whose end a later Write brings
	wbuf  []byte     // the frames of one Write
	spans []span     // the frames in wbuf
	held  held       // the rest of a frame a write got only part of through
}

// span is one frame of a Write: its size, and how many of the bytes given
// to that Write it carries (fewer than its line when the line began in an
// earlier Write).
type span struct {
	frame, in int
	carried   bool // it holds carry
}

func newFramedConn(conn net.Conn, header int) *framedConn {
	return &framedConn{Conn: conn, header: header}
}

// Read reads the stream of lines the frames make.
func (c *framedConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		switch {
		case c.ended != nil:
			return 0, c.ended
		case c.give > 0:
			n, err := c.Conn.Read(p[:min(uint64(len(p)), c.give)])
			for i, b := range p[:n] {
				if b == '\r' || b == '\n' {
					p[i] = 0 // FRAME-8 answers it; no terminator inside a payload (TRANS-3)
				}
			}
			c.give -= uint64(n)
			if c.give == 0 && n < len(p) && c.lf {
				p[n] = '\n'
				c.lf = false
				n++
			}
			if n > 0 || err != nil {
				return n, c.fail(err)
			}
		case c.lf:
			p[0] = '\n'
			c.lf = false
			return 1, nil
		case c.skip > 0:
			m, err := io.CopyN(io.Discard, c.Conn, int64(min(c.skip, skipChunk)))
			c.skip -= uint64(m)
			if err != nil {
				return 0, c.fail(err)
			}
		default:
			n, err := c.Conn.Read(c.hdr[c.hdrN:c.header])
			c.hdrN += n
			if err != nil {
				return 0, c.fail(err) // a partial header is kept across a timeout
			}
			if c.hdrN < c.header {
				continue
			}
			c.hdrN = 0
			c.hr.Reset(c.hdr[:c.header])
			size, _ := spec.ReadFrameHeader(&c.hr, c.header)
			c.lf = true
			if size <= spec.MaxFramePayload {
				c.give = size
			} else {
				// Enough of it for the line reader to answer ERROR Line
				// too long (FRAME-5); the LF ends the line it then skips.
				c.give = spec.MaxLineLen
				c.skip = size - spec.MaxLineLen
			}
		}
	}
}

// fail records the end of the stream: an end inside a frame is io.EOF
// like one between frames (TRANS-3, FRAME-10). A timeout is not the end:
// what was read of a frame so far is kept.
func (c *framedConn) fail(err error) error {
	switch {
	case err == nil || errors.Is(err, os.ErrDeadlineExceeded):
		return err
	case err == io.ErrUnexpectedEOF:
		err = io.EOF
	}
	c.ended = err
	return err
}

// Write sends each CRLF-terminated line of p as one frame, all of them in
// one write; bytes after the last CRLF wait for the rest of their line.
//
// If the write stops part way, at its deadline, the frames that went out
// whole count with their lines' bytes, and a frame that went out in part
// counts with as many bytes as got through but fewer than its line has; the
// rest of that frame is held, and goes out first on the next Write, which
// must begin with the bytes of p that were not counted, as io.Writer's
// callers do. So the caller sees progress whenever bytes moved, and never
// sends a frame twice.
func (c *framedConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	if c.held.owed > 0 {
		n, all, err := c.held.flush(c.Conn)
		if !all {
			return n, err
		}
		done = min(n, len(p))
		p = p[done:]
	}
	if len(p) == 0 {
		return done, nil
	}
	buf, spans, tail := c.frame(p)
	if len(spans) == 0 {
		c.carry = append(c.carry, p...)
		return done + len(p), nil
	}
	k, err := c.Conn.Write(buf)
	if k == len(buf) && err == nil {
		c.carry = append(c.carry[:0], tail...)
		c.keep(buf, spans)
		return done + len(p), nil
	}
	off := 0
	for _, s := range spans {
		if k >= s.frame {
			done += s.in
			k -= s.frame
			off += s.frame
			if s.carried {
				c.carry = c.carry[:0]
			}
			continue
		}
		if k > 0 {
			n := credit(k, s.in)
			c.held = held{buf: bytes.Clone(buf[off+k : off+s.frame]), owed: s.in - n}
			done += n
			if s.carried {
				c.carry = c.carry[:0]
			}
		}
		break
	}
	c.keep(buf, spans)
	if err == nil {
		err = io.ErrShortWrite
	}
	return done, err
}

// frame builds in c.wbuf a frame for each line that p completes, the first
// of them after c.carry, and returns them with their spans and the bytes of
// p after the last line.
func (c *framedConn) frame(p []byte) (buf []byte, spans []span, tail []byte) {
	buf, spans = c.wbuf[:0], c.spans[:0]
	rest := p
	if len(c.carry) > 0 {
		// The first line began in an earlier Write; its CR may have too.
		var line []byte
		n := 0
		if c.carry[len(c.carry)-1] == '\r' && rest[0] == '\n' {
			line, n = c.carry[:len(c.carry)-1], 1
		} else if i := bytes.Index(rest, crlf); i >= 0 {
			line, n = append(c.carry, rest[:i]...), i+2
			c.carry = line[:len(c.carry)] // unchanged, unless Write empties it
		} else {
			return buf, spans, rest
		}
		start := len(buf)
		buf = spec.AppendFrame(buf, c.header, line)
		spans = append(spans, span{frame: len(buf) - start, in: n, carried: true})
		rest = rest[n:]
	}
	for {
		i := bytes.Index(rest, crlf)
		if i < 0 {
			return buf, spans, rest
		}
		start := len(buf)
		buf = spec.AppendFrame(buf, c.header, rest[:i])
		spans = append(spans, span{frame: len(buf) - start, in: i + 2})
		rest = rest[i+2:]
	}
}

// keep keeps the buffers of a Write for the next, unless they grew large.
func (c *framedConn) keep(buf []byte, spans []span) {
	if cap(buf) <= maxKeptWriteBuf {
		c.wbuf = buf[:0]
	} else {
		c.wbuf = nil
	}
	c.spans = spans[:0]
}

var crlf = []byte("\r\n")

// CloseWrite half-closes the connection, if it can.
func (c *framedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// SetLinger sets the connection's linger time, if it can: with 0, Close
// resets the connection (LIMIT-8).
func (c *framedConn) SetLinger(sec int) error {
	if l, ok := c.Conn.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return errors.ErrUnsupported
}
