package impl

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"roomchat.dev/roomchat/spec"
)

// recordConn is a socket that takes every byte at once and records each
// write: a copy of its bytes and where they were.
type recordConn struct {
	net.Conn // not used beyond the methods below
	writes   [][]byte
	from     []*byte
}

func (r *recordConn) SetWriteDeadline(time.Time) error { return nil }

func (r *recordConn) Write(p []byte) (int, error) {
	r.writes = append(r.writes, bytes.Clone(p))
	r.from = append(r.from, &p[0])
	return len(p), nil
}

// TestWriteBatch: a writer copies the lines of a batch into one buffer and
// writes each buffer with one call, up to writeChunk bytes, never with a
// vectored write (which would leave the socket holding an iovec per line
// of its largest batch); a batch of one line, or a line of writeChunk
// bytes or more, is written from where it is.
func TestWriteBatch(t *testing.T) {
	line := func(i, size int) []byte {
		b := fmt.Appendf(nil, "ROOM #r alice %d ", i)
		b = append(b, bytes.Repeat([]byte("x"), size-len(b)-2)...)
		return append(b, "\r\n"...)
	}
	big := line(-1, writeChunk+10)
	const full = writeChunk / 100 * 100 // 100-byte lines in a chunk
	for _, tc := range []struct {
		name  string
		batch net.Buffers
		want  []int // the size of each write
		own   []int // the writes made from a line of the batch: its index
	}{
		{"one line", net.Buffers{line(0, 40)}, []int{40}, []int{0}},
		{"a burst", lines(line, 1000, 40), []int{40000}, nil},
		{"more than a chunk", lines(line, 3000, 100), []int{full, full, full, full, 300000 - 4*full}, nil},
		// The last line, alone, is written from where it is too.
		{"a big line among others", net.Buffers{line(0, 40), line(1, 40), big, line(2, 40)}, []int{80, len(big), 40}, []int{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := New(Config{})
			conn := &recordConn{}
			c := newClient(srv, 1, conn)
			if err := c.write(tc.batch, nil); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, w := range conn.writes {
				sizes = append(sizes, len(w))
			}
			if fmt.Sprint(sizes) != fmt.Sprint(tc.want) {
				t.Fatalf("writes of %v bytes, want %v", sizes, tc.want)
			}
			if got, want := bytes.Join(conn.writes, nil), bytes.Join(tc.batch, nil); !bytes.Equal(got, want) {
				t.Fatalf("wrote %d bytes that differ from the batch's %d", len(got), len(want))
			}
			own := 0
			for i, p := range conn.from {
				for j, l := range tc.batch {
					if p == &l[0] {
						if own >= len(tc.own) || tc.own[own] != j {
							t.Errorf("write %d was made from line %d of the batch, not a copy", i, j)
						}
						own++
					}
				}
			}
			if own != len(tc.own) {
				t.Errorf("%d writes from the batch's own lines, want %d", own, len(tc.own))
			}
		})
	}
}

// lines returns n lines of size bytes made by line.
func lines(line func(i, size int) []byte, n, size int) net.Buffers {
	b := make(net.Buffers, n)
	for i := range b {
		b[i] = line(i, size)
	}
	return b
}

// TestOneWriteATurn: the lines one turn of the loop queues for a client go
// out in one write. A member of two rooms that a user leaves at once, by
// QUIT, receives both LEAVE notes; every line is written at once
// (CoalesceDelay < 0), yet the first does not start a writer that could
// take it alone: writers start when the turn is done.
func TestOneWriteATurn(t *testing.T) {
	h := newHandLoop(t, Config{Offer: spec.ExtRooms, CoalesceDelay: -1})
	x, bob := h.connect(), h.connect()
	for _, p := range []*pipeClient{x, bob} {
		h.send(p, "CAPS rooms")
		p.expect("OK Enabled rooms")
	}
	h.send(x, "USERNAME x")
	x.expect("OK Welcome, x!")
	h.send(bob, "USERNAME bob")
	bob.expect("OK Welcome, bob!")
	for _, r := range []string{"#r", "#s"} {
		h.send(x, "JOIN "+r)
		x.expect("OK Joined " + r + " (0 users)")
		h.send(bob, "JOIN "+r)
		bob.expect("OK Joined "+r+" (1 users)", "JOIN "+r+" x")
		x.expect("JOIN " + r + " bob")
	}
	h.quiesce()

	before := bob.socket.writes.Load()
	h.l.onRead(readEvent{c: x.client, line: []byte("QUIT")})
	if bob.out.writing || len(bob.out.turn()) != 2 || !slices.Contains(h.l.handing, bob.client) {
		t.Fatalf("bob's lines do not wait for the end of the turn: writing %v, %d bytes of the turn", bob.out.writing, bob.out.localBytes)
	}
	h.l.settle()
	bob.expect("LEAVE #r x", "LEAVE #s x")
	x.expect("OK Goodbye!")
	x.expectEOF()
	h.quiesce()
	if n := bob.socket.writes.Load() - before; n != 1 {
		t.Fatalf("bob's two LEAVE notes of one turn took %d writes, want 1", n)
	}
	if len(h.l.starting) != 0 {
		t.Fatalf("%d writers still to start after the turn", len(h.l.starting))
	}
}

