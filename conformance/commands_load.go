package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"roomchat.dev/roomchat/spec"
)

// The commands of this file put load on a server: many connections at once
// (sendeach, recveach, ranges of names), connection churn, background
// floods and slow reading. The robustness scripts (testscripts/robust_*)
// use them to play hostile clients beside well-behaved ones.

// nameRange matches a word holding a numeric range, such as c{1..200}$U.
var nameRange = regexp.MustCompile(`^(.*)\{([0-9]+)\.\.([0-9]+)\}(.*)$`)

// maxRange bounds the words one range stands for.
const maxRange = 100000

// words expands the variables of each argument, then a range in it:
// PREFIX{A..B}SUFFIX stands for the words PREFIX<A>SUFFIX ... PREFIX<B>SUFFIX.
// A word without a range stands for itself.
func words(ts *testscript.TestScript, args []string) []string {
	var out []string
	for _, a := range args {
		w := expand(ts, a)
		m := nameRange.FindStringSubmatch(w)
		if m == nil {
			out = append(out, w)
			continue
		}
		from, err1 := strconv.Atoi(m[2])
		to, err2 := strconv.Atoi(m[3])
		if err1 != nil || err2 != nil || from > to || to-from >= maxRange {
			ts.Fatalf("bad range in %q: want {A..B} with A <= B, at most %d words", a, maxRange)
		}
		for i := from; i <= to; i++ {
			out = append(out, m[1]+strconv.Itoa(i)+m[4])
		}
	}
	return out
}

// backgroundFlood is a flood being written by its own goroutine
// (floodsend -bg).
type backgroundFlood struct {
	note string
	done chan struct{} // closed when the flood is written or failed
	err  error         // set before done is closed
}

// floodChunk is the most a flood writes at once.
const floodChunk = 16 << 10

// writeFlood writes a flood, paced if it has a rate. It holds the client's
// write lock throughout.
func (c *Client) writeFlood(f *flood, timeout time.Duration) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeFloodLocked(f, timeout)
}

// writeFloodLocked is writeFlood for a caller that holds c.wmu. Without a
// rate it writes the flood in chunks of floodChunk bytes, so that timeout
// bounds the lack of progress rather than the whole flood, which a server
// may legitimately read slowly (LIMIT-6), and records each round as sent
// just before the write of the chunk that holds its first byte begins.
func (c *Client) writeFloodLocked(f *flood, timeout time.Duration) error {
	if f.rate > 0 {
		return c.writePacedLocked(f, timeout)
	}
	round := 0 // the first round whose send time is not recorded yet
	for off := 0; off < len(f.data); {
		n := min(floodChunk, len(f.data)-off)
		first := round
		for round < len(f.starts) && f.starts[round] < off+n {
			round++
		}
		f.rec.add(time.Now(), round-first)
		if err := c.writeChunk(f.data[off:off+n], timeout); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// writeChunk writes one chunk of a flood, with a deadline of timeout.
func (c *Client) writeChunk(data []byte, timeout time.Duration) error {
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.conn.Write(data); err != nil {
		c.tr.add(event{client: c, kind: evNote, text: "write error: " + err.Error()})
		return err
	}
	return nil
}

// waitFlood waits for the client's background flood, if any, to end.
func (c *Client) waitFlood() {
	if c.flood != nil {
		<-c.flood.done
	}
}

// floodwait NAME
func cmdFloodWait(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "floodwait")
	usage(ts, len(args) == 1, "floodwait NAME")
	s := getSession(ts)
	c := s.client(ts, expand(ts, args[0]))
	f := c.flood
	if f == nil {
		ts.Fatalf("floodwait %s: no background flood (floodsend -bg) to wait for", c.name)
	}
	<-f.done
	c.flood = nil
	if f.err != nil {
		s.fatalf(ts, "floodwait %s: the background flood (%s) could not be written: %v", c.name, f.note, f.err)
	}
}

// sendeach [-raw] NAMES TEMPLATE
func cmdSendEach(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sendeach")
	const syntax = "sendeach [-raw] NAMES TEMPLATE"
	raw := false
	if len(args) > 0 && args[0] == "-raw" {
		raw, args = true, args[1:]
	}
	usage(ts, len(args) == 2, syntax)
	s := getSession(ts)
	tmpl := expand(ts, args[1])
	for i, name := range words(ts, strings.Split(args[0], ",")) {
		text := fill(tmpl, i+1)
		var data []byte
		if raw {
			var err error
			if data, err = unquoteRaw(text); err != nil {
				ts.Fatalf("sendeach: %v", err)
			}
		} else {
			data = []byte(text + "\r\n")
		}
		c := s.writer(ts, name)
		if err := c.Write(data, "", timeout(ts)); err != nil {
			s.fatalf(ts, "sendeach %s: %v", c.name, err)
		}
	}
}

// recveach NAMES TEMPLATE
func cmdRecvEach(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "recveach")
	usage(ts, len(args) == 2, "recveach NAMES TEMPLATE")
	s := getSession(ts)
	tmpl := expand(ts, args[1])
	for i, name := range words(ts, strings.Split(args[0], ",")) {
		c := s.reader(ts, name)
		want := fill(tmpl, i+1)
		got := s.take(ts, c, "recveach", strconv.Quote(want))
		if got != want {
			s.fatalf(ts, "recveach %s: the next line differs\n%s%s", c.name, difference(want, got), grammarNote(got))
		}
	}
}

