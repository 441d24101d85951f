package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"roomchat.dev/roomchat/spec"
)

// Commands returns the script commands of the conformance suite, as
// testscript.Params.Cmds wants them. The package documentation describes
// each one. They need the session that the runner's Setup installs.
func Commands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// Connections.
		"connect":     cmdConnect,
		"connectmany": cmdConnectMany,
		"disconnect":  cmdClose("disconnect", false),
		"reset":       cmdClose("reset", true),
		"halfclose":   cmdHalfClose,
		"stopread":    cmdStopRead,
		"resumeread":  cmdResumeRead,
		"readrate":    cmdReadRate,
		// Sending.
		"send":      cmdSend,
		"sendlf":    cmdSendLF,
		"sendraw":   cmdSendRaw,
		"sendsplit": cmdSendSplit,
		"sendlong":  cmdSendLong,
		"sendmany":  cmdSendMany,
		"floodsend": cmdFloodSend,
		"floodwait": cmdFloodWait,
		"sendeach":  cmdSendEach,
		"churn":     cmdChurn,
		// Receiving.
		"recv":      cmdRecv,
		"expect":    cmdExpect,
		"recvmany":  cmdRecvMany,
		"recvmerge": cmdRecvMerge,
		"recvrooms": cmdRecvRooms,
		"recveach":  cmdRecvEach,
		"quiet":     cmdQuiet,
		"closed":    cmdClosed,
		"await":     cmdAwait,
		// The server and time.
		"shutdown": cmdShutdown,
		"sleep":    cmdSleep,
	}
}

// noNeg refuses the ! prefix for a command that has no negative form.
func noNeg(ts *testscript.TestScript, neg bool, cmd string) {
	if neg {
		ts.Fatalf("%s does not support !", cmd)
	}
}

func usage(ts *testscript.TestScript, ok bool, syntax string) {
	if !ok {
		ts.Fatalf("usage: %s", syntax)
	}
}

// connect NAME...
//
// ! connect NAME: the server must refuse the connection.
func cmdConnect(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, len(args) > 0, "connect NAME...")
	s := getSession(ts)
	names := words(ts, args)
	if neg {
		usage(ts, len(names) == 1, "! connect NAME")
	}
	for _, name := range names {
		s.connect(ts, name, neg)
	}
}

func (s *session) connect(ts *testscript.TestScript, name string, neg bool) {
	old, existed := s.clients[name]
	if existed && !old.HungUp() && old.Ended() == nil {
		ts.Fatalf("%s is already connected", name)
	}
	c, err := Dial(ts.Getenv(EnvAddr), name, s.tr, timeout(ts))
	if neg {
		if err == nil {
			c.Close(false)
			<-c.readerDone
			s.fatalf(ts, "connect %s: the server accepted a connection it should have refused", name)
		}
		ts.Logf("connect %s: refused as expected: %v", name, err)
		return
	}
	if err != nil {
		s.fatalf(ts, "connect %s: %v", name, err)
	}
	if existed {
		old.shutdown()
		old.waitFlood()
	} else {
		s.order = append(s.order, name)
	}
	s.clients[name] = c
}

// connectmany N PREFIX
func cmdConnectMany(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "connectmany")
	usage(ts, len(args) == 2, "connectmany N PREFIX")
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		ts.Fatalf("connectmany: bad count %q", args[0])
	}
	s := getSession(ts)
	prefix := expand(ts, args[1])
	for i := 1; i <= n; i++ {
		s.connect(ts, prefix+strconv.Itoa(i), false)
	}
}

// disconnect NAME... closes each client's connection; reset NAME... does
// so with SO_LINGER 0, so the server sees a reset instead of an end of
// stream.
func cmdClose(word string, reset bool) func(*testscript.TestScript, bool, []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		noNeg(ts, neg, word)
		usage(ts, len(args) > 0, word+" NAME...")
		s := getSession(ts)
		for _, name := range words(ts, args) {
			s.client(ts, name).Close(reset)
		}
	}
}

