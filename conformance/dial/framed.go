package dial

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"

	"roomchat.dev/roomchat/spec"
)

// maxServerFrame bounds a server frame as this client reads it. FRAME-11
// sets no limit on server lines; this is only a guard against a server that
// announces gigabytes.
const maxServerFrame = 16 << 20

// framed is a client's end of a length-prefixed connection (TRANS-2),
// read and written as lines.
type framed struct {
	net.Conn
	header int

	wmu   sync.Mutex
	lines lineSplitter

	rmu  sync.Mutex
	br   *bufio.Reader
	next []byte // the rest of the line being read, CRLF included
}

func newFramed(c net.Conn, header int) *framed {
	return &framed{Conn: c, header: header, br: bufio.NewReader(c)}
}

// Write sends every complete line of p as one frame, without its
// terminator (see lineSplitter).
func (f *framed) Write(p []byte) (int, error) {
	f.wmu.Lock()
	defer f.wmu.Unlock()
	var out []byte
	for _, line := range f.lines.split(p) {
		out = spec.AppendFrame(out, f.header, line)
	}
	if len(out) == 0 {
		return len(p), nil
	}
	if _, err := f.Conn.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// A lineSplitter cuts what a script writes into the lines a message
// transport sends one by one (TRANS-3, TRANS-5): each complete line
// without its terminator; bytes after the last LF wait for the rest of
// their line; a line that reaches spec.MaxLineLen bytes without an LF goes
// out at once as one overlong message of those bytes, and the rest of it,
// up to its LF, is dropped, so that the server answers it as FRAME-5 says,
// as soon as it would over lines.
type lineSplitter struct {
	partial  []byte // bytes written after the last LF
	skipping bool   // the current line went out overlong; skip to its LF
}

// split returns the lines that p completes, each a copy.
func (s *lineSplitter) split(p []byte) [][]byte {
	var out [][]byte
	for _, b := range p {
		if b == '\n' {
			if !s.skipping {
				out = append(out, bytes.Clone(bytes.TrimSuffix(s.partial, []byte("\r"))))
			}
			s.partial, s.skipping = s.partial[:0], false
			continue
		}
		if s.skipping {
			continue
		}
		s.partial = append(s.partial, b)
		if len(s.partial) == spec.MaxLineLen {
			out = append(out, bytes.Clone(s.partial))
			s.partial, s.skipping = s.partial[:0], true
		}
	}
	return out
}

// Read returns the server's frames as lines ending in CRLF. An incomplete
// frame at the end of the stream is dropped, as the server drops a
// partial line: the stream ends there.
func (f *framed) Read(p []byte) (int, error) {
	f.rmu.Lock()
	defer f.rmu.Unlock()
	if len(f.next) == 0 {
		n, err := spec.ReadFrameHeader(f.br, f.header)
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		if n > maxServerFrame {
			return 0, fmt.Errorf("the server announced a frame of %d bytes, more than the %d this client reads", n, maxServerFrame)
		}
		line := make([]byte, n+2)
		if _, err := io.ReadFull(f.br, line[:n]); err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF
			}
			return 0, err
		}
		copy(line[n:], "\r\n")
		f.next = line
	}
	n := copy(p, f.next)
	f.next = f.next[n:]
	return n, nil
}

// CloseWrite ends the stream after the last complete frame.
func (f *framed) CloseWrite() error {
	return f.Conn.(*net.TCPConn).CloseWrite()
}
