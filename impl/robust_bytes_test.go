package impl_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// hostileChars are single characters, or byte sequences, that FRAME-7 and
// FRAME-8 reject wherever they appear in a line, with the error expected.
func hostileChars() []struct{ bytes, want string } {
	var out []struct{ bytes, want string }
	add := func(b, want string) { out = append(out, struct{ bytes, want string }{b, want}) }
	for c := 0; c < 0x20; c++ {
		if c != '\n' { // LF ends the line; CR is tested inside a line
			add(string(rune(c)), spec.ErrInvalidCharacter)
		}
	}
	add("\x7f", spec.ErrInvalidCharacter)
	for r := rune(0x80); r <= 0x9f; r++ { // C1 controls, encoded
		add(string(r), spec.ErrInvalidCharacter)
	}
	for _, r := range []rune{0x2028, 0x2029, 0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069} {
		add(string(r), spec.ErrInvalidCharacter)
	}
	for _, b := range []string{"\x1b[2J", "\x1b]0;title\x07", "\xc2\x9b1A", "\x1b[1A\x1b[2K"} {
		add(b, spec.ErrInvalidCharacter)
	}
	for _, b := range []string{"\xff", "\xfe\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80"} {
		add(b, spec.ErrInvalidUTF8)
	}
	return out
}

// TestRobustHostileBytes: hostile bytes in every position of every
// command (FRAME-7, FRAME-8, in the order of FRAME-9) are answered with one
// ERROR to the sender alone and have no other effect; CR LF inside an
// argument ends the line there; lines of exactly 512 bytes are delivered
// whole and one byte more is refused; ten clients sending 10 MB without a
// newline each cost the server no more than a line buffer; random garbage
// from twenty more leaves every connection usable. The members of the
// room in which it all happens see nothing of it.
func TestRobustHostileBytes(t *testing.T) {
	ts, log := startLogged(t, impl.Config{})
	r := newRoom(t, ts, "#bytes", "m", 2)
	a := ts.dial(t, "a")
	a.send("USERNAME a")
	a.expect("OK Welcome, a!")
	a.send("JOIN #bytes")
	a.expect("OK Joined #bytes (2 users)", "JOIN #bytes m0", "JOIN #bytes m1")
	r.sync()

	// Every hostile character in every position, in one write.
	positions := []string{"%s", "MSG %s", "MSG a%sb", "USERNAME x%s", "JOIN #r%s", "PRIVMSG m0%s hi", "PRIVMSG m0 hi%s", "PING %s", "%sQUIT", "LEAVE%s"}
	var batch bytes.Buffer
	var want []string
	for _, h := range hostileChars() {
		for _, p := range positions {
			fmt.Fprintf(&batch, p+"\r\n", h.bytes)
			want = append(want, "ERROR "+h.want)
		}
	}
	a.write(batch.Bytes())
	a.expect(want...)
	t.Logf("%d hostile lines answered", len(want))

	// CR LF inside an argument: two lines, both from a.
	a.write([]byte("PRIVMSG m0\r\nhi there\r\nUSERNAME m\r\n1\r\n"))
	a.expect("ERROR Usage: PRIVMSG <user> <text>", "ROOM #bytes a hi there", "ERROR Username already set", "ROOM #bytes a 1")
	for _, m := range r.members {
		m.expect("ROOM #bytes a hi there", "ROOM #bytes a 1")
	}

	// Lines of exactly 512 bytes with either terminator, and one more.
	for i, eol := range []string{"\r\n", "\n"} {
		head := fmt.Sprintf("MSG a-%d ", i)
		fits := head + strings.Repeat("x", spec.MaxLineLen-len(head)-len(eol))
		a.write([]byte(fits + eol))
		a.expect("ROOM #bytes a " + fits[len("MSG "):])
		a.write([]byte(fits + "y" + eol))
		a.expect("ERROR " + spec.ErrLineTooLong)
	}
	a.sync()
	r.check(map[string]int{"a": 2})
	b := newBounds(t, "10MB-lines")

	// Ten clients send 10 MB without a newline each. Halfway through, the
	// server holds no more than a line's worth for each.
	const writers, total, chunk = 10, 10 << 20, 1 << 20
	junk := bytes.Repeat([]byte("MSG 0123456789abcdef"), chunk/20)
	crowd := dialCrowd(t, ts.addr, writers)
	var half, rest sync.WaitGroup
	half.Add(writers)
	rest.Add(writers)
	resume := make(chan struct{})
	for i, c := range crowd.clients {
		go func() {
			defer rest.Done()
			for sent := 0; sent < total; sent += chunk {
				if sent == total/2 {
					half.Done()
					<-resume
				}
				if _, err := c.conn.Write(junk); err != nil {
					t.Errorf("writer %d: %v", i, err)
					if sent < total/2 {
						half.Done()
					}
					return
				}
			}
		}()
	}
	half.Wait()
	b.peak(writers, 64*KiB, 2.1)
	close(resume)
	rest.Wait()
	crowd.expectEach("ERROR " + spec.ErrLineTooLong)
	crowd.each("still the same line\nPING %d\n")
	crowd.expectEach("PONG %d")
	crowd.close(false)

	// Random garbage from twenty more, then a PING: each connection is
	// still usable, and every line it got is in the server grammar.
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := dialCrowd(t, ts.addr, 20)
	for i, c := range garbage.clients {
		data := make([]byte, 64*KiB)
		for j := range data {
			data[j] = byte(rng.UintN(256))
			if rng.UintN(40) == 0 {
				data[j] = '\n'
			}
		}
		data = fmt.Appendf(data, "\nPING end-%d\n", i)
		c.write(data)
	}
	for i, c := range garbage.clients {
		for n := 0; ; n++ {
			line, err := c.readLine()
			if err != nil {
				t.Fatalf("garbage %d: after %d lines: %v", i, n, err)
			}
			if _, err := spec.ParseServerLine(line); err != nil {
				t.Fatalf("garbage %d: %q: %v", i, line, err)
			}
			if line == fmt.Sprintf("PONG end-%d", i) {
				break
			}
		}
	}
	garbage.close(true)
	log.waitCount(t, "msg=disconnect", writers+20)
	b.after(writers + 20)
	r.check(map[string]int{"a": 2})
	servedNow(t, ts, "newcomer")
}