// halfclose NAME...
func cmdHalfClose(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "halfclose")
	usage(ts, len(args) > 0, "halfclose NAME...")
	s := getSession(ts)
	for _, name := range words(ts, args) {
		if err := s.writer(ts, name).CloseWrite(); err != nil {
			s.fatalf(ts, "halfclose %s: %v", name, err)
		}
	}
}

// stopread NAME...
func cmdStopRead(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "stopread")
	usage(ts, len(args) > 0, "stopread NAME...")
	s := getSession(ts)
	for _, name := range words(ts, args) {
		s.reader(ts, name).StopReading()
	}
}

// resumeread NAME...
func cmdResumeRead(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "resumeread")
	usage(ts, len(args) > 0, "resumeread NAME...")
	s := getSession(ts)
	for _, name := range words(ts, args) {
		s.client(ts, name).ResumeReading()
	}
}

// send NAME LINE
func cmdSend(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "send")
	usage(ts, len(args) == 2, "send NAME LINE")
	sendBytes(ts, args[0], []byte(expand(ts, args[1])+"\r\n"), "")
}

// sendlf NAME LINE
func cmdSendLF(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sendlf")
	usage(ts, len(args) == 2, "sendlf NAME LINE")
	sendBytes(ts, args[0], []byte(expand(ts, args[1])+"\n"), "")
}

// sendraw NAME QUOTED
func cmdSendRaw(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sendraw")
	usage(ts, len(args) == 2, "sendraw NAME QUOTED")
	data, err := unquoteRaw(expand(ts, args[1]))
	if err != nil {
		ts.Fatalf("sendraw: %v", err)
	}
	sendBytes(ts, args[0], data, "")
}

// unquoteRaw decodes the body of a Go double-quoted string: \r, \n, \t,
// \xHH, \uHHHH, \\ and \" are escapes; any other byte stands for itself.
// As in the transcripts of PROTOCOL.md, \x{N} stands for N bytes of x.
func unquoteRaw(s string) ([]byte, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if rest, ok := strings.CutPrefix(s[i+1:], "x{"); ok {
			if end := strings.IndexByte(rest, '}'); end > 0 {
				if n, err := strconv.Atoi(rest[:end]); err == nil && n >= 0 {
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
func cmdSendSplit(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sendsplit")
	usage(ts, len(args) == 2, "sendsplit NAME LINE")
	s := getSession(ts)
	c := s.writer(ts, expand(ts, args[0]))
	if err := c.WriteSplit([]byte(expand(ts, args[1])+"\r\n"), timeout(ts)); err != nil {
		s.fatalf(ts, "sendsplit %s: %v", c.name, err)
	}
}

// sendlong [-prefix TEXT] [-lf | -noterm] NAME N
func cmdSendLong(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sendlong")
	const syntax = "sendlong [-prefix TEXT] [-lf | -noterm] NAME N"
	prefix, term := "", "\r\n"
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-prefix":
			usage(ts, len(args) > 1, syntax)
			prefix = expand(ts, args[1])
			args = args[2:]
		case "-lf":
			term, args = "\n", args[1:]
		case "-noterm":
			term, args = "", args[1:]
		default:
			usage(ts, false, syntax)
		}
	}
	usage(ts, len(args) == 2, syntax)
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 {
		ts.Fatalf("sendlong: bad length %q", args[1])
	}
	data := make([]byte, 0, len(prefix)+n+len(term))
	data = append(data, prefix...)
	data = append(data, bytes.Repeat([]byte("x"), n)...)
	data = append(data, term...)
	sendBytes(ts, args[0], data, fmt.Sprintf("%d bytes in all", len(data)))
}

// sendmany NAME LINE...
func cmdSendMany(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sendmany")
	usage(ts, len(args) >= 2, "sendmany NAME LINE...")
	var data []byte
	for _, l := range args[1:] {
		data = append(data, expand(ts, l)...)
		data = append(data, "\r\n"...)
	}
	sendBytes(ts, args[0], data, fmt.Sprintf("%d lines in one write", len(args)-1))
}

func sendBytes(ts *testscript.TestScript, name string, data []byte, note string) {
	s := getSession(ts)
	c := s.writer(ts, expand(ts, name))
	if err := c.Write(data, note, timeout(ts)); err != nil {
		s.fatalf(ts, "send %s: %v", c.name, err)
	}
}

// floodsend [-bg] [-rate N] NAME COUNT TEMPLATE...
func cmdFloodSend(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "floodsend")
	const syntax = "floodsend [-bg] [-rate N] NAME COUNT TEMPLATE..."
	bg, rateText := false, ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-bg":
			bg, args = true, args[1:]
		case "-rate":
			usage(ts, len(args) > 1, syntax)
			rateText, args = expand(ts, args[1]), args[2:]
		default:
			usage(ts, false, syntax)
		}
	}
	usage(ts, len(args) >= 3, syntax)
	s := getSession(ts)
	c := s.writer(ts, expand(ts, args[0]))
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
	if bg && c.flood != nil {
		ts.Fatalf("floodsend -bg %s: a background flood is already under way; floodwait %s first", c.name, c.name)
	}
	c.sent = f.rec // recvmany -from times the lines by this flood from now on
	if bg {
		bf := &backgroundFlood{note: note, done: make(chan struct{})}
		c.flood = bf
		c.tr.add(event{client: c, kind: evNote, text: "starts sending in the background " + note})
		// Take the write lock here, so that whatever the script writes next
		// to this client comes after the flood; the goroutine releases it.
		c.wmu.Lock()
		go func() {
			defer close(bf.done)
			bf.err = c.writeFloodLocked(f, d)
			c.wmu.Unlock()
			if bf.err == nil {
				c.tr.add(event{client: c, kind: evNote, text: "has written its background flood"})
			}
		}()
		return
	}
	c.tr.add(event{client: c, kind: evNote, text: "sends " + note})
	if err := c.writeFlood(f, d); err != nil {
		s.fatalf(ts, "floodsend %s: %v", c.name, err)
	}
}

