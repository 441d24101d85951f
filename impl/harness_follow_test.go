package impl_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A testClient that follows a room is read by a goroutine of its own, so
// that it always reads, however much the test sends meanwhile. The reader
// checks that the numbered room messages of each sender ("ROOM <room>
// <sender> <sender>-<i> ...", as messages writes them) arrive complete and
// in order, and that JOIN and LEAVE notes alternate for each user; it
// hands PONGs to pong and every other line to readLine. Its memory does
// not grow with the number of users that come and go: it counts their
// notes, and keeps them one by one only for the users it was asked to
// watch.

// follower is the state of a following client's reader.
type follower struct {
	c    *testClient
	room string

	pongs  chan string   // PONG tokens
	others chan string   // lines that are neither numbered ROOM lines, notes nor PONGs
	done   chan struct{} // closed when the reader ends

	mu      sync.Mutex
	next    map[string]int         // sender -> next index expected
	present map[string]bool        // users in the room, as the notes tell
	joins   int                    // JOIN notes seen, in all
	leaves  int                    // LEAVE notes seen, in all
	watched map[string]*notes      // users whose notes are kept one by one
	times   map[string][]time.Time // sender -> arrival times, for tracked senders
	errs    []string
	closing bool          // the test closes the connection: its end is no error
	changed chan struct{} // closed and replaced whenever a note arrives
}

// notes are the JOIN and LEAVE notes seen about one watched user.
type notes struct {
	joins, leaves int
	leftAt        time.Time // when the last LEAVE arrived
}

// follow starts c's reader. c is a member of room, whose members are
// present (c included); from now on only that reader reads c's socket.
// The reader stops when the test ends.
func (c *testClient) follow(room string, present ...string) {
	f := &follower{
		c: c, room: room,
		pongs:   make(chan string, 64),
		others:  make(chan string, 4096),
		done:    make(chan struct{}),
		next:    map[string]int{},
		present: map[string]bool{},
		watched: map[string]*notes{},
		times:   map[string][]time.Time{},
		changed: make(chan struct{}),
	}
	for _, p := range present {
		f.present[p] = true
	}
	c.f = f
	c.t.Cleanup(c.stop)
	go f.read()
}

// following returns c's follower, and fails the test if c does not follow
// a room.
func (c *testClient) following() *follower {
	if c.f == nil {
		c.t.Fatalf("%s does not follow a room", c.label)
	}
	return c.f
}

// stop closes c's connection and waits for its reader to end.
func (c *testClient) stop() {
	f := c.following()
	f.mu.Lock()
	f.closing = true
	f.mu.Unlock()
	c.conn.Close()
	<-f.done
}

func (f *follower) fail(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) < 20 {
		f.errs = append(f.errs, fmt.Sprintf(f.c.label+": "+format, args...))
	}
}

