package impl_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// BenchmarkFanout measures one room message going through the whole server
// in process — reader, loop, formatting once, one queue push per member,
// writers — to rooms of 1, 100 and 1000 members that all read at once. One
// op is one message delivered to every member.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			benchFanout(b, n)
		})
	}
}

func benchFanout(b *testing.B, n int) {
	srv := impl.New(impl.Config{})
	members := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	for i := range members {
		server, client := net.Pipe()
		if err := srv.ServeConnForTest(server); err != nil {
			b.Fatal(err)
		}
		members[i] = client
		readers[i] = bufio.NewReader(client)
	}
	// Setup: everyone joins; each waits for its own PONG, then discards the
	// rest of its setup lines in its counting goroutine.
	for i, c := range members {
		fmt.Fprintf(c, "USERNAME m%d\nJOIN #bench\nPING ready\n", i)
		for {
			line, err := readers[i].ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if string(line) == "PONG ready\r\n" {
				break
			}
		}
	}
	want := []byte("ROOM #bench m0 hello, everybody in this room\r\n")
	var wg sync.WaitGroup
	for i := range members {
		wg.Go(func() {
			got := 0
			for got < b.N {
				line, err := readers[i].ReadSlice('\n')
				if err != nil {
					b.Error(err)
					return
				}
				if bytes.Equal(line, want) {
					got++
				}
			}
		})
	}
	msg := []byte("MSG hello, everybody in this room\n")
	b.ReportAllocs()
	b.ResetTimer()
	go func() {
		w := bufio.NewWriter(members[0])
		for range b.N {
			w.Write(msg)
		}
		w.Flush()
	}()
	wg.Wait()
	b.StopTimer()
	for _, c := range members {
		c.Close()
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriter measures the writer path over loopback TCP: one client
// receives lines from another's private messages. "burst" sends them all at
// once, so the writer coalesces whatever is pending into one vectored
// write; "one-by-one" waits for each line, so nothing can be coalesced.
// With the default -coalesce, a line to a client written to less than
// DefaultCoalesceDelay before waits for the flush timer (flush.go): "one-by-one-coalesced" shows
// that price, which a client in a request-response exchange with the
// server itself never pays.
func BenchmarkWriter(b *testing.B) {
	for _, bc := range []struct {
		name     string
		burst    bool
		coalesce time.Duration
	}{
		{"burst", true, 0},
		{"one-by-one", false, -1},
		{"one-by-one-coalesced", false, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := impl.New(impl.Config{CoalesceDelay: bc.coalesce})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			dial := func(name string) (net.Conn, *bufio.Reader) {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				r := bufio.NewReader(c)
				fmt.Fprintf(c, "USERNAME %s\n", name)
				r.ReadSlice('\n')
				return c, r
			}
			src, srcR := dial("src")
			dst, dstR := dial("dst")
			go io.Copy(io.Discard, srcR) // the OK Sent replies
			line := []byte("PRIVMSG dst a line of a burst of private messages\n")
			b.SetBytes(int64(len("PRIVMSG src a line of a burst of private messages\r\n")))
			b.ReportAllocs()
			b.ResetTimer()
			if bc.burst {
				go func() {
					w := bufio.NewWriter(src)
					for range b.N {
						w.Write(line)
					}
					w.Flush()
				}()
				for range b.N {
					if _, err := dstR.ReadSlice('\n'); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				for range b.N {
					src.Write(line)
					if _, err := dstR.ReadSlice('\n'); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			src.Close()
			dst.Close()
			srv.Shutdown(context.Background())
			<-served
		})
	}
}
