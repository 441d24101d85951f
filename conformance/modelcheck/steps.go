package modelcheck

import (
	"flag"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pgregory.net/rapid"
	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/spec"
)

// A step is one action of a sequence, drawn whole before it acts. Its
// draws do not depend on the state: the same draws make the same step
// wherever it stands in the sequence, so that when rapid removes a step
// the others still mean what they meant. Each is one draw, which rapid
// can remove as a unit, and its small choices are single bits (see
// choice), which rapid shrinks in one replay each.
type step struct {
	end    bool   // the sequence ends here
	kind   string // one of stepKinds
	slot   int    // the client, from 1
	data   []byte // what send, sendLong and burst write
	how    string // how data is cut into writes, one of transports
	chunks [][]byte
	drop   driver.DropHow // for drop
	room   string         // for gather
	count  int            // the clients gather gathers
	rooms  []string       // the rooms roam joins
	// lines are the lines of send and hello with a server that implements
	// extensions: they may hold tokens (ext.go), so data is made of them
	// when the step runs, and cut as chunks was.
	lines []string
	// caps are, for each slot, the CAPS line gather sends before the
	// client's name with a server that implements extensions ("" for none).
	caps []string
}

// stepKinds are the kinds of step, each as often as its weight says. The
// first is the simplest, towards which rapid shrinks.
var stepKinds = func() []string {
	var kinds []string
	for _, k := range []struct {
		name string
		w    int
	}{
		{"send", 22},    // a client sends one to three lines
		{"gather", 3},   // clients 1..k take names and join one room
		{"burst", 3},    // a client in a room sends many messages at once
		{"drop", 3},     // a client leaves without QUIT
		{"sendLong", 1}, // a line near or over the length limit
	} {
		for range k.w {
			kinds = append(kinds, k.name)
		}
	}
	return kinds
}()

// extStepKinds are the kinds of step with a server that implements the
// extensions of section 13: those of a core server, and a client that says
// hello (connects anew, with CAPS, and takes a name or logs in).
var extStepKinds = extKinds(5)

// extKinds returns the kinds of step with a server that implements
// extensions, with hellos of the given weight.
func extKinds(hellos int) []string {
	kinds := slices.Clone(stepKinds)
	for range hellos {
		kinds = append(kinds, "hello")
	}
	return kinds
}

// failingStepKinds are the kinds of step of a sequence that may fail
// logins: more clients say hello, and more of them log in.
var failingStepKinds = extKinds(12)

// roamStepKinds are the kinds of step with a server that offers rooms
// (13.4): those of extStepKinds, and a client that joins several rooms
// (roam), which only a client that enabled rooms stays in.
var roamStepKinds = append(extKinds(5), "roam", "roam", "roam")

// restartGen draws whether a step restarts the server, when the sequence
// may: one step in 128, about one sequence in three (a restart of a real
// server takes a while). It shrinks to no restart.
var restartGen = rapid.Map(choice(128), func(n int) bool { return n == 127 })

// transports are the ways a client's bytes are cut into writes (FRAME-2, FRAME-3).
var transports = []string{"crlf", "lf", "split", "coalesced"}

// dropHows are the ways a client leaves without QUIT (DISC-1, DISC-2, FRAME-10).
var dropHows = []driver.DropHow{driver.DropClose, driver.DropReset, driver.DropHalfClose, driver.DropMidLine}