func (f *follower) read() {
	defer close(f.done)
	c := f.c
	roomPrefix := "ROOM " + f.room + " "
	c.conn.SetReadDeadline(time.Time{}) // it reads until the test ends
	for {
		line, err := c.r.ReadString('\n')
		if err == nil && !strings.HasSuffix(line, "\r\n") {
			err = fmt.Errorf("line %q does not end in CRLF", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		if err != nil {
			f.mu.Lock()
			closing := f.closing
			f.mu.Unlock()
			if !closing {
				f.fail("read: %v", err)
			}
			return
		}
		switch word, rest, _ := strings.Cut(line, " "); {
		case strings.HasPrefix(line, roomPrefix):
			sender, text, _ := strings.Cut(strings.TrimPrefix(line, roomPrefix), " ")
			idx, _, _ := strings.Cut(strings.TrimPrefix(text, sender+"-"), " ")
			i, err := strconv.Atoi(idx)
			if !strings.HasPrefix(text, sender+"-") || err != nil {
				f.other(line)
				continue
			}
			f.mu.Lock()
			if i != f.next[sender] {
				f.errs = append(f.errs, fmt.Sprintf("%s: got %q, want index %d from %s", c.label, line, f.next[sender], sender))
			}
			f.next[sender] = i + 1
			if times, ok := f.times[sender]; ok {
				f.times[sender] = append(times, time.Now())
			}
			f.mu.Unlock()
		case (word == "JOIN" || word == "LEAVE") && strings.HasPrefix(rest, f.room+" "):
			f.note(word, strings.TrimPrefix(rest, f.room+" "), line)
		case word == "PONG":
			select {
			case f.pongs <- rest:
			default:
				f.fail("too many PONGs unread")
			}
		default:
			f.other(line)
		}
	}
}

// note accounts for a JOIN or LEAVE note about user.
func (f *follower) note(word, user, line string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.watched[user]
	if word == "JOIN" {
		if f.present[user] {
			f.errs = append(f.errs, fmt.Sprintf("%s: %q while %s is in the room", f.c.label, line, user))
		}
		f.present[user] = true
		f.joins++
		if w != nil {
			w.joins++
		}
	} else {
		if !f.present[user] {
			f.errs = append(f.errs, fmt.Sprintf("%s: %q while %s is not in the room", f.c.label, line, user))
		}
		delete(f.present, user)
		f.leaves++
		if w != nil {
			w.leaves++
			w.leftAt = time.Now()
		}
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *follower) other(line string) {
	select {
	case f.others <- line:
	default:
		f.fail("too many unexpected lines, such as %q", line)
	}
}

// nextOther returns the next line that is not a numbered room message, a
// note or a PONG.
func (f *follower) nextOther() (string, error) {
	select {
	case line := <-f.others:
		return line, nil
	case <-f.done:
		// The reader queues every line before it ends; when both are ready,
		// select picks either, so look at the lines first.
		select {
		case line := <-f.others:
			return line, nil
		default:
		}
		return "", fmt.Errorf("the connection ended: %v", f.errors())
	case <-time.After(failAfter):
		return "", fmt.Errorf("no line within %v", failAfter)
	}
}

// pong waits for the PONG of token.
func (f *follower) pong(token string) {
	f.c.t.Helper()
	select {
	case got := <-f.pongs:
		if got != token {
			f.c.t.Fatalf("%s: got PONG %q, want PONG %q", f.c.label, got, token)
		}
	case <-f.done:
		select { // as in nextOther: a PONG queued before the end counts
		case got := <-f.pongs:
			if got != token {
				f.c.t.Fatalf("%s: got PONG %q, want PONG %q", f.c.label, got, token)
			}
			return
		default:
		}
		f.c.t.Fatalf("%s: the connection ended while waiting for PONG %s: %v", f.c.label, token, f.errors())
	case <-time.After(failAfter):
		f.c.t.Fatalf("%s: no PONG %s within %v", f.c.label, token, failAfter)
	}
}

func (f *follower) errors() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.errs)
}

// followErrors returns what c's reader found wrong so far.
func (c *testClient) followErrors() []string { return c.following().errors() }

// unexpected returns a line that c's reader handed over and nobody read,
// if there is one.
func (c *testClient) unexpected() (string, bool) {
	select {
	case line := <-c.following().others:
		return line, true
	default:
		return "", false
	}
}

// received returns how many numbered room messages of sender have arrived.
func (c *testClient) received(sender string) int {
	f := c.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next[sender]
}

// track asks c's reader to note when each numbered message of the senders
// arrives.
func (c *testClient) track(senders ...string) {
	f := c.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range senders {
		if f.times[s] == nil {
			f.times[s] = []time.Time{}
		}
	}
}

// arrivals returns when each numbered message of a tracked sender arrived.
func (c *testClient) arrivals(sender string) []time.Time {
	f := c.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.times[sender])
}

// watch asks c's reader to keep the notes about each of users one by one.
func (c *testClient) watch(users ...string) {
	f := c.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range users {
		f.watched[u] = &notes{}
	}
}

// notesOf returns the JOIN and LEAVE notes seen about a watched user, and
// when the last LEAVE arrived.
func (c *testClient) notesOf(user string) notes {
	f := c.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	if w := f.watched[user]; w != nil {
		return *w
	}
	panic("notesOf " + user + ": not watched")
}

// noteTotals returns the JOIN and LEAVE notes seen in all.
func (c *testClient) noteTotals() (joins, leaves int) {
	f := c.following()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.joins, f.leaves
}

// waitLeaves waits until c has seen n LEAVE notes about the watched user.
func (c *testClient) waitLeaves(user string, n int) {
	c.t.Helper()
	c.waitNotes("LEAVE", user, n, func(w *notes) int { return w.leaves })
}

// waitJoins waits until c has seen n JOIN notes about the watched user.
func (c *testClient) waitJoins(user string, n int) {
	c.t.Helper()
	c.waitNotes("JOIN", user, n, func(w *notes) int { return w.joins })
}

func (c *testClient) waitNotes(word, user string, n int, count func(*notes) int) {
	c.t.Helper()
	f := c.following()
	deadline := time.NewTimer(failAfter)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		w := f.watched[user]
		if w == nil {
			f.mu.Unlock()
			c.t.Fatalf("%s: waiting for %s notes of %s, who is not watched", c.label, word, user)
		}
		got, ch := count(w), f.changed
		f.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-f.done:
			c.t.Fatalf("%s: the connection ended while waiting for %s %s: %v", c.label, word, user, f.errors())
		case <-deadline.C:
			c.t.Fatalf("%s: %d %s notes of %s within %v, want %d", c.label, got, word, user, failAfter, n)
		}
	}
}