// readrate NAME BYTES_PER_SECOND
func cmdReadRate(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "readrate")
	usage(ts, len(args) == 2, "readrate NAME BYTES_PER_SECOND")
	s := getSession(ts)
	rate := countArg(ts, args[1])
	for _, name := range words(ts, []string{args[0]}) {
		s.reader(ts, name).SetReadRate(rate)
	}
}

// churnEnd is how a churn connection ends.
type churnEnd uint8

const (
	churnClose   churnEnd = iota // close (FIN)
	churnQuit                    // QUIT, then the server closes
	churnReset                   // SO_LINGER 0: RST
	churnRefused                 // the server refuses the connection
)

// churnOptions are the options of churn.
type churnOptions struct {
	name bool
	join string // a room to join, with %d
	send string // raw bytes to send last, with %d, undecoded
	end  churnEnd
}

// maxChurnTimeouts bounds the whole of one churn command, in $TIMEOUTs.
const maxChurnTimeouts = 20

// churn [-name] [-join ROOM] [-send QUOTED] [-quit | -reset | -refused] N PREFIX
func cmdChurn(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "churn")
	const syntax = "churn [-name] [-join ROOM] [-send QUOTED] [-quit | -reset | -refused] N PREFIX"
	var o churnOptions
	ends := 0
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-name":
			o.name, args = true, args[1:]
		case "-join":
			usage(ts, len(args) > 1, syntax)
			o.join, args = expand(ts, args[1]), args[2:]
		case "-send":
			usage(ts, len(args) > 1, syntax)
			o.send, args = expand(ts, args[1]), args[2:]
		case "-quit":
			o.end, args = churnQuit, args[1:]
			ends++
		case "-reset":
			o.end, args = churnReset, args[1:]
			ends++
		case "-refused":
			o.end, args = churnRefused, args[1:]
			ends++
		default:
			usage(ts, false, syntax)
		}
	}
	usage(ts, len(args) == 2 && ends <= 1, syntax)
	if o.end == churnRefused && (o.name || o.join != "" || o.send != "") {
		ts.Fatalf("churn: -refused takes no other option: a refused connection gets nothing but ERROR Server full")
	}
	if o.join != "" && !o.name {
		ts.Fatalf("churn: -join needs -name (JOIN requires a username, STATE-2)")
	}
	n := countArg(ts, args[0])
	if n > maxRange {
		ts.Fatalf("churn: at most %d connections", maxRange)
	}
	prefix := expand(ts, args[1])
	s := getSession(ts)
	d := timeout(ts)
	who := &Client{name: prefix + "{1.." + strconv.Itoa(n) + "}"}
	s.tr.add(event{client: who, kind: evNote, text: "churn: " + o.describe(n)})
	start := time.Now()
	deadline := start.Add(maxChurnTimeouts * d)
	addr := ts.Getenv(EnvAddr)
	for i := 1; i <= n; i++ {
		if time.Now().After(deadline) {
			s.fatalf(ts, "churn %s: only %d of %d cycles done in %v", who.name, i-1, n, time.Since(start).Round(time.Millisecond))
		}
		if log, err := churnOnce(addr, prefix+strconv.Itoa(i), i, o, d); err != nil {
			s.fatalf(ts, "churn %s: cycle %d of %d: %v\n  what %s%d saw:\n    %s", who.name, i, n, err, prefix, i, strings.Join(log, "\n    "))
		}
	}
	s.tr.add(event{client: who, kind: evNote, text: fmt.Sprintf("churn: %d cycles done in %v", n, time.Since(start).Round(time.Millisecond))})
}

