package commands

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

// The commands that receive: recv, expect, recvmany, recveach, recvmerge,
// recvrooms, quiet, closed, await.

// recv NAME LINE
//
// ! recv NAME LINE: the next line, if one arrives within the timeout, is
// consumed and must differ from LINE; no line at all also passes.
func cmdRecv(c *call) {
	ts, s, neg, args := c.ts, c.s, c.neg, c.args
	cl := s.reader(ts, expand(ts, args[0]))
	want := expand(ts, args[1])
	if neg {
		got, ok := s.takeMaybe(ts, cl, "! recv")
		if ok && got == want {
			s.fatalf(ts, "! recv %s: the next line is %q, which it must not be", cl.name, got)
		}
		return
	}
	got := s.take(ts, cl, "recv", strconv.Quote(want))
	if got != want {
		s.fatalf(ts, "recv %s: the next line differs\n%s%s", cl.name, difference(want, got), grammarNote(got))
	}
}

// expect NAME REGEXP
//
// ! expect NAME REGEXP: the next line, if one arrives within the timeout,
// is consumed and must not match; no line at all also passes.
func cmdExpect(c *call) {
	ts, s, neg, args := c.ts, c.s, c.neg, c.args
	cl := s.reader(ts, expand(ts, args[0]))
	pat := expand(ts, args[1])
	re, err := regexp.Compile(pat)
	if err != nil {
		ts.Fatalf("expect: %v", err)
	}
	if neg {
		got, ok := s.takeMaybe(ts, cl, "! expect")
		if ok && re.MatchString(got) {
			s.fatalf(ts, "! expect %s: the next line %q matches %q, which it must not", cl.name, got, pat)
		}
		return
	}
	got := s.take(ts, cl, "expect", "a line matching "+strconv.Quote(pat))
	if !re.MatchString(got) {
		s.fatalf(ts, "expect %s: the next line does not match\n  want: a line matching %q\n  got:  %q%s", cl.name, pat, got, grammarNote(got))
	}
	s.grammar(ts, cl, "expect", got)
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
func cmdRecvMany(c *call) {
	ts, s, args := c.ts, c.s, c.args
	also := map[string]bool{} // line -> seen
	var alsoOrder []string
	for _, val := range c.opts["-also"] {
		also[val] = false
		alsoOrder = append(alsoOrder, val)
	}
	var skip *regexp.Regexp
	if c.opts.has("-skip") {
		var err error
		if skip, err = regexp.Compile(c.opts.value("-skip")); err != nil {
			ts.Fatalf("recvmany: %v", err)
		}
	}
	from := c.opts.value("-from")
	var within, spread time.Duration
	if c.opts.has("-within") {
		within = durationArg(ts, "recvmany -within", c.opts.value("-within"))
	}
	if c.opts.has("-spread") {
		spread = durationArg(ts, "recvmany -spread", c.opts.value("-spread"))
	}
	if (within > 0 || spread > 0) && from == "" {
		ts.Fatalf("recvmany: -within and -spread need -from NAME, the client whose flood sent the lines")
	}
	cl := s.reader(ts, expand(ts, args[0]))
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
		got, at := s.takeAt(ts, cl, "recvmany", fmt.Sprintf("%s (line %d of %d)", want, i, count))
		if i <= count && got == line(i) {
			if timing != nil {
				timing.check(ts, s, cl, i, count, round(i), got, at)
			}
			i++
			continue
		}
		if seen, ok := also[got]; ok && !seen {
			also[got] = true
			continue
		}
		if skip != nil && skip.MatchString(got) {
			s.grammar(ts, cl, "recvmany", got)
			skipped++
			continue
		}
		note := grammarNote(got)
		if skip != nil {
			note = fmt.Sprintf("\n  nor does it match -skip %q", skip.String()) + note
		}
		if i <= count {
			s.fatalf(ts, "recvmany %s: line %d of %d differs\n%s%s", cl.name, i, count, difference(line(i), got), note)
		}
		s.fatalf(ts, "recvmany %s: after all %d lines, got %q; still waiting for %s%s", cl.name, count, got, strings.Join(missing(), ", "), note)
	}
	if skipped > 0 {
		ts.Logf("recvmany %s: skipped %d lines matching %q", cl.name, skipped, skip.String())
	}
	if timing != nil {
		timing.report(ts, cl)
	}
}

// recveach NAMES TEMPLATE
func cmdRecvEach(c *call) {
	ts, s, args := c.ts, c.s, c.args
	tmpl := expand(ts, args[1])
	for i, name := range words(ts, strings.Split(args[0], ",")) {
		cl := s.reader(ts, name)
		want := fill(tmpl, i+1)
		got := s.take(ts, cl, "recveach", strconv.Quote(want))
		if got != want {
			s.fatalf(ts, "recveach %s: the next line differs\n%s%s", cl.name, difference(want, got), grammarNote(got))
		}
	}
}

