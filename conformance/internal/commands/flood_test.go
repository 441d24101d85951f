package commands

import (
	"io"
	"net"
	"roomchat.dev/roomchat/conformance/dial"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startSink starts a server that reads and discards whatever its clients
// send.
func startSink(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// TestFloodRecord checks the send times a flood records: with a rate, when
// each round was due; without, one time per chunk written.
func TestFloodRecord(t *testing.T) {
	c, err := Dial(dial.Dialer{}, startSink(t), "a", NewTranscript(), time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.shutdown()

	t.Run("paced", func(t *testing.T) {
		const rate = 50.0
		f := newFlood(5, []string{"OK %d"}, rate)
		before := time.Now()
		if err := c.writeFlood(f, time.Second); err != nil {
			t.Fatal(err)
		}
		if d, least := time.Since(before), 4*time.Second/rate; d < least {
			t.Errorf("5 rounds at %v a second took %v, less than %v", rate, d, least)
		}
		sent := f.rec.sent
		if len(sent) != 5 || sent[0].Before(before) {
			t.Fatalf("recorded %v, want 5 times from %v", sent, before)
		}
		for i, at := range sent {
			if got, want := at.Sub(sent[0]), time.Duration(float64(i)*float64(time.Second)/rate); got != want {
				t.Errorf("round %d recorded %v after round 1, want %v (when it was due)", i+1, got, want)
			}
		}
	})

	t.Run("chunked", func(t *testing.T) {
		// Rounds of 1 KiB: 16 of them to a chunk.
		f := newFlood(50, []string{"OK %d " + strings.Repeat("x", 1018)}, 0)
		before := time.Now()
		if err := c.writeFlood(f, time.Second); err != nil {
			t.Fatal(err)
		}
		sent := f.rec.sent
		if len(sent) != 50 {
			t.Fatalf("recorded %d times, want 50", len(sent))
		}
		for i := range sent {
			switch {
			case sent[i].Before(before):
				t.Errorf("round %d recorded before the flood began", i+1)
			case i > 0 && sent[i].Before(sent[i-1]):
				t.Errorf("round %d recorded before round %d", i+1, i)
			case i > 0 && f.starts[i]/floodChunk == f.starts[i-1]/floodChunk && !sent[i].Equal(sent[i-1]):
				t.Errorf("rounds %d and %d begin in one chunk, but were recorded at different times", i, i+1)
			}
		}
	})
}

// TestNewFlood checks a flood's bytes and round offsets against fill and
// against a substitution of its own, and that the flood is built in one
// allocation: its buffer has no more room to spare than the size computed
// beforehand allows (rounds with fewer digits than the last), for
// templates with no %d, one, and several.
func TestNewFlood(t *testing.T) {
	for _, tmpls := range [][]string{
		{"PING"},
		{"PRIVMSG bob %d ...."},
		{"%d", "MSG #r %d and %d%d", "x%"},
	} {
		for _, count := range []int{1, 9, 10, 99, 100, 1234} {
			f := newFlood(count, tmpls, 0)
			var want strings.Builder
			for i := 1; i <= count; i++ {
				if got := f.starts[i-1]; got != want.Len() {
					t.Fatalf("%q ×%d: round %d starts at %d, want %d", tmpls, count, i, got, want.Len())
				}
				for _, tmpl := range tmpls {
					want.WriteString(strings.ReplaceAll(tmpl, "%d", strconv.Itoa(i)) + "\r\n")
				}
			}
			if string(f.data) != want.String() {
				t.Fatalf("%q ×%d: the flood differs from its rounds filled one by one", tmpls, count)
			}
			if cap(f.data)-len(f.data) > count*len(tmpls)*len("%d") {
				t.Errorf("%q ×%d: %d bytes in a buffer of %d", tmpls, count, len(f.data), cap(f.data))
			}
		}
	}
}
