package commands

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/testscript"
)

// The commands that send: send, sendlf, sendraw, sendsplit, sendlong,
// sendmany, floodsend, floodwait, sendeach.

// send NAME LINE
func cmdSend(c *call) {
	sendBytes(c.ts, c.args[0], []byte(expand(c.ts, c.args[1])+"\r\n"), "")
}

// sendlf NAME LINE
func cmdSendLF(c *call) {
	sendBytes(c.ts, c.args[0], []byte(expand(c.ts, c.args[1])+"\n"), "")
}

// sendraw NAME QUOTED
func cmdSendRaw(c *call) {
	data, err := unquoteRaw(expand(c.ts, c.args[1]))
	if err != nil {
		c.ts.Fatalf("sendraw: %v", err)
	}
	sendBytes(c.ts, c.args[0], data, "")
}

// maxRawRepeat is the largest N of \x{N} in sendraw: far beyond any line
// of the protocol, small enough that a mistyped script cannot exhaust
// memory. A larger N is not an escape, and fails to decode.
const maxRawRepeat = 1 << 20

// unquoteRaw decodes the body of a Go double-quoted string: \r, \n, \t,
// \xHH, \uHHHH, \\ and \" are escapes; any other byte stands for itself.
// As in the transcripts of PROTOCOL.md, \x{N} stands for N bytes of x.
func unquoteRaw(s string) ([]byte, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if r, size := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && size == 1 {
			// A byte that is not UTF-8 stands for itself too: strconv.Unquote
			// would turn it into U+FFFD.
			fmt.Fprintf(&b, `\x%02x`, s[i])
			continue
		} else if size > 1 {
			b.WriteString(s[i : i+size])
			i += size - 1
			continue
		}
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if rest, ok := strings.CutPrefix(s[i+1:], "x{"); ok {
			if end := strings.IndexByte(rest, '}'); end > 0 {
				if n, err := strconv.Atoi(rest[:end]); err == nil && n >= 0 && n <= maxRawRepeat {
					b.WriteString(strings.Repeat("x", n))
					i += 1 + len("x{") + end
					continue
				}
			}
		}
		b.WriteString(s[i : i+2]) // an escape for strconv.Unquote
		i++
	}
	s = b.String()
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		return nil, fmt.Errorf("cannot decode %q as the body of a Go string: %v (escape \" and \\)", s, err)
	}
	return []byte(u), nil
}

// sendsplit NAME LINE
func cmdSendSplit(c *call) {
	ts, s := c.ts, c.s
	cl := s.writer(ts, expand(ts, c.args[0]))
	if err := cl.WriteSplit([]byte(expand(ts, c.args[1])+"\r\n"), timeout(ts)); err != nil {
		s.fatalf(ts, "sendsplit %s: %v", cl.name, err)
	}
}

// sendlong [-prefix TEXT] [-lf | -noterm] NAME N
func cmdSendLong(c *call) {
	prefix, term := c.opts.value("-prefix"), "\r\n"
	switch {
	case c.opts.has("-lf"):
		term = "\n"
	case c.opts.has("-noterm"):
		term = ""
	}
	n, err := strconv.Atoi(c.args[1])
	if err != nil || n < 0 {
		c.ts.Fatalf("sendlong: bad length %q", c.args[1])
	}
	data := make([]byte, 0, len(prefix)+n+len(term))
	data = append(data, prefix...)
	data = append(data, bytes.Repeat([]byte("x"), n)...)
	data = append(data, term...)
	sendBytes(c.ts, c.args[0], data, fmt.Sprintf("%d bytes in all", len(data)))
}

// sendmany NAME LINE...
func cmdSendMany(c *call) {
	var data []byte
	for _, l := range c.args[1:] {
		data = append(data, expand(c.ts, l)...)
		data = append(data, "\r\n"...)
	}
	sendBytes(c.ts, c.args[0], data, fmt.Sprintf("%d lines in one write", len(c.args)-1))
}

func sendBytes(ts *testscript.TestScript, name string, data []byte, note string) {
	s := getSession(ts)
	c := s.writer(ts, expand(ts, name))
	if err := c.Write(data, note, timeout(ts)); err != nil {
		s.fatalf(ts, "send %s: %v", c.name, err)
	}
}

// floodsend [-bg] [-rate N] NAME COUNT TEMPLATE...
func cmdFloodSend(c *call) {
	ts, s, args := c.ts, c.s, c.args
	bg, rateText := c.opts.has("-bg"), c.opts.value("-rate")
	cl := s.writer(ts, expand(ts, args[0]))
	count := countArg(ts, args[1])
	rate := 0.0
	if rateText != "" {
		rate = rateArg(ts, rateText, count)
	}
	var tmpls []string
	for _, a := range args[2:] {
		tmpls = append(tmpls, expand(ts, a))
	}
	f := newFlood(count, tmpls, rate)
	quoted := make([]string, len(tmpls))
	for i, tmpl := range tmpls {
		quoted[i] = strconv.Quote(tmpl)
	}
	note := fmt.Sprintf("%d lines %s with %%d = 1..%d, %d bytes", count*len(tmpls), strings.Join(quoted, ", "), count, len(f.data))
	if rate > 0 {
		note += fmt.Sprintf(", %s rounds a second", strconv.FormatFloat(rate, 'g', -1, 64))
	}
	d := timeout(ts)
	if bg && cl.flood != nil {
		ts.Fatalf("floodsend -bg %s: a background flood is already under way; floodwait %s first", cl.name, cl.name)
	}
	cl.sent = f.rec // recvmany -from times the lines by this flood from now on
	if bg {
		bf := &backgroundFlood{note: note, done: make(chan struct{})}
		cl.flood = bf
		cl.tr.add(event{client: cl, kind: evNote, text: "starts sending in the background " + note})
		// Take the write lock here, so that whatever the script writes next
		// to this client comes after the flood; the goroutine releases it.
		cl.wmu.Lock()
		go func() {
			defer close(bf.done)
			bf.err = cl.writeFloodLocked(f, d)
			cl.wmu.Unlock()
			if bf.err == nil {
				cl.tr.add(event{client: cl, kind: evNote, text: "has written its background flood"})
			}
		}()
		return
	}
	cl.tr.add(event{client: cl, kind: evNote, text: "sends " + note})
	if err := cl.writeFlood(f, d); err != nil {
		s.fatalf(ts, "floodsend %s: %v", cl.name, err)
	}
}

// floodwait NAME
func cmdFloodWait(c *call) {
	ts, s := c.ts, c.s
	cl := s.client(ts, expand(ts, c.args[0]))
	f := cl.flood
	if f == nil {
		ts.Fatalf("floodwait %s: no background flood (floodsend -bg) to wait for", cl.name)
	}
	<-f.done
	cl.flood = nil
	if f.err != nil {
		s.fatalf(ts, "floodwait %s: the background flood (%s) could not be written: %v", cl.name, f.note, f.err)
	}
}

// sendeach [-raw] NAMES TEMPLATE
func cmdSendEach(c *call) {
	ts, s := c.ts, c.s
	raw := c.opts.has("-raw")
	tmpl := expand(ts, c.args[1])
	for i, name := range words(ts, strings.Split(c.args[0], ",")) {
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
		cl := s.writer(ts, name)
		if err := cl.Write(data, "", timeout(ts)); err != nil {
			s.fatalf(ts, "sendeach %s: %v", cl.name, err)
		}
	}
}