// recvmerge NAME[,NAME]... [-any] COUNT TEMPLATE [[-any] COUNT TEMPLATE]...
func cmdRecvMerge(c *call) {
	ts, s, args := c.ts, c.s, c.args
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
		if len(rest) < 2 {
			c.usage()
		}
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
	for ci, cl := range clients {
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
			got := s.take(ts, cl, "recvmerge", fmt.Sprintf("one of %s (line %d of %d)", strings.Join(nexts, ", "), k+1, total))
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
				s.fatalf(ts, "recvmerge %s: line %d of %d is %q, which is not the next line of any stream\n  want: one of %s%s", cl.name, k+1, total, got, strings.Join(nexts, ", "), grammarNote(got))
			}
			if ci == 0 {
				first = append(first, got)
			} else if got != first[k] {
				s.fatalf(ts, "recvmerge: %s and %s received the lines in different orders (ORDER-2)\n  line %d of %d: %s got %q, %s got %q", clients[0].name, cl.name, k+1, total, clients[0].name, first[k], cl.name, got)
			}
		}
	}
}

// recvrooms NAME [ROOM...]
func cmdRecvRooms(c *call) {
	ts, s, args := c.ts, c.s, c.args
	cl := s.reader(ts, expand(ts, args[0]))
	// ROOMS-1 lists the rooms sorted by folded name, so the expected rooms
	// may be given in any order (or as a range, such as '#r{1..500}$U').
	want := words(ts, args[1:])
	slices.SortStableFunc(want, func(a, b string) int { return strings.Compare(spec.Fold(a), spec.Fold(b)) })
	got := s.take(ts, cl, "recvrooms", strconv.Quote(strings.Join(append([]string{"ROOMLIST"}, want...), " ")))
	word, rest, _ := strings.Cut(got, " ")
	if word != "ROOMLIST" {
		s.fatalf(ts, "recvrooms %s: want a ROOMLIST line, got %q%s", cl.name, got, grammarNote(got))
	}
	s.grammar(ts, cl, "recvrooms", got)
	var all []string
	if rest != "" {
		all = strings.Split(rest, " ")
	}
	for i := 1; i < len(all); i++ {
		if spec.Fold(all[i-1]) >= spec.Fold(all[i]) {
			s.fatalf(ts, "recvrooms %s: ROOMLIST is not sorted by case-folded name without duplicates (ROOMS-1): %q before %q\n  got: %q", cl.name, all[i-1], all[i], got)
		}
	}
	mine := all
	scope := "the server's rooms"
	if ts.Getenv(envFresh) != "1" {
		// Other scripts share the server: look only at this script's rooms.
		suffix := spec.Fold(ts.Getenv(envU))
		mine = nil
		for _, r := range all {
			if strings.HasSuffix(spec.Fold(r), suffix) {
				mine = append(mine, r)
			}
		}
		scope = "the rooms ending in $U=" + ts.Getenv(envU)
	}
	if strings.Join(mine, " ") != strings.Join(want, " ") {
		s.fatalf(ts, "recvrooms %s: wrong rooms listed\n  want (%s): %q\n  got:  %q\n  whole line: %q", cl.name, scope, want, mine, got)
	}
}

// quiet NAME...
func cmdQuiet(c *call) {
	ts, s, args := c.ts, c.s, c.args
	var clients []*Client
	for _, n := range words(ts, args) {
		cl := s.reader(ts, n)
		cl.mu.Lock()
		half := cl.wroteEOF
		cl.mu.Unlock()
		if half {
			ts.Fatalf("quiet %s: a half-closed client cannot send the barrier PING; use closed", cl.name)
		}
		clients = append(clients, cl)
	}
	unexpected := func(cl *Client) {
		if cl.Unread() > 0 {
			line, _ := cl.Next(0)
			s.fatalf(ts, "quiet %s: want nothing more, got %q", cl.name, bytes.TrimSuffix(line, []byte("\r\n")))
		}
	}
	for _, cl := range clients {
		unexpected(cl)
	}
	if ts.Getenv(envPing) != "1" {
		time.Sleep(quietPeriod)
		for _, cl := range clients {
			unexpected(cl)
		}
		return
	}
	// A PING barrier (PING-2): everything queued before it arrives first.
	tokens := make([]string, len(clients))
	for i, cl := range clients {
		if cl.Ended() != nil {
			continue // closed by the server, and nothing unread: quiet
		}
		s.quiets++
		tokens[i] = fmt.Sprintf("quiet-%d", s.quiets)
		if err := cl.Write([]byte("PING "+tokens[i]+"\r\n"), "barrier", timeout(ts)); err != nil {
			s.fatalf(ts, "quiet %s: cannot send PING: %v", cl.name, err)
		}
	}
	for i, cl := range clients {
		if tokens[i] == "" {
			continue
		}
		want := "PONG " + tokens[i]
		got := s.take(ts, cl, "quiet", strconv.Quote(want)+" (the answer to the barrier PING, with nothing before it)")
		if got != want {
			s.fatalf(ts, "quiet %s: want nothing more, got %q (before the PONG of the barrier)%s", cl.name, got, grammarNote(got))
		}
	}
}

