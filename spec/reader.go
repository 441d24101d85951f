package spec

import (
	"bytes"
	"errors"
	"io"
)

// ErrLineOverflow is returned by LineReader.ReadLine for a line longer than
// the reader's limit (FRAME-5). The reader stays in step with the stream:
// the rest of that line, through its LF, is skipped, and the next call
// returns the line after it.
var ErrLineOverflow = errors.New("spec: line too long")

// LineReader splits a byte stream into lines under the framing rules of
// PROTOCOL.md section 2: a line ends at LF, a CR just before that LF is part
// of the terminator, and a line with its terminator is at most max bytes.
//
// It never holds more than max bytes of a line: an overlong line is reported
// as soon as max bytes of it have arrived without a LF, then skipped without
// buffering. Its buffer holds max bytes, or more if NewLineReaderSize says
// so, to take many short lines with one read.
type LineReader struct {
	r          io.Reader
	max        int
	size       int    // of buf
	buf        []byte // allocated on first use; pending bytes are buf[start:end]
	start, end int
	skipping   bool // inside an overlong line already reported
	err        error
}

// NewLineReader returns a reader of lines of at most max bytes, terminator
// included, from r. The buffer is allocated on the first read, so an idle
// reader costs little.
func NewLineReader(r io.Reader, max int) *LineReader {
	return NewLineReaderSize(r, max, max)
}

// NewLineReaderSize returns a reader of lines of at most max bytes,
// terminator included, from r, whose buffer holds size bytes (at least
// max): one read takes up to size bytes, however many lines that is.
func NewLineReaderSize(r io.Reader, max, size int) *LineReader {
	if max < 2 {
		max = 2
	}
	if size < max {
		size = max
	}
	return &LineReader{r: r, max: max, size: size}
}

// ReadLine returns the next line without its terminator. The slice is valid
// until the next call of ReadLine. Errors: ErrLineOverflow for an overlong line (the
// reader can go on), or the underlying reader's error — io.EOF at a clean
// end of stream. Bytes after the last LF at end of stream are discarded
// (FRAME-10).
func (lr *LineReader) ReadLine() ([]byte, error) {
	max := lr.max
	if lr.buf == nil {
		lr.buf = make([]byte, lr.size)
	}
	for {
		if i := bytes.IndexByte(lr.buf[lr.start:lr.end], '\n'); i >= 0 {
			line := lr.buf[lr.start : lr.start+i]
			lr.start += i + 1
			if lr.skipping {
				lr.skipping = false
				continue
			}
			if i+1 > max { // whole in a buffer bigger than max
				return nil, ErrLineOverflow
			}
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		if lr.skipping {
			lr.start, lr.end = 0, 0
		} else if lr.end-lr.start >= max {
			lr.start, lr.end = 0, 0
			lr.skipping = true
			return nil, ErrLineOverflow
		}
		if lr.err != nil {
			return nil, lr.err
		}
		// The read of read, written out: a reader goroutine waits in
		// it, and a call more would make its stack bigger.
		if lr.start > 0 {
			lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
			lr.start = 0
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err != nil {
			lr.err = err
		} else if n == 0 {
			lr.err = io.ErrNoProgress
		}
	}
}

// read moves what is buffered to the front of the buffer and reads once
// from the stream after it, keeping the error the stream returns.
func (lr *LineReader) read() (int, error) {
	if lr.start > 0 {
		lr.end = copy(lr.buf, lr.buf[lr.start:lr.end])
		lr.start = 0
	}
	n, err := lr.r.Read(lr.buf[lr.end:])
	lr.end += n
	if err != nil {
		lr.err = err
	}
	return n, err
}

// Fill reads once from the stream into the buffer, for BufferedLine, and
// returns what that read returned. It is for a stream that may return
// nothing without an error when it has nothing yet, such as a socket read
// that does not wait: such a read is not kept as an error, as it is by
// ReadLine (io.ErrNoProgress). It reads nothing, and returns 0 and nil,
// inside an overlong line, when the buffer holds max bytes without a LF,
// or once the stream has returned an error: ReadLine reports those. An
// error the read returns is kept, and ReadLine returns it after the lines
// read before it.
func (lr *LineReader) Fill() (int, error) {
	if lr.buf == nil {
		lr.buf = make([]byte, lr.size)
	}
	if lr.err != nil || lr.skipping || lr.end-lr.start >= lr.max {
		return 0, nil
	}
	return lr.read()
}

// Buffered returns the number of bytes read from the stream but not yet
// returned as lines.
func (lr *LineReader) Buffered() int { return lr.end - lr.start }

// Peek returns the bytes read from the stream but not yet returned as
// lines, and keeps them. The slice is valid until the next call of
// ReadLine, and must not be changed.
func (lr *LineReader) Peek() []byte { return lr.buf[lr.start:lr.end] }

// TakeBuffered returns the bytes read from the stream but not yet returned
// as lines, and forgets them: the reader goes on as if they had never been
// read. The slice is valid until the next call of ReadLine. A caller that
// hands the bytes back through the stream, before what follows them, loses
// nothing: this lets it keep a connection's incomplete line in less memory
// than the reader's buffer. It must not be called inside an overlong line,
// after ErrLineOverflow and before the next line, nor once the stream has
// returned an error, which the reader keeps.
func (lr *LineReader) TakeBuffered() []byte {
	p := lr.buf[lr.start:lr.end]
	lr.start, lr.end = 0, 0
	return p
}

// BufferedLine returns the next line, without its terminator, if it is
// complete in what has already been read; it never reads from the stream.
// ok is false if no complete line is buffered, or if the reader is inside
// an overlong line: ReadLine then goes on. The slices BufferedLine returns,
// and the one the last ReadLine returned, stay valid until the next call of
// ReadLine, so that a caller can take every line a read brought in at once.
func (lr *LineReader) BufferedLine() (line []byte, ok bool) {
	if lr.skipping {
		return nil, false
	}
	i := bytes.IndexByte(lr.buf[lr.start:lr.end], '\n')
	if i < 0 || i+1 > lr.max {
		return nil, false // ReadLine reads on, or reports the overlong line
	}
	line = lr.buf[lr.start : lr.start+i]
	lr.start += i + 1
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, true
}