// fill substitutes i for every %d in tmpl.
func fill(tmpl string, i int) string { return strings.ReplaceAll(tmpl, "%d", strconv.Itoa(i)) }

func countArg(ts *testscript.TestScript, a string) int {
	n, err := strconv.Atoi(a)
	if err != nil || n < 0 {
		ts.Fatalf("bad count %q", a)
	}
	return n
}

// recv NAME LINE
//
// ! recv NAME LINE: the next line, if one arrives within the timeout, is
// consumed and must differ from LINE; no line at all also passes.
func cmdRecv(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, len(args) == 2, "recv NAME LINE")
	s := getSession(ts)
	c := s.reader(ts, expand(ts, args[0]))
	want := expand(ts, args[1])
	if neg {
		got, ok := s.takeMaybe(ts, c, "! recv")
		if ok && got == want {
			s.fatalf(ts, "! recv %s: the next line is %q, which it must not be", c.name, got)
		}
		return
	}
	got := s.take(ts, c, "recv", strconv.Quote(want))
	if got != want {
		s.fatalf(ts, "recv %s: the next line differs\n%s%s", c.name, difference(want, got), grammarNote(got))
	}
}

// expect NAME REGEXP
//
// ! expect NAME REGEXP: the next line, if one arrives within the timeout,
// is consumed and must not match; no line at all also passes.
func cmdExpect(ts *testscript.TestScript, neg bool, args []string) {
	usage(ts, len(args) == 2, "expect NAME REGEXP")
	s := getSession(ts)
	c := s.reader(ts, expand(ts, args[0]))
	pat := expand(ts, args[1])
	re, err := regexp.Compile(pat)
	if err != nil {
		ts.Fatalf("expect: %v", err)
	}
	if neg {
		got, ok := s.takeMaybe(ts, c, "! expect")
		if ok && re.MatchString(got) {
			s.fatalf(ts, "! expect %s: the next line %q matches %q, which it must not", c.name, got, pat)
		}
		return
	}
	got := s.take(ts, c, "expect", "a line matching "+strconv.Quote(pat))
	if !re.MatchString(got) {
		s.fatalf(ts, "expect %s: the next line does not match\n  want: a line matching %q\n  got:  %q%s", c.name, pat, got, grammarNote(got))
	}
	s.grammar(ts, c, "expect", got)
}

