package impl_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/impl"
)

// FuzzServer feeds three fuzzed byte streams, from three clients, into a
// server in this process, beside two well-behaved observers in a room, and
// checks every line every client receives against the model of
// PROTOCOL.md (package model). sched decides how the streams are cut into
// writes and interleaved, and when a fuzzed client closes, resets or
// reconnects. Each write is followed by PING/PONG barriers, so that the
// order of events is known and the model predicts every line exactly;
// nothing may panic, and the observers' transcripts, like everyone's, must
// be exactly what the model says. Run it with
//
//	go test ./impl -run='^$' -fuzz=FuzzServer -fuzztime=60s
func FuzzServer(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s.a), []byte(s.b), []byte(s.c), []byte(s.sched))
	}
	f.Fuzz(func(t *testing.T, a, b, c, sched []byte) {
		const maxStream, maxSched = 4 << 10, 64
		streams := [][]byte{a[:min(len(a), maxStream)], b[:min(len(b), maxStream)], c[:min(len(c), maxStream)]}
		fuzzServer(t, streams, sched[:min(len(sched), maxSched)])
	})
}

// fuzzSeeds are the seeds FuzzServer starts from, besides the corpus in
// testdata/fuzz/FuzzServer.
var fuzzSeeds = []struct{ a, b, c, sched string }{
	{"USERNAME x\nJOIN #o\nhello\nPRIVMSG o1 hi\nQUIT\n", "USERNAME y\r\nJOIN #o\r\nMSG hey\r\nLEAVE\r\nROOMS\r\n", "PING 1\nUSERNAME O2\nUSERS\n", ""},
	{"\x00\xff\r\x1b[2J\n\u202e\nUSERNAME a\x00\n", strings.Repeat("x", 600) + "\nUSERNAME b\n", "USERNAME o1\nJOIN #O\nMSG " + strings.Repeat("y", 506) + "\r\n", "\x00\x03\x06\x09\x0c\x01\x04\x07"},
	{"USERNAME n\nJOIN #r\nhi\n", "USERNAME n\nUSERNAME N\n", "JOIN #r\n", "\x00\x0f\x01\x13\x16"},
	{"USERNAME q\nJOIN #o\nMSG a\nMSG b", "USERNAME w\nPRIVMSG q x\n", "", "\x00\x12\x01\x14\x01\x15\x00"},
}

const (
	fuzzObservers = 2
	fuzzTimeout   = 10 * time.Second
)

// fuzzServer runs one input: the observers, in #o, then the fuzzed
// clients' streams as sched cuts and interleaves them, each step checked
// against the model by the driver that conformance/modelcheck uses too.
func fuzzServer(t *testing.T, streams [][]byte, sched []byte) {
	ts := startServer(t, impl.Config{})
	d := driver.New(driver.Config{Addr: ts.addr, Timeout: fuzzTimeout, Token: "fz"})
	t.Cleanup(d.Close)
	fail := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%v\n%s", err, d.Transcript())
		}
	}
	connect := func(label string) *driver.Client {
		t.Helper()
		c, _, err := d.Connect(label)
		fail(err)
		return c
	}
	send := func(c *driver.Client, data []byte) int {
		t.Helper()
		n, _, err := d.Send(c, data)
		fail(err)
		return n
	}
	// The observers: registered and in #o before anything else happens.
	// The first also watches for the fuzzed clients' names to be freed.
	var obs []*driver.Client
	for i := range fuzzObservers {
		obs = append(obs, connect(fmt.Sprintf("o%d", i+1)))
		send(obs[i], fmt.Appendf(nil, "USERNAME o%d\r\nJOIN #o\r\n", i+1))
	}
	d.Watcher = obs[0]
	fuzzed := make([]*driver.Client, len(streams))
	pos := make([]int, len(streams)) // how much of each stream is sent
	for k := range streams {
		fuzzed[k] = connect(fmt.Sprintf("f%d", k))
	}
	for i, x := range sched {
		k := int(x) % len(streams)
		c, rest := fuzzed[k], streams[k][pos[k]:]
		switch action := int(x) / len(streams) % 8; {
		case action <= 4 && c.Open() && len(rest) > 0:
			n := len(rest)
			switch action {
			case 0: // a line, or what is left
				if lf := slices.Index(rest, '\n'); lf >= 0 {
					n = lf + 1
				}
			case 1:
				n = 1
			case 2:
				n = min(n, 7)
			case 3:
				n = min(n, 64)
			}
			pos[k] += send(c, rest[:n])
		case action == 5 && c.Open():
			_, err := d.Drop(c, driver.DropClose)
			fail(err)
		case action == 6 && c.Open():
			_, err := d.Drop(c, driver.DropReset)
			fail(err)
		case action == 7 && !c.Open():
			fuzzed[k] = connect(c.Label())
		}
		if i%8 == 7 { // the observers talk too
			send(obs[0], fmt.Appendf(nil, "MSG tick %d\r\n", i))
		}
	}
	// The rest of every stream, ended by a LF, from each client still open.
	for k, c := range fuzzed {
		if c.Open() {
			send(c, append(slices.Clone(streams[k][pos[k]:]), '\n'))
		}
	}
	fail(d.Barrier())
}
