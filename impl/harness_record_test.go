package impl_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// A recorder reads a testClient's every line in a goroutine of its own,
// so that the client always reads, however much the test sends meanwhile,
// and keeps them in the order they came, for the test to inspect: unlike a
// follower (harness_follow_test.go), it knows nothing of rooms, so it
// serves a member of several. A numbered room message ("ROOM <room>
// <sender> <sender>-<i> <padding>", as messages and roomMessages write
// them) is kept without its padding, so that long floods cost little.

// recorder is the state of a recording client's reader.
type recorder struct {
	c    *testClient
	done chan struct{} // closed when the reader ends

	mu      sync.Mutex
	lines   []string
	ended   bool          // reading has ended
	err     error         // how, unless the test closed the connection
	closing bool          // the test closes the connection: its end is no error
	changed chan struct{} // closed and replaced whenever a line arrives or reading ends
	cursor  int           // lines before it were consumed by wait
}

// record starts c's recorder; from now on only it reads c's socket. It
// stops when the test ends.
func (c *testClient) record() *recorder {
	r := &recorder{c: c, done: make(chan struct{}), changed: make(chan struct{})}
	c.t.Cleanup(func() {
		r.mu.Lock()
		r.closing = true
		r.mu.Unlock()
		c.conn.Close()
		<-r.done
	})
	go r.read()
	return r
}

func (r *recorder) read() {
	defer close(r.done)
	r.c.conn.SetReadDeadline(time.Time{}) // it reads until the test ends
	for {
		line, err := r.c.r.ReadString('\n')
		if err == nil && !strings.HasSuffix(line, "\r\n") {
			err = fmt.Errorf("line %q does not end in CRLF", line)
		}
		r.mu.Lock()
		if err != nil {
			r.ended = true
			if !r.closing {
				r.err = err
			}
			close(r.changed)
			r.mu.Unlock()
			return
		}
		r.lines = append(r.lines, compact(strings.TrimSuffix(line, "\r\n")))
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
}

// compact returns a line as a recorder keeps it: a numbered room message
// as "ROOM <room> <sender> <sender>-<i>", without its padding; any other
// line whole.
func compact(line string) string {
	if f := strings.SplitN(line, " ", 5); len(f) == 5 && f[0] == "ROOM" && strings.HasPrefix(f[3], f[2]+"-") {
		return strings.Join(f[:4], " ")
	}
	return line
}

// wait waits for the first line equal to want after the lines consumed by
// earlier waits, consumes it and those before it, and returns its index.
func (r *recorder) wait(want string) int {
	r.c.t.Helper()
	deadline := time.NewTimer(failAfter)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i := r.cursor; i < len(r.lines); i++ {
			if r.lines[i] == want {
				r.cursor = i + 1
				r.mu.Unlock()
				return i
			}
		}
		ch, ended, err := r.changed, r.ended, r.err
		r.mu.Unlock()
		if ended {
			r.c.t.Fatalf("%s: the connection ended (%v) while waiting for %q", r.c.label, err, want)
		}
		select {
		case <-ch:
		case <-deadline.C:
			r.c.t.Fatalf("%s: no %q within %v", r.c.label, want, failAfter)
		}
	}
}

// sync is a barrier (PING-2): once it returns, every line the client sent
// before has been processed and what it caused has been recorded. It
// returns the index of the PONG.
func (r *recorder) sync() int {
	r.c.t.Helper()
	return r.wait("PONG " + r.c.ping())
}

// syncRecorders is a barrier for several recording clients at once: each
// pings, then each waits for its PONG.
func syncRecorders(rs ...*recorder) {
	tokens := make([]string, len(rs))
	for i, r := range rs {
		r.c.t.Helper()
		tokens[i] = r.c.ping()
	}
	for i, r := range rs {
		r.wait("PONG " + tokens[i])
	}
}

// snapshot returns the lines recorded so far.
func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines)
}

// failed returns how reading ended, if it ended before the test closed
// the connection.
func (r *recorder) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// find returns the index of the first line recorded equal to want, or -1.
func (r *recorder) find(want string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Index(r.lines, want)
}