// stepGen draws the steps of a sequence whose average length is avg; with
// restarts, some restart the server (only with extensions).
func (p pools) stepGen(clients, avg int, restarts bool) *rapid.Generator[step] {
	ends := endGen(avg)
	slots := intRange(1, clients)
	kinds := pick(stepKinds)
	switch {
	case p.failing:
		kinds = pick(failingStepKinds)
	case p.ext.Has(spec.ExtRooms):
		kinds = pick(roamStepKinds)
	case p.ext != 0:
		kinds = pick(extStepKinds)
	}
	roomCount := intRange(2, len(p.moreRooms))
	lines := p.commandGen()
	var capsLine, helloName, helloMore, helloPassword, gatherCaps *rapid.Generator[string]
	if p.ext != 0 {
		capsLine, helloName, gatherCaps = p.capsGen(), p.helloNameGen(), pick(p.gatherCaps())
		helloMore, helloPassword = p.helloMoreGen(), p.helloPasswordGen()
	}
	return rapid.Custom(func(t *rapid.T) step {
		if ends.Draw(t, "end") {
			return step{end: true}
		}
		if restarts && restartGen.Draw(t, "restart") {
			return step{kind: "restart"}
		}
		st := step{kind: kinds.Draw(t, "kind")}
		switch st.kind {
		case "send":
			st.slot = slots.Draw(t, "client")
			ls := make([]string, intRange(1, 3).Draw(t, "lines"))
			for i := range ls {
				ls[i] = lines.Draw(t, "line")
			}
			if i := slices.Index(ls, "QUIT"); i >= 0 {
				ls = ls[:i+1] // the driver sends nothing after QUIT
			}
			st.how = pick(transports).Draw(t, "transport")
			st.data = frame(ls, st.how)
			if p.ext != 0 {
				st.lines = ls
			}
		case "hello": // CAPS-1, CAPS-2, ACCT-2
			st.slot = slots.Draw(t, "client")
			st.lines = []string{capsLine.Draw(t, "caps")}
			if name := helloName.Draw(t, "name"); name != "" {
				st.lines = append(st.lines, name)
				if more := helloMore.Draw(t, "more"); more != "" {
					st.lines = append(st.lines, more)
					if pw := helloPassword.Draw(t, "password"); pw != "" {
						st.lines = append(st.lines, pw)
					}
				}
			}
			st.how = pick(transports).Draw(t, "transport")
			st.data = frame(st.lines, st.how)
		case "sendLong": // FRAME-4, FRAME-5
			st.slot = slots.Draw(t, "client")
			size := rapid.OneOf(rapid.IntRange(spec.MaxLineLen-3, spec.MaxLineLen+2), rapid.IntRange(spec.MaxLineLen+3, 4*spec.MaxLineLen)).Draw(t, "size")
			st.how = pick([]string{"crlf", "split"}).Draw(t, "transport")
			st.data = []byte("MSG " + strings.Repeat("x", size-len("MSG \r\n")) + "\r\n")
		case "gather":
			st.room = pick(p.rooms).Draw(t, "room")
			st.count = rapid.IntRange(1, clients).Draw(t, "members") // a count: rapid shrinks it by halves
			if p.ext != 0 {
				st.caps = make([]string, clients)
				for i := range st.caps {
					st.caps[i] = gatherCaps.Draw(t, "caps")
				}
			}
		case "burst":
			st.slot = slots.Draw(t, "client")
			ls := make([]string, rapid.IntRange(2, 13).Draw(t, "messages"))
			for i := range ls {
				ls[i] = "MSG m" + strconv.Itoa(i+1)
			}
			st.how = pick([]string{"coalesced", "crlf"}).Draw(t, "transport")
			st.data = frame(ls, st.how)
		case "drop":
			st.slot = slots.Draw(t, "client")
			st.drop = pick(dropHows).Draw(t, "how")
		case "roam": // MULTI-2
			st.slot = slots.Draw(t, "client")
			// Distinct rooms, from any of the pool onwards: all of them
			// are more than a client may be in.
			st.rooms = make([]string, roomCount.Draw(t, "rooms"))
			first := choice(len(p.moreRooms)).Draw(t, "first")
			for i := range st.rooms {
				st.rooms[i] = p.moreRooms[(first+i)%len(p.moreRooms)]
			}
		}
		if st.data != nil {
			st.chunks = cut(t, st.data, st.how)
		}
		return st
	})
}

// endGen draws whether a sequence ends, with a probability of about 1/avg,
// as bits: a sequence shrinks by ending sooner.
func endGen(avg int) *rapid.Generator[bool] {
	k := bits.Len(uint(avg)) + 1
	stop := max(1, (1<<k+avg/2)/avg) // of 1<<k values
	n := choice(1 << k)
	return rapid.Custom(func(t *rapid.T) bool { return n.Draw(t, "n") < stop })
}

// avgSteps is the average length of a sequence: rapid's -rapid.steps,
// halved by -short as rapid does.
func avgSteps() int {
	n := 30
	if f := flag.Lookup("rapid.steps"); f != nil {
		if v, err := strconv.Atoi(f.Value.String()); err == nil && v > 0 {
			n = v
		}
	}
	if testing.Short() {
		n /= 2
	}
	return max(n, 1)
}

// frame joins lines with their terminators: a bare LF for how "lf", else CRLF.
func frame(lines []string, how string) []byte {
	var data []byte
	for _, l := range lines {
		data = append(data, l...)
		if how == "lf" {
			data = append(data, '\n')
		} else {
			data = append(data, '\r', '\n')
		}
	}
	return data
}

// cut draws how data is cut into writes: "split" in small pieces,
// "coalesced" in one, otherwise one per line.
func cut(t *rapid.T, data []byte, how string) [][]byte {
	var chunks [][]byte
	switch how {
	case "split":
		sizes := intRange(1, 8)
		for rest := data; len(rest) > 0; {
			k := min(len(rest), sizes.Draw(t, "chunk"))
			chunks, rest = append(chunks, rest[:k]), rest[k:]
		}
	case "coalesced":
		chunks = [][]byte{data}
	default:
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if l != "" {
				chunks = append(chunks, []byte(l))
			}
		}
	}
	return chunks
}