// describe says what each cycle of a churn does.
func (o churnOptions) describe(n int) string {
	steps := []string{"connect"}
	if o.name {
		steps = append(steps, "USERNAME")
	}
	if o.join != "" {
		steps = append(steps, "JOIN "+o.join)
	}
	if o.send != "" {
		steps = append(steps, "send "+strconv.Quote(o.send))
	}
	switch o.end {
	case churnQuit:
		steps = append(steps, "QUIT")
	case churnReset:
		steps = append(steps, "reset (RST)")
	case churnRefused:
		steps = append(steps, "be refused")
	default:
		steps = append(steps, "close")
	}
	return fmt.Sprintf("%d connections, one after the other, each: %s", n, strings.Join(steps, ", "))
}

// churnOnce runs one churn cycle as the connection called name, number i.
// It returns what the connection sent and received, for a failure report.
func churnOnce(addr, name string, i int, o churnOptions, timeout time.Duration) (log []string, err error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	conn := nc.(*net.TCPConn)
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 1024)
	send := func(data []byte) error {
		log = append(log, "> "+quote(data))
		conn.SetWriteDeadline(time.Now().Add(timeout))
		_, err := conn.Write(data)
		return err
	}
	recv := func() (string, error) {
		conn.SetReadDeadline(time.Now().Add(timeout))
		line, err := r.ReadSlice('\n')
		if err != nil {
			if errors.Is(err, bufio.ErrBufferFull) {
				// A long line (a roster or a ROOMLIST): skip the rest of it.
				for errors.Is(err, bufio.ErrBufferFull) {
					_, err = r.ReadSlice('\n')
				}
				if err == nil {
					log = append(log, "< (a long line)")
					return "", nil
				}
			}
			if len(line) > 0 {
				log = append(log, "< "+quote(line)+" (cut short)")
			}
			return "", err
		}
		log = append(log, "< "+quote(line))
		body, ok := strings.CutSuffix(string(line), "\r\n")
		if !ok {
			return "", fmt.Errorf("line %q does not end in CRLF (FRAME-2)", line)
		}
		return body, nil
	}
	expectLine := func(want string, prefix bool) error {
		got, err := recv()
		if err != nil {
			return fmt.Errorf("want %q: %s", want, describeEnd(err, timeout))
		}
		if got != want && !(prefix && strings.HasPrefix(got, want)) {
			return fmt.Errorf("want %q, got %q", want, got)
		}
		return nil
	}
	// expectClose reads until the end of the stream, skipping lines of the
	// server grammar.
	expectClose := func() error {
		for {
			got, err := recv()
			if err != nil {
				if isClose(err) {
					return nil
				}
				return fmt.Errorf("want the server to close the connection: %s", describeEnd(err, timeout))
			}
			if _, perr := spec.ParseServerLine(got); got != "" && perr != nil {
				return fmt.Errorf("a line outside the server grammar (GRAM-6): %v", perr)
			}
		}
	}
	if o.end == churnRefused {
		if err := expectLine("ERROR "+spec.ErrServerFull, false); err != nil {
			return log, err
		}
		got, err := recv()
		if err == nil {
			return log, fmt.Errorf("want the connection closed after ERROR Server full, got %q", got)
		}
		if !isClose(err) {
			return log, fmt.Errorf("want the connection closed after ERROR Server full: %s", describeEnd(err, timeout))
		}
		return log, nil
	}
	if o.name {
		if err := send([]byte("USERNAME " + name + "\r\n")); err != nil {
			return log, err
		}
		if err := expectLine("OK "+spec.OKWelcome(name), false); err != nil {
			return log, err
		}
	}
	if o.join != "" {
		if err := send([]byte("JOIN " + fill(o.join, i) + "\r\n")); err != nil {
			return log, err
		}
		if err := expectLine("OK Joined ", true); err != nil {
			return log, err
		}
	}
	if o.send != "" {
		data, err := unquoteRaw(fill(o.send, i))
		if err != nil {
			return log, err
		}
		if err := send(data); err != nil {
			return log, err
		}
	}
	switch o.end {
	case churnQuit:
		if err := send([]byte("QUIT\r\n")); err != nil {
			return log, err
		}
		for {
			got, err := recv()
			if err != nil {
				return log, fmt.Errorf("want %q: %s", "OK "+spec.OKGoodbye, describeEnd(err, timeout))
			}
			if got == "OK "+spec.OKGoodbye {
				break
			}
			if _, perr := spec.ParseServerLine(got); got != "" && perr != nil {
				return log, fmt.Errorf("a line outside the server grammar (GRAM-6): %v", perr)
			}
		}
		return log, expectClose()
	case churnReset:
		log = append(log, "(resets the connection)")
		conn.SetLinger(0)
	default:
		log = append(log, "(closes the connection)")
	}
	return log, nil
}