// TestWriteGroup: the writer goroutine of a group writes to each client's
// socket what it takes without waiting; a client whose socket is full gets
// a writer of its own, which carries on from the byte where the socket
// stopped taking them, so that its peer receives every line intact and in
// order once it reads, and the others of the group are not held back.
func TestWriteGroup(t *testing.T) {
	srv := New(Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type pair struct {
		c    *client
		peer net.Conn
		want []byte
	}
	pairs := make([]pair, 3)
	for i := range pairs {
		conn, peer := acceptPair(t, ln)
		pairs[i] = pair{c: newClient(srv, uint64(i+1), conn), peer: peer}
	}
	if pairs[0].c.raw == nil {
		t.Skip("no writes without waiting on this system")
	}
	// The middle one's socket is small and its peer does not read yet.
	// (A receive buffer made small after the connection was set up could
	// stall the transfer on loopback: only the sender's is.)
	pairs[1].c.conn.(*net.TCPConn).SetWriteBuffer(4096)
	const big = 1 << 30
	for i, p := range pairs {
		n := 20
		if i == 1 {
			n = 20000 // about 1 MB: more than the sockets hold
		}
		for j := range n {
			line := fmt.Appendf(nil, "ROOM #r alice line %d to client %d, with some words to make it longer\r\n", j, i)
			p.want = append(p.want, line...)
			if _, ok, first := p.c.out.push(line, big, big, false, false); !ok || first != (j == 0) {
				t.Fatalf("push %d to client %d: ok %v, first %v", j, i, ok, first)
			}
		}
		if act := p.c.out.handOver(0, srv.clock.now()); act != writerStart {
			t.Fatalf("client %d: hand over says %v, want a writer started", i, act)
		}
		pairs[i] = p
	}
	writerOut, loopDone := make(chan writerEvent, 8), make(chan struct{})
	group := []*client{pairs[0].c, pairs[1].c, pairs[2].c}
	srv.wg.Add(1)
	writeGroup(group, toLoop(writerOut, loopDone)) // returns once no client needs it

	for i, p := range pairs {
		p.c.out.mu.Lock()
		writing, pending := p.c.out.writing, p.c.out.pending.Load()
		p.c.out.mu.Unlock()
		if i == 1 {
			if !writing || pending == 0 {
				t.Fatalf("client 1, whose socket is full: writing %v with %d bytes pending; want its own writer, with bytes pending", writing, pending)
			}
			continue
		}
		if writing || pending != 0 {
			t.Fatalf("client %d: writing %v with %d bytes pending after its group; want all written, no writer", i, writing, pending)
		}
	}
	for i, p := range pairs {
		p.peer.SetReadDeadline(time.Now().Add(failAfter))
		got := make([]byte, len(p.want))
		if n, err := io.ReadFull(p.peer, got); err != nil {
			k := 0
			for k < n && got[k] == p.want[k] {
				k++
			}
			for len(writerOut) > 0 {
				ev := <-writerOut
				t.Logf("writer event: %+v", ev)
			}
			t.Fatalf("client %d: %v after %d bytes of %d, the first %d right: got %q want %q", i, err, n, len(p.want), k, got[k:min(k+80, n)], p.want[k:k+80])
		}
		if !bytes.Equal(got, p.want) {
			t.Fatalf("client %d received %d bytes that differ from the %d queued", i, len(got), len(p.want))
		}
	}
	srv.wg.Wait() // client 1's own writer, once its queue is empty
	c := pairs[1].c
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	if c.out.writing || c.out.pending.Load() != 0 {
		t.Fatalf("client 1: writing %v with %d bytes pending at the end", c.out.writing, c.out.pending.Load())
	}
	if len(writerOut) != 0 {
		t.Fatalf("%d reports to the loop, want none", len(writerOut))
	}
}

// acceptPair dials ln and returns both ends of the connection, the
// accepted one first; they are closed when the test ends.
func acceptPair(t *testing.T, ln net.Listener) (conn, peer net.Conn) {
	t.Helper()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	conn, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, peer
}
