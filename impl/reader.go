package impl

import "roomchat.dev/roomchat/spec"

// readEvent is what a reader hands the loop.
type readEvent struct {
	c *client
	// line is a complete line without its terminator. It points into the
	// reader's buffer and stays valid until the loop resumes the reader.
	line []byte
	// err is nil for a line, spec.ErrLineOverflow for an overlong line
	// (FRAME-5), and otherwise the end of the stream (io.EOF, a reset, or
	// any read error: DISC-1).
	err error
}

// terminal reports whether ev ends the stream.
func (ev readEvent) terminal() bool {
	return ev.err != nil && ev.err != spec.ErrLineOverflow
}

// readLoop is the connection's reader goroutine. It frames lines with the
// bounded spec.LineReader and hands them to the loop one at a time: after
// each it waits until the loop resumes it. The loop's channel serves blocked
// readers in turn, so a flooding client cannot starve the others (LIMIT-6),
// and a reader the loop does not resume stops reading, so TCP slows its
// client down (LIMIT-5).
//
// Lines are processed in order and the end of the stream comes after the
// last complete line (DISC-2); bytes after the last LF are dropped by the
// line reader (FRAME-10). Once the loop has closed done, the reader only
// reads and discards, until the socket fails or its read deadline passes.
func (c *client) readLoop(eventsOut chan<- readEvent) {
	defer c.srv.wg.Done()
	defer close(c.readerDone)
	lr := spec.NewLineReader(c.conn, spec.MaxLineLen)
	for {
		line, err := lr.ReadLine()
		ev := readEvent{c: c, line: line, err: err}
		select {
		case eventsOut <- ev:
		case <-c.done:
			discard(c.conn)
			return
		}
		if ev.terminal() {
			return
		}
		select {
		case <-c.resumeIn:
		case <-c.done:
			discard(c.conn)
			return
		}
	}
}

// resume lets c's reader read its next line. The reader has at most one
// line outstanding, so the send never blocks.
func (c *client) resume() {
	select {
	case c.resumeIn <- struct{}{}:
	default:
	}
}
