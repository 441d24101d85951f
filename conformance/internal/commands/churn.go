package commands

import (
	"bufio"
	"errors"
	"fmt"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"strings"
	"time"

	"roomchat.dev/roomchat/spec"
)

// churn: connections that come and go, one after the other, each of its
// own, outside the script's clients and transcript.

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
func cmdChurn(c *call) {
	ts, s, args := c.ts, c.s, c.args
	o := churnOptions{name: c.opts.has("-name"), join: c.opts.value("-join"), send: c.opts.value("-send")}
	switch {
	case c.opts.has("-quit"):
		o.end = churnQuit
	case c.opts.has("-reset"):
		o.end = churnReset
	case c.opts.has("-refused"):
		o.end = churnRefused
	}
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
	d := timeout(ts)
	who := &Client{name: prefix + "{1.." + strconv.Itoa(n) + "}"}
	s.tr.add(event{client: who, kind: evNote, text: "churn: " + o.describe(n)})
	start := time.Now()
	deadline := start.Add(maxChurnTimeouts * d)
	addr := ts.Getenv(envAddr)
	for i := 1; i <= n; i++ {
		if time.Now().After(deadline) {
			s.fatalf(ts, "churn %s: only %d of %d cycles done in %v", who.name, i-1, n, time.Since(start).Round(time.Millisecond))
		}
		if log, err := churnOnce(s.dialer, addr, prefix+strconv.Itoa(i), i, o, d); err != nil {
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
func churnOnce(dialer dial.Dialer, addr, name string, i int, o churnOptions, timeout time.Duration) (log []string, err error) {
	dialer.Timeout = timeout
	conn, err := dialer.Dial(addr, dial.Options{})
	if err != nil {
		return nil, err
	}
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
		conn.Reset()
	default:
		log = append(log, "(closes the connection)")
	}
	return log, nil
}