// takeMaybe consumes the next line if one comes within the timeout.
func (s *session) takeMaybe(ts *testscript.TestScript, c *Client, cmd string) (string, bool) {
	line, err := c.Next(timeout(ts))
	if err != nil {
		ts.Logf("%s %s: no line (%s)", cmd, c.name, describeEnd(err, timeout(ts)))
		return "", false
	}
	got := s.check(ts, c, cmd, line)
	s.grammar(ts, c, cmd, got)
	return got, true
}

// grammarNote adds a remark when a line is outside the server grammar.
func grammarNote(got string) string {
	if _, err := spec.ParseServerLine(got); err != nil {
		return "\n  note: " + err.Error()
	}
	return ""
}

// recvmany [-also LINE]... [-skip REGEXP] [-from NAME [-within DURATION] [-spread DURATION]] NAME COUNT TEMPLATE...
func cmdRecvMany(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "recvmany")
	const syntax = "recvmany [-also LINE]... [-skip REGEXP] [-from NAME [-within DURATION] [-spread DURATION]] NAME COUNT TEMPLATE..."
	s := getSession(ts)
	also := map[string]bool{} // line -> seen
	var alsoOrder []string
	var skip *regexp.Regexp
	var from string
	var within, spread time.Duration
	given := map[string]bool{} // the options given, but -also
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		usage(ts, len(args) > 1, syntax)
		opt, val := args[0], expand(ts, args[1])
		args = args[2:]
		if opt != "-also" && given[opt] {
			ts.Fatalf("recvmany: %s given twice", opt)
		}
		given[opt] = true
		switch opt {
		case "-also":
			also[val] = false
			alsoOrder = append(alsoOrder, val)
		case "-skip":
			var err error
			if skip, err = regexp.Compile(val); err != nil {
				ts.Fatalf("recvmany: %v", err)
			}
		case "-from":
			from = val
		case "-within":
			within = durationArg(ts, "recvmany -within", val)
		case "-spread":
			spread = durationArg(ts, "recvmany -spread", val)
		default:
			usage(ts, false, syntax)
		}
	}
	usage(ts, len(args) >= 3, syntax)
	if (within > 0 || spread > 0) && from == "" {
		ts.Fatalf("recvmany: -within and -spread need -from NAME, the client whose flood sent the lines")
	}
	c := s.reader(ts, expand(ts, args[0]))
	var tmpls []string
	for _, a := range args[2:] {
		tmpls = append(tmpls, expand(ts, a))
	}
	rounds := countArg(ts, args[1])
	var timing *floodTiming
	if from != "" {
		timing = newFloodTiming(ts, s.client(ts, from), rounds, len(tmpls), within, spread)
	}
	// Each round i = 1..COUNT brings every template in turn: line k of the
	// lines expected is template k mod len(tmpls) with %d = round.
	count := rounds * len(tmpls)
	round := func(k int) int { return (k-1)/len(tmpls) + 1 }
	line := func(k int) string { return fill(tmpls[(k-1)%len(tmpls)], round(k)) }
	missing := func() []string {
		var m []string
		for _, l := range alsoOrder {
			if !also[l] {
				m = append(m, strconv.Quote(l))
			}
		}
		return m
	}
	skipped := 0
	for i := 1; i <= count || len(missing()) > 0; {
		var want string
		if i <= count {
			want = strconv.Quote(line(i))
			if m := missing(); len(m) > 0 {
				want += " or one of " + strings.Join(m, ", ")
			}
		} else {
			want = "one of " + strings.Join(missing(), ", ")
		}
		got, at := s.takeAt(ts, c, "recvmany", fmt.Sprintf("%s (line %d of %d)", want, i, count))
		if i <= count && got == line(i) {
			if timing != nil {
				timing.check(ts, s, c, i, count, round(i), got, at)
			}
			i++
			continue
		}
		if seen, ok := also[got]; ok && !seen {
			also[got] = true
			continue
		}
		if skip != nil && skip.MatchString(got) {
			s.grammar(ts, c, "recvmany", got)
			skipped++
			continue
		}
		note := grammarNote(got)
		if skip != nil {
			note = fmt.Sprintf("\n  nor does it match -skip %q", skip.String()) + note
		}
		if i <= count {
			s.fatalf(ts, "recvmany %s: line %d of %d differs\n%s%s", c.name, i, count, difference(line(i), got), note)
		}
		s.fatalf(ts, "recvmany %s: after all %d lines, got %q; still waiting for %s%s", c.name, count, got, strings.Join(missing(), ", "), note)
	}
	if skipped > 0 {
		ts.Logf("recvmany %s: skipped %d lines matching %q", c.name, skipped, skip.String())
	}
	if timing != nil {
		timing.report(ts, c)
	}
}

