package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The flood scenario: -flooders F members join the load's one room after
// the healthy (and stalled) members, as flooder0..F-1, and from the start
// of sending until every healthy sender has had its last PONG they send
// MSG lines as fast as the server takes them: batches of sendBufSize
// bytes, each write blocking until the kernel has taken it. Then they stop
// (a write deadline interrupts a blocked write) and send nothing more, not
// even a PING, since the last write may have ended in the middle of a line.
//
// A flooder reads everything sent to it, as a client does, but checks only
// its own lines coming back (D-2): each echo shows that the server has
// processed that line, so the echoes that had arrived when sending ended,
// over the time sending took, are the rate at which the server took the
// flooder's lines. That is at most what its kernel was handed, and under a
// token bucket (chatd -line-rate R -line-burst B, LIMIT-11) at most
// B + R·t after t seconds of connection.
//
// The healthy members check the flooders' lines as they check the stalled
// senders' (receiver.go): each must arrive once, intact and in order, but
// is neither counted as lost nor in the latency; what a flooder left in
// the kernels' buffers when it stopped may reach them long after the run.

// floodMaxLines is the most lines a flooder sends; it stops early if it
// gets there. The healthy members' trackers need a bound (a bitmap of this
// many bits, made only if a flooder's line arrives out of order).
const floodMaxLines = 1 << 24

// FlooderResult is what one flooder achieved. Times are in seconds.
type FlooderResult struct {
	Name string `json:"name"`
	// Sent is the lines it handed to its kernel by the end.
	Sent int64 `json:"sent"`
	// Echoed is its own lines that had come back when sending ended: the
	// lines the server had taken from it by then.
	Echoed int64 `json:"echoed"`
	// Seconds is how long sending lasted (the healthy senders' time).
	Seconds float64 `json:"seconds"`
	// LinesPerSec is Echoed / Seconds: the rate the server took its lines at.
	LinesPerSec float64 `json:"lines_per_sec"`
	// SinceDialSeconds is the time from just before it connected to the
	// moment Echoed was read, which bounds Echoed under a token bucket.
	SinceDialSeconds float64 `json:"since_dial_seconds"`
	// Delivered is how many times its lines reached a healthy member
	// (checked for duplicates, order and garbling, not for loss).
	Delivered int64 `json:"delivered"`
}

// flooder is one flooding member: a loadClient whose reader counts its
// echoes instead of checking the room's lines.
type flooder struct {
	*loadClient
	f      int
	dialAt time.Time
	sent   atomic.Int64 // lines handed to the kernel

	// Owned by its sender goroutine until floodSet.senders is done.
	sendErr error

	// Set by floodSet.snapshot.
	echoed int64
	at     time.Time
}

// floodSet is the flooders.
type floodSet struct {
	flooders []*flooder
	stop     chan struct{} // closed by halt: the flooders stop sending
	halted   sync.Once
	senders  sync.WaitGroup
}