// closed [-skip REGEXP] [-partial] [-reset] NAME...
func cmdClosed(c *call) {
	ts, s, args := c.ts, c.s, c.args
	var skip *regexp.Regexp
	if c.opts.has("-skip") {
		var err error
		if skip, err = regexp.Compile(c.opts.value("-skip")); err != nil {
			ts.Fatalf("closed: %v", err)
		}
	}
	partialOK, reset := c.opts.has("-partial"), c.opts.has("-reset")
	for _, n := range words(ts, args) {
		cl := s.reader(ts, n)
		skipped := 0
		for {
			line, err := cl.Next(timeout(ts))
			if err == errTimeout {
				s.fatalf(ts, "closed %s: the server did not close the connection within %v", cl.name, timeout(ts))
			}
			if err != nil {
				if reset && errors.Is(err, io.EOF) {
					s.fatalf(ts, "closed %s: the server closed the connection gracefully (end of stream) where an abortive close was required: "+
						"LIMIT-8 of PROTOCOL.md has a slow consumer's pending output discarded and its connection reset (a TCP RST, as with SO_LINGER 0)", cl.name)
				}
				if reset && !errors.Is(err, syscall.ECONNRESET) {
					s.fatalf(ts, "closed %s: want the connection reset by the server (LIMIT-8), got a read error: %v", cl.name, err)
				}
				cl.mu.Lock()
				partial := cl.partial
				cl.mu.Unlock()
				if len(partial) > 0 && !partialOK {
					s.fatalf(ts, "closed %s: the server closed the connection in the middle of a line: %q (ORDER-3)", cl.name, partial)
				}
				if skipped > 0 {
					ts.Logf("closed %s: skipped %d lines before the close", cl.name, skipped)
				}
				cl.consumedEnd()
				break
			}
			got := s.check(ts, cl, "closed", line)
			if skip != nil && skip.MatchString(got) {
				s.grammar(ts, cl, "closed", got)
				skipped++
				continue
			}
			s.fatalf(ts, "closed %s: want the connection closed, got a line first: %q%s", cl.name, got, grammarNote(got))
		}
	}
}

// await NAME LINE REPLY
func cmdAwait(c *call) {
	if c.opts.has("-fresh") {
		awaitFresh(c)
		return
	}
	if c.opts.has("-node") {
		c.ts.Fatalf("await -node goes with -fresh")
	}
	ts, s, args := c.ts, c.s, c.args
	cl := s.writer(ts, expand(ts, args[0]))
	line, want := expand(ts, args[1]), expand(ts, args[2])
	deadline := time.Now().Add(timeout(ts))
	for tries := 1; ; tries++ {
		if err := cl.Write([]byte(line+"\r\n"), fmt.Sprintf("await, try %d", tries), timeout(ts)); err != nil {
			s.fatalf(ts, "await %s: %v", cl.name, err)
		}
		got := s.take(ts, cl, "await", strconv.Quote(want))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			s.fatalf(ts, "await %s: after %d tries over %v, %q is still answered %q, not %q", cl.name, tries, timeout(ts), line, got, want)
		}
		time.Sleep(awaitPause)
	}
}

// awaitFresh is await -fresh [-node N] NAME LINE REPLY: each try is a new
// connection called NAME, which sends LINE and waits a little for one
// line. One answered REPLY stays open and ends the command; any other is
// closed, and the next try begins. A line that is never answered, such as
// one that a cluster's node holds until its log is back, cannot hold up
// the tries that follow it.
func awaitFresh(c *call) {
	ts, s, args := c.ts, c.s, c.args
	name, line, want := expand(ts, args[0]), expand(ts, args[1]), expand(ts, args[2])
	addr := ts.Getenv(envAddr)
	if c.opts.has("-node") {
		addr = s.nodeAddr(ts, "await -node", c.opts.value("-node"))
	}
	deadline := time.Now().Add(timeout(ts))
	wait := min(awaitFreshWait, timeout(ts)/4)
	for tries := 1; ; tries++ {
		s.connect(ts, name, addr, false, 0)
		cl := s.clients[name]
		if err := cl.Write([]byte(line+"\r\n"), fmt.Sprintf("await -fresh, try %d", tries), timeout(ts)); err != nil {
			s.fatalf(ts, "await %s: %v", name, err)
		}
		got, err := cl.Next(wait)
		answer := "no answer within " + wait.String()
		if err == nil {
			text := s.check(ts, cl, "await", got)
			if text == want {
				return
			}
			answer = strconv.Quote(text)
		}
		cl.Close(false)
		if time.Now().After(deadline) {
			s.fatalf(ts, "await -fresh %s: after %d tries over %v, %q on a new connection is still answered %s, not %q", name, tries, timeout(ts), line, answer, want)
		}
		time.Sleep(awaitPause)
	}
}

// awaitFreshWait is how long a try of await -fresh waits for its answer.
const awaitFreshWait = 500 * time.Millisecond

// awaitPause is the pause between two tries of await.
const awaitPause = 20 * time.Millisecond