// recvmerge NAME[,NAME]... [-any] COUNT TEMPLATE [[-any] COUNT TEMPLATE]...
func cmdRecvMerge(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "recvmerge")
	const syntax = "recvmerge NAME[,NAME]... [-any] COUNT TEMPLATE [[-any] COUNT TEMPLATE]..."
	usage(ts, len(args) >= 3, syntax)
	s := getSession(ts)
	var clients []*Client
	for _, n := range words(ts, strings.Split(args[0], ",")) {
		clients = append(clients, s.reader(ts, n))
	}
	// A stream's lines come in order, or, with -any, in any order, each
	// once: for events whose relative order the protocol leaves open, such
	// as the disconnects of different clients (DISC-3).
	type stream struct {
		count int
		tmpl  string
		any   bool
		index map[string]int // -any: line -> its %d
	}
	var streams []stream
	total := 0
	for rest := args[1:]; len(rest) > 0; {
		st := stream{}
		if rest[0] == "-any" {
			st.any, rest = true, rest[1:]
		}
		usage(ts, len(rest) >= 2, syntax)
		st.count, st.tmpl = countArg(ts, rest[0]), expand(ts, rest[1])
		rest = rest[2:]
		if st.any {
			st.index = make(map[string]int, st.count)
			for i := 1; i <= st.count; i++ {
				st.index[fill(st.tmpl, i)] = i
			}
			if len(st.index) != st.count {
				ts.Fatalf("recvmerge: -any %d %q: the lines of the stream are not all different", st.count, st.tmpl)
			}
		}
		streams = append(streams, st)
		total += st.count
	}
	var first []string // the order the first client saw
	for ci, c := range clients {
		pos := make([]int, len(streams))           // lines of each stream seen so far
		seen := make([]map[int]bool, len(streams)) // -any: which were
		for j := range seen {
			seen[j] = map[int]bool{}
		}
		for k := 0; k < total; k++ {
			var nexts []string
			for j, st := range streams {
				switch {
				case pos[j] >= st.count:
				case st.any:
					nexts = append(nexts, fmt.Sprintf("any of the %d lines %q not yet seen", st.count-pos[j], st.tmpl))
				default:
					nexts = append(nexts, strconv.Quote(fill(st.tmpl, pos[j]+1)))
				}
			}
			got := s.take(ts, c, "recvmerge", fmt.Sprintf("one of %s (line %d of %d)", strings.Join(nexts, ", "), k+1, total))
			matched := false
			for j, st := range streams {
				if pos[j] >= st.count {
					continue
				}
				if st.any {
					if i, ok := st.index[got]; ok && !seen[j][i] {
						seen[j][i] = true
						pos[j]++
						matched = true
						break
					}
					continue
				}
				if got == fill(st.tmpl, pos[j]+1) {
					pos[j]++
					matched = true
					break
				}
			}
			if !matched {
				s.fatalf(ts, "recvmerge %s: line %d of %d is %q, which is not the next line of any stream\n  want: one of %s%s", c.name, k+1, total, got, strings.Join(nexts, ", "), grammarNote(got))
			}
			if ci == 0 {
				first = append(first, got)
			} else if got != first[k] {
				s.fatalf(ts, "recvmerge: %s and %s received the lines in different orders (ORDER-2)\n  line %d of %d: %s got %q, %s got %q", clients[0].name, c.name, k+1, total, clients[0].name, first[k], c.name, got)
			}
		}
	}
}

