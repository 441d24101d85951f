package bench

// seqTracker follows the lines one receiver gets from one sender, numbered
// 0..lines-1. While they arrive in order it keeps only a counter; at the
// first out-of-order line it switches to a bitmap of the numbers seen.
//
// A line whose number was seen before is a duplicate. A line that arrives
// after a line with a higher number is reordered. A number never seen is
// lost (lost = lines - distinct at the end).
type seqTracker struct {
	next     int      // in-order mode: numbers 0..next-1 have arrived
	top      int      // highest number seen, -1 if none
	distinct int      // distinct numbers seen
	seen     []uint64 // nil in in-order mode
}

func newSeqTracker() seqTracker { return seqTracker{top: -1} }

// verdict is what observe found about one line.
type verdict uint8

const (
	inOrder   verdict = iota
	duplicate         // its number was seen before
	reordered         // first arrival, but after a higher number
	outOfRange
)

// observe records line seq of a sender of lines lines.
func (t *seqTracker) observe(seq, lines int) verdict {
	if seq < 0 || seq >= lines {
		return outOfRange
	}
	if t.seen == nil {
		if seq == t.next {
			t.next++
			t.top = seq
			t.distinct++
			return inOrder
		}
		t.seen = make([]uint64, (lines+63)/64)
		for i := 0; i < t.next; i++ {
			t.seen[i/64] |= 1 << (i % 64)
		}
	}
	w, bit := seq/64, uint64(1)<<(seq%64)
	if t.seen[w]&bit != 0 {
		return duplicate
	}
	t.seen[w] |= bit
	t.distinct++
	if seq < t.top {
		return reordered
	}
	t.top = seq
	return inOrder
}

// lost returns how many of lines numbers never arrived.
func (t *seqTracker) lost(lines int) int { return lines - t.distinct }

// tally counts what a set of receivers observed.
type tally struct {
	Delivered  int64 `json:"delivered"`  // distinct intact lines received
	Lost       int64 `json:"lost"`       // expected but never received intact
	Duplicated int64 `json:"duplicated"` // received again after an intact copy
	Reordered  int64 `json:"reordered"`  // received after a later line of the same sender
	Garbled    int64 `json:"garbled"`    // ROOM lines that are not a line some sender sent to this room
}

func (t *tally) add(o tally) {
	t.Delivered += o.Delivered
	t.Lost += o.Lost
	t.Duplicated += o.Duplicated
	t.Reordered += o.Reordered
	t.Garbled += o.Garbled
}

// bad reports whether anything went wrong.
func (t tally) bad() bool {
	return t.Lost+t.Duplicated+t.Reordered+t.Garbled > 0
}
