package impl

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"

	"roomchat.dev/roomchat/spec"
)

// readEvent is what a reader hands the loop.
type readEvent struct {
	c *client
	// line is a complete line without its terminator. It points into the
	// reader's buffer and stays valid until the loop resumes the reader.
	line []byte
	// more are the lines that followed line in the reader's buffer, at
	// most readBatch-1 of them, valid as long as line: the loop processes
	// them in order, one item each, before it resumes the reader.
	more [][]byte
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
// bounded spec.LineReader and hands them to the loop: a line, with the
// complete lines that followed it in the same read (at most readBatch in
// all), and then it waits until the loop resumes it. The loop's channel
// serves blocked readers in turn, so a flooding client cannot starve the
// others (LIMIT-12), and a reader the loop does not resume stops reading,
// so TCP slows its client down (pacing, LIMIT-9). Under Config.LineRate
// the reader hands over one line at a time, each after a token of the
// client's bucket (LIMIT-11), and so does a cluster node's (clusternode.go),
// which publishes each line on its own.
//
// Lines are processed in order and the end of the stream comes after the
// last complete line (DISC-2); bytes after the last LF are dropped by the
// line reader (FRAME-10). Once the loop has closed done, the reader only
// reads and discards, until the socket fails or its read deadline passes.
//
// A connection that has no complete line buffered holds no buffer: the
// reader gives its line reader back to a pool and waits for the socket to
// become readable before taking one again (lineReader). It takes a small
// one, of one line, unless its last read filled its buffer: a client
// sending more than that at once gets a big one, for reads of many lines.
func (c *client) readLoop(eventsOut chan<- readEvent) {
	defer c.srv.wg.Done()
	defer close(c.readerDone)
	wait := readinessWaiter(c.conn)
	tokens := newBucket(c.srv.cfg.LineRate, c.srv.cfg.LineBurst)
	c.rd.batch = tokens == nil && c.srv.cfg.Cluster == nil
	for {
		var ev readEvent
		c.read(&ev, wait)
		if tokens != nil && !ev.terminal() && !c.waitToken(tokens) {
			discard(c.conn)
			return
		}
		ev.c = c
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
		if wait != nil && ev.err == nil {
			c.rd.park()
		}
	}
}

// readerState is what a reader goroutine keeps between lines. It is kept
// in the client, not on the goroutine's stack: an idle connection's
// reader waits with a stack of the smallest size, 2 KiB, only if its
// frames stay small.
type readerState struct {
	r     *lineReader // held while complete lines are buffered, and during a read
	carry []byte      // an incomplete line, kept while no line reader is held
	big   bool        // the next line reader is a big one
	batch bool        // the lines buffered after the first go with it
}

// read reads the next line, and the lines buffered after it, into ev; a
// connection without a line reader first waits, with wait if not nil, for
// its socket to be readable, unless carry holds a complete line.
func (c *client) read(ev *readEvent, wait func() error) {
	rd := &c.rd
	if rd.r == nil && wait != nil && bytes.IndexByte(rd.carry, '\n') < 0 {
		if ev.err = wait(); ev.err != nil {
			return
		}
	}
	if rd.r == nil {
		rd.r = getLineReader(c.conn, rd.carry, rd.big)
		rd.carry = nil
	}
	ev.line, ev.err = rd.r.lr.ReadLine()
	if ev.err == nil && rd.batch {
		ev.more = rd.r.buffered()
	}
}

// park runs once the loop is done with the lines: a reader that has no
// complete line buffered keeps no buffer, and what it holds of an
// incomplete line waits in carry, in as little memory as it takes.
func (rd *readerState) park() {
	full := rd.r.src.full
	if carry, ok := rd.r.park(); ok {
		rd.r, rd.carry, rd.big = nil, carry, full
	}
}

// waitToken waits until b holds a token and takes it (LIMIT-11). It
// reports false if the loop forgot the client meanwhile.
func (c *client) waitToken(b *bucket) bool {
	for {
		d := b.take(time.Now())
		if d == 0 {
			return true
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.done:
			t.Stop()
			return false
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

// takeBuffered takes, as c's next batch (c.more), the complete lines c's
// reader holds after those it handed over, without waking the reader:
// a read of a flooding client brings in hundreds of lines, and the reader
// would otherwise be scheduled once for every readBatch of them, costing
// a switch between threads each time. The reader must be waiting to be
// resumed (readerWaits): it then touches none of its state, and the
// lines the loop is done with may be overwritten, as the reader's own next
// read would. A turn takes at most turnReads batches so (l.taken), as it
// takes at most turnReads events from readers (moreReads); then the
// reader is resumed, and its next batch waits behind the other readers'
// (LIMIT-12). Only a reader that hands over batches (rd.batch) is taken
// from: not under Config.LineRate, whose tokens the reader takes line by
// line, nor on a cluster node.
func (l *loop) takeBuffered(c *client) bool {
	if !c.readerWaits || !c.rd.batch || c.rd.r == nil || l.taken >= turnReads {
		return false
	}
	lines := c.rd.r.take(readBatch)
	if lines == nil && c.rd.r.src.full && l.fillNow(c) {
		lines = c.rd.r.take(readBatch)
	}
	if lines == nil {
		return false
	}
	l.taken++
	c.more = lines
	return true
}

// fillNow reads, for takeBuffered, what c's socket holds into its
// reader's buffer, without waiting, and reports whether it read anything.
// takeBuffered calls it only when the reader's last read filled its
// buffer, so that more is likely waiting: a flooding client is then read
// by the loop, as an epoll relay reads, and its reader goroutine sleeps.
// An error is kept by the line reader, which returns it to the reader
// goroutine after the lines before it.
func (l *loop) fillNow(c *client) bool {
	if c.raw == nil {
		return false
	}
	src := &c.rd.r.src
	l.rawRead.c, src.now = c, l.rawRead
	n, _ := c.rd.r.lr.Fill()
	l.rawRead.c, src.now = nil, nil
	return n > 0
}

// readBatch is the most lines a reader hands the loop at once. It bounds
// how long the other clients' lines wait behind a flood (LIMIT-12): a
// batch is processed in one go, unless flow control postpones a line of it.
const readBatch = 32

// readBuffer is the size of a big line reader's buffer: one read takes up
// to that many bytes, however many lines they hold. Only a connection
// whose complete lines are being processed holds one (lineReader.park),
// and only if a read filled a small one (readLoop).
const readBuffer = 16 << 10

// lineReader is a spec.LineReader that can move from one connection to
// another through lineReaders, so that only connections with lines to
// process hold a buffer.
type lineReader struct {
	src   lineSource
	lr    *spec.LineReader
	lines [][]byte // reused by buffered
	big   bool     // of lineReaders[1], with a buffer of readBuffer bytes
}

// buffered returns the complete lines buffered after the one ReadLine
// returned last, at most readBatch-1 of them, or nil. The slice is r's,
// valid until the next call.
func (r *lineReader) buffered() [][]byte { return r.take(readBatch - 1) }

// take returns the next complete lines buffered, at most max of them, or
// nil, without reading. The slice is r's, valid until the next call.
func (r *lineReader) take(max int) [][]byte {
	r.lines = r.lines[:0]
	for len(r.lines) < max {
		line, ok := r.lr.BufferedLine()
		if !ok {
			break
		}
		r.lines = append(r.lines, line)
	}
	if len(r.lines) == 0 {
		return nil
	}
	return r.lines
}

// lineSource is the reader under a lineReader's spec.LineReader. It first
// hands back carry, the incomplete line the connection's last line reader
// held (lineReader.park), then reads from r. full: r's last read filled
// the buffer it was given, so more may be waiting.
type lineSource struct {
	r     io.Reader
	carry []byte
	full  bool
	// failed: r returned an error (or nothing at all), which the
	// LineReader keeps; such a lineReader cannot be reused.
	failed bool
	// now, while set, reads the socket without waiting instead of r
	// (loop.fillNow): nothing yet is not a failure then.
	now *rawReader
}

func (s *lineSource) Read(p []byte) (int, error) {
	if len(s.carry) > 0 {
		n := copy(p, s.carry)
		s.carry = s.carry[n:]
		return n, nil
	}
	if s.now != nil {
		n, err := s.now.readNow(p)
		s.full = n == len(p)
		s.failed = err != nil
		return n, err
	}
	n, err := s.r.Read(p)
	s.full = n == len(p)
	if err != nil || n == 0 {
		s.failed = true
	}
	return n, err
}

// lineReaders are the small line readers (a line's worth) and the big
// ones (readBuffer).
var lineReaders = [2]sync.Pool{
	{New: func() any {
		r := new(lineReader)
		r.lr = spec.NewLineReader(&r.src, spec.MaxLineLen)
		return r
	}},
	{New: func() any {
		r := &lineReader{big: true}
		r.lr = spec.NewLineReaderSize(&r.src, spec.MaxLineLen, readBuffer)
		return r
	}},
}

// getLineReader returns a line reader of conn, a big one if big, with
// nothing buffered, that reads carry first.
func getLineReader(conn net.Conn, carry []byte, big bool) *lineReader {
	i := 0
	if big {
		i = 1
	}
	r := lineReaders[i].Get().(*lineReader)
	r.src.r = conn
	r.src.carry = carry
	return r
}

// park gives r back if it holds no complete line and could serve another
// connection, and returns what it held of an incomplete line, in a slice
// of its own (nil if none), and true. Otherwise it returns false and r
// goes on. It must be called only after ReadLine returned a line: then r
// is not inside an overlong line (FRAME-5).
func (r *lineReader) park() ([]byte, bool) {
	if r.src.failed || len(r.src.carry) > 0 || bytes.IndexByte(r.lr.Peek(), '\n') >= 0 {
		return nil, false
	}
	var carry []byte
	if p := r.lr.TakeBuffered(); len(p) > 0 {
		carry = bytes.Clone(p)
	}
	putLineReader(r)
	return carry, true
}

// putLineReader gives back a line reader that holds nothing.
func putLineReader(r *lineReader) {
	r.src.r = nil
	r.src.full = false
	clear(r.lines[:cap(r.lines)])
	if r.big {
		lineReaders[1].Put(r)
	} else {
		lineReaders[0].Put(r)
	}
}