// recvrooms NAME [ROOM...]
func cmdRecvRooms(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "recvrooms")
	usage(ts, len(args) >= 1, "recvrooms NAME [ROOM...]")
	s := getSession(ts)
	c := s.reader(ts, expand(ts, args[0]))
	// ROOMS-1 lists the rooms sorted by folded name, so the expected rooms
	// may be given in any order (or as a range, such as '#r{1..500}$U').
	want := words(ts, args[1:])
	slices.SortStableFunc(want, func(a, b string) int { return strings.Compare(spec.Fold(a), spec.Fold(b)) })
	got := s.take(ts, c, "recvrooms", strconv.Quote(strings.Join(append([]string{"ROOMLIST"}, want...), " ")))
	word, rest, _ := strings.Cut(got, " ")
	if word != "ROOMLIST" {
		s.fatalf(ts, "recvrooms %s: want a ROOMLIST line, got %q%s", c.name, got, grammarNote(got))
	}
	s.grammar(ts, c, "recvrooms", got)
	var all []string
	if rest != "" {
		all = strings.Split(rest, " ")
	}
	for i := 1; i < len(all); i++ {
		if spec.Fold(all[i-1]) >= spec.Fold(all[i]) {
			s.fatalf(ts, "recvrooms %s: ROOMLIST is not sorted by case-folded name without duplicates (ROOMS-1): %q before %q\n  got: %q", c.name, all[i-1], all[i], got)
		}
	}
	mine := all
	scope := "the server's rooms"
	if ts.Getenv(EnvFresh) != "1" {
		// Other scripts share the server: look only at this script's rooms.
		suffix := spec.Fold(ts.Getenv(EnvU))
		mine = nil
		for _, r := range all {
			if strings.HasSuffix(spec.Fold(r), suffix) {
				mine = append(mine, r)
			}
		}
		scope = "the rooms ending in $U=" + ts.Getenv(EnvU)
	}
	if strings.Join(mine, " ") != strings.Join(want, " ") {
		s.fatalf(ts, "recvrooms %s: wrong rooms listed\n  want (%s): %q\n  got:  %q\n  whole line: %q", c.name, scope, want, mine, got)
	}
}

// quiet NAME...
func cmdQuiet(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "quiet")
	usage(ts, len(args) > 0, "quiet NAME...")
	s := getSession(ts)
	var clients []*Client
	for _, n := range words(ts, args) {
		c := s.reader(ts, n)
		c.mu.Lock()
		half := c.wroteEOF
		c.mu.Unlock()
		if half {
			ts.Fatalf("quiet %s: a half-closed client cannot send the barrier PING; use closed", c.name)
		}
		clients = append(clients, c)
	}
	unexpected := func(c *Client) {
		if c.Unread() > 0 {
			line, _ := c.Next(0)
			s.fatalf(ts, "quiet %s: want nothing more, got %q", c.name, bytes.TrimSuffix(line, []byte("\r\n")))
		}
	}
	for _, c := range clients {
		unexpected(c)
	}
	if ts.Getenv(EnvPing) != "1" {
		time.Sleep(quietPeriod)
		for _, c := range clients {
			unexpected(c)
		}
		return
	}
	// A PING barrier (PING-2): everything queued before it arrives first.
	tokens := make([]string, len(clients))
	for i, c := range clients {
		if c.Ended() != nil {
			continue // closed by the server, and nothing unread: quiet
		}
		s.quiets++
		tokens[i] = fmt.Sprintf("quiet-%d", s.quiets)
		if err := c.Write([]byte("PING "+tokens[i]+"\r\n"), "barrier", timeout(ts)); err != nil {
			s.fatalf(ts, "quiet %s: cannot send PING: %v", c.name, err)
		}
	}
	for i, c := range clients {
		if tokens[i] == "" {
			continue
		}
		want := "PONG " + tokens[i]
		got := s.take(ts, c, "quiet", strconv.Quote(want)+" (the answer to the barrier PING, with nothing before it)")
		if got != want {
			s.fatalf(ts, "quiet %s: want nothing more, got %q (before the PONG of the barrier)%s", c.name, got, grammarNote(got))
		}
	}
}