// dialFlooders connects the flooders one after the other, so that each has
// joined before the next. On error the set holds those connected, for
// close.
func dialFlooders(ctx context.Context, cfg *Config, addr string, deadline time.Time) (*floodSet, error) {
	s := &floodSet{stop: make(chan struct{})}
	for f := range cfg.Flooders {
		fl, err := dialFlooder(ctx, cfg, f, addr, deadline)
		if fl != nil {
			s.flooders = append(s.flooders, fl)
		}
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// dialFlooder connects flooder f, registers it and joins it to #bench0.
func dialFlooder(ctx context.Context, cfg *Config, f int, addr string, deadline time.Time) (*flooder, error) {
	name := flooderName(f)
	dialAt := time.Now()
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	conn.SetDeadline(deadline)
	c := &loadClient{
		id: cfg.flooderID(f), room: 0, name: name, conn: conn, bufSize: 64 << 10,
		acks: make(chan ack, 1), stop: make(chan struct{}), done: make(chan struct{}),
		delivered: &atomic.Int64{}, // not the healthy members' progress
		echo:      newEchoCounter(name, cfg.flooderID(f)),
		notes:     newStallNotes(cfg, false), // knows the stalled members' LEAVE notes
	}
	fl := &flooder{loadClient: c, f: f, dialAt: dialAt}
	go c.read()
	hello := fmt.Appendf(nil, "USERNAME %s\r\nJOIN %s\r\n", name, roomName(0))
	hello = append(hello, pingLine(tokenRegistered)...)
	if _, err := conn.Write(hello); err != nil {
		return fl, err
	}
	a, err := c.await(ctx, tokenRegistered)
	if err != nil {
		return fl, err
	}
	if !a.welcomed || a.joined != 1 || a.problem() != "" {
		return fl, fmt.Errorf("%s: USERNAME and JOIN not accepted (welcome %v, joined %d) %s", name, a.welcomed, a.joined, a.problem())
	}
	return fl, nil
}

// start starts the flooders' senders: they begin when start is closed and
// go on until halt.
func (s *floodSet) start(cfg *Config, start <-chan struct{}) {
	for _, fl := range s.flooders {
		s.senders.Go(func() {
			<-start
			err := fl.flood(cfg, s.stop)
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				fl.sendErr = err
			}
		})
	}
}

// flood sends lines flat out until stop is closed, a write fails, or it has
// sent floodMaxLines.
func (fl *flooder) flood(cfg *Config, stop <-chan struct{}) error {
	w := bufio.NewWriterSize(fl.conn, sendBufSize)
	pending := 0 // lines in w
	for seq := range floodMaxLines {
		if w.Available() < maxSize+8 {
			select {
			case <-stop:
				return nil
			default:
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fl.sent.Add(int64(pending))
			pending = 0
		}
		b := w.AvailableBuffer()
		b = append(b, "MSG "...)
		b = appendPayload(b, fl.id, seq, time.Now().UnixNano(), cfg.Size)
		b = append(b, '\r', '\n')
		w.Write(b)
		pending++
	}
	err := w.Flush()
	if err == nil {
		fl.sent.Add(int64(pending))
	}
	return err
}

// snapshot records, for each flooder, the echoes that have arrived by now.
func (s *floodSet) snapshot() {
	for _, fl := range s.flooders {
		fl.echoed, fl.at = fl.echo.n.Load(), time.Now()
	}
}

// halt stops the flooders' senders and waits for them. It may be called
// more than once, and on nil.
func (s *floodSet) halt() {
	if s == nil {
		return
	}
	s.halted.Do(func() {
		close(s.stop)
		for _, fl := range s.flooders {
			fl.conn.SetWriteDeadline(time.Now()) // interrupts a blocked write
		}
	})
	s.senders.Wait()
}

// close halts the flooders and closes their connections. It may be called
// more than once, and on nil.
func (s *floodSet) close() {
	if s == nil {
		return
	}
	s.halt()
	for _, fl := range s.flooders {
		select {
		case <-fl.stop:
		default:
			fl.loadClient.close()
		}
	}
}

// results says what each flooder achieved, and what went wrong with it.
// It is called once the healthy members' readers (members) have finished
// and the flooders are closed; t0 is the start of sending.
func (s *floodSet) results(members []*loadClient, t0 time.Time) ([]FlooderResult, []string) {
	var res []FlooderResult
	var problems []string
	for _, fl := range s.flooders {
		r := FlooderResult{
			Name: fl.name, Sent: fl.sent.Load(), Echoed: fl.echoed,
			Seconds: fl.at.Sub(t0).Seconds(), SinceDialSeconds: fl.at.Sub(fl.dialAt).Seconds(),
		}
		if r.Seconds > 0 {
			r.LinesPerSec = float64(r.Echoed) / r.Seconds
		}
		for _, m := range members {
			if fl.f < len(m.fromFlooders) {
				r.Delivered += m.fromFlooders[fl.f]
			}
		}
		res = append(res, r)
		if fl.sendErr != nil {
			problems = append(problems, fmt.Sprintf("%s: sending: %v", fl.name, fl.sendErr))
		}
		if fl.readErr != nil {
			problems = append(problems, fmt.Sprintf("%s: connection ended during the run: %v", fl.name, fl.readErr))
		}
		if fl.echo.bad > 0 {
			problems = append(problems, fmt.Sprintf("%s: %d of its own lines came back out of order, twice or garbled", fl.name, fl.echo.bad))
		}
		if a := fl.last; a.errors+a.other > 0 {
			problems = append(problems, fmt.Sprintf("%s: %s", fl.name, a.problem()))
		}
	}
	return res, problems
}

// echoCounter counts a flooder's own lines coming back to it, in order.
// It belongs to the flooder's reader goroutine, but for n.
type echoCounter struct {
	room, user, head []byte // "#bench0", "flooder<f>", "s<id> "
	next             int
	n                atomic.Int64 // own lines back, in order
	bad              int64        // own lines back out of order, twice or with a wrong header
}

func newEchoCounter(name string, id int) *echoCounter {
	return &echoCounter{
		room: []byte(roomName(0)), user: []byte(name),
		head: append(strconv.AppendInt([]byte("s"), int64(id), 10), ' '),
	}
}

// roomLine looks at the rest of a line "ROOM <room> <user> <payload>".
// Only the payload's header is read: a flooder does not spend its time
// checking lines.
func (e *echoCounter) roomLine(rest []byte) {
	room, rest, _ := bytes.Cut(rest, []byte{' '})
	user, text, _ := bytes.Cut(rest, []byte{' '})
	if !bytes.Equal(room, e.room) || !bytes.Equal(user, e.user) {
		return
	}
	p, ok := bytes.CutPrefix(text, e.head)
	seq, _, ok2 := parseUint(p, ' ')
	if !ok || !ok2 || seq != int64(e.next) {
		e.bad++
		if ok && ok2 && seq > int64(e.next) {
			e.next = int(seq) + 1
		}
		return
	}
	e.next++
	e.n.Add(1)
}