// closed [-skip REGEXP] [-partial] [-reset] NAME...
func cmdClosed(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "closed")
	const syntax = "closed [-skip REGEXP] [-partial] [-reset] NAME..."
	var skip *regexp.Regexp
	partialOK, reset := false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-skip":
			usage(ts, len(args) > 1, syntax)
			var err error
			if skip, err = regexp.Compile(expand(ts, args[1])); err != nil {
				ts.Fatalf("closed: %v", err)
			}
			args = args[2:]
		case "-partial":
			partialOK, args = true, args[1:]
		case "-reset":
			reset, args = true, args[1:]
		default:
			usage(ts, false, syntax)
		}
	}
	usage(ts, len(args) > 0, syntax)
	s := getSession(ts)
	for _, n := range words(ts, args) {
		c := s.reader(ts, n)
		skipped := 0
		for {
			line, err := c.Next(timeout(ts))
			if err == errTimeout {
				s.fatalf(ts, "closed %s: the server did not close the connection within %v", c.name, timeout(ts))
			}
			if err != nil {
				if reset && errors.Is(err, io.EOF) {
					s.fatalf(ts, "closed %s: the server closed the connection gracefully (end of stream) where an abortive close was required: "+
						"LIMIT-8 of PROTOCOL.md has a slow consumer's pending output discarded and its connection reset (a TCP RST, as with SO_LINGER 0)", c.name)
				}
				if reset && !errors.Is(err, syscall.ECONNRESET) {
					s.fatalf(ts, "closed %s: want the connection reset by the server (LIMIT-8), got a read error: %v", c.name, err)
				}
				c.mu.Lock()
				partial := c.partial
				c.mu.Unlock()
				if len(partial) > 0 && !partialOK {
					s.fatalf(ts, "closed %s: the server closed the connection in the middle of a line: %q (ORDER-3)", c.name, partial)
				}
				if skipped > 0 {
					ts.Logf("closed %s: skipped %d lines before the close", c.name, skipped)
				}
				break
			}
			got := s.check(ts, c, "closed", line)
			if skip != nil && skip.MatchString(got) {
				s.grammar(ts, c, "closed", got)
				skipped++
				continue
			}
			s.fatalf(ts, "closed %s: want the connection closed, got a line first: %q%s", c.name, got, grammarNote(got))
		}
	}
}

// await NAME LINE REPLY
func cmdAwait(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "await")
	usage(ts, len(args) == 3, "await NAME LINE REPLY")
	s := getSession(ts)
	c := s.writer(ts, expand(ts, args[0]))
	line, want := expand(ts, args[1]), expand(ts, args[2])
	deadline := time.Now().Add(timeout(ts))
	for tries := 1; ; tries++ {
		if err := c.Write([]byte(line+"\r\n"), fmt.Sprintf("await, try %d", tries), timeout(ts)); err != nil {
			s.fatalf(ts, "await %s: %v", c.name, err)
		}
		got := s.take(ts, c, "await", strconv.Quote(want))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			s.fatalf(ts, "await %s: after %d tries over %v, %q is still answered %q, not %q", c.name, tries, timeout(ts), line, got, want)
		}
		time.Sleep(awaitPause)
	}
}

// awaitPause is the pause between two tries of await.
const awaitPause = 20 * time.Millisecond

// shutdown
func cmdShutdown(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "shutdown")
	usage(ts, len(args) == 0, "shutdown")
	s := getSession(ts)
	if s.server == nil {
		ts.Fatalf("shutdown needs a server started for this script (-exec): give the script a '# server:' header")
	}
	s.tr.add(event{client: &Client{name: "server"}, kind: evNote, text: "asked to shut down"})
	if err := s.server.Shutdown(); err != nil {
		s.fatalf(ts, "shutdown: %v", err)
	}
}

// sleep DURATION
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "sleep")
	usage(ts, len(args) == 1, "sleep DURATION")
	d, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("sleep: %v", err)
	}
	time.Sleep(d)
}
