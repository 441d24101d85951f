package commands

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// The commands of PROTOCOL.md section 13 that receive: recvmsg, which
// matches the MESSAGE and HISTORY lines whose ID and time a script cannot
// know, and unseen, which searches everything received for a secret.

// A msgRecord is what the lines recvmsg matched said of one message ID
// (HIST-1): every line that carries the ID must say the same.
type msgRecord struct {
	time, room, user, text string
	seen                   string // the client and the line that first showed it, for messages
}

// msgLog is the record of one script run: every message ID recvmsg has
// matched, on any connection, before or after a restart.
type msgLog struct {
	byID map[uint64]msgRecord
	max  uint64 // the largest ID recorded; 0 before any
}

// A msgRun is where a client is in a run of lines whose IDs must increase:
// the MESSAGE lines since its latest OK Joined, or the HISTORY lines of one
// reply. Only the script's goroutine touches it.
type msgRun struct {
	id    uint64 // the ID of the latest line of the run that recvmsg matched
	index int    // that line's index among the client's lines; -1 before any
}

// recvmsg [-stored] [-count N] [-id ID] [-new] [-set VAR] NAME ROOM USER TEXT
func cmdRecvMsg(c *call) {
	ts, s := c.ts, c.s
	cl := s.reader(ts, expand(ts, c.args[0]))
	room, user, text := expand(ts, c.args[1]), expand(ts, c.args[2]), expand(ts, c.args[3])
	stored := c.opts.has("-stored")
	word, kind := "MESSAGE", spec.Message
	if stored {
		word, kind = "HISTORY", spec.Stored
	}
	count := 1
	if c.opts.has("-count") {
		if count = countArg(ts, c.opts.value("-count")); count < 1 {
			ts.Fatalf("recvmsg -count: want at least 1 line")
		}
		if c.opts.has("-id") {
			ts.Fatalf("recvmsg: -id names the ID of one line: not with -count")
		}
	}
	var wantID uint64
	if c.opts.has("-id") {
		id, err := strconv.ParseUint(c.opts.value("-id"), 10, 64)
		if err != nil || id == 0 {
			ts.Fatalf("recvmsg -id: %q is not a message ID (is the variable set, by an earlier -set?)", c.opts.value("-id"))
		}
		wantID = id
	}
	var first uint64
	for i := 1; i <= count; i++ {
		t := text
		if c.opts.has("-count") {
			t = fill(text, i)
		}
		what, which := fmt.Sprintf("%s <id> <time> %s %s %s", word, room, user, t), ""
		if count > 1 {
			which = fmt.Sprintf(" (line %d of %d)", i, count)
			what += which
		}
		got := s.take(ts, cl, "recvmsg", strconv.Quote(what))
		index := cl.consumedLines() - 1
		l, err := spec.ParseServerLine(got)
		if err != nil || l.Kind != kind {
			note := grammarNote(got)
			switch {
			case err != nil:
			case l.Kind == spec.Room && !stored:
				note = "\n  note: a ROOM line, the core form: a connection that enabled history receives MESSAGE lines in its place (HIST-2)"
			case l.Kind == spec.Message && stored:
				note = "\n  note: a MESSAGE line, not one of the HISTORY lines that answer HISTORY (HIST-3)"
			case l.Kind == spec.Stored && !stored:
				note = "\n  note: a HISTORY line: recvmsg -stored matches those"
			}
			s.fatalf(ts, "recvmsg %s: want %s, got %q%s", cl.name, what, got, note)
		}
		if l.Room != room || l.User != user || l.Text != t {
			want := strings.Join([]string{room, user, t}, " ")
			gotTail := strings.Join([]string{l.Room, l.User, l.Text}, " ")
			s.fatalf(ts, "recvmsg %s: the %s line%s is about another message\n%s", cl.name, word, which, difference(want, gotTail))
		}
		if wantID != 0 && l.ID != wantID {
			s.fatalf(ts, "recvmsg %s: the message has ID %d, not %d as -id says: every connection that enabled history is shown a message with the same ID (HIST-1, HIST-2)\n  line: %q", cl.name, l.ID, wantID, got)
		}
		if c.opts.has("-new") && l.ID <= s.msgs.max {
			s.fatalf(ts, "recvmsg %s: the message has ID %d, not above %d, an ID this script saw earlier: each ID is greater than that of every room message processed before it (HIST-1; HIST-5 across a restart)\n  line: %q", cl.name, l.ID, s.msgs.max, got)
		}
		s.recordMsg(c, cl, got, l)
		s.checkRun(c, cl, index, l)
		if i == 1 {
			first = l.ID
		}
	}
	if c.opts.has("-set") {
		ts.Setenv(c.opts.value("-set"), strconv.FormatUint(first, 10))
	}
}

// recordMsg checks l, a line of cl, against every line recvmsg matched
// before in this script run, and records it (HIST-1): one ID always
// carries the same time, room, user and text, and a larger ID never has
// an earlier time. msg-times have a fixed width, so that their order is
// that of their strings.
func (s *session) recordMsg(c *call, cl *Client, got string, l spec.ServerLine) {
	ts := c.ts
	if s.msgs.byID == nil {
		s.msgs.byID = map[uint64]msgRecord{}
	}
	rec := msgRecord{time: l.Time, room: l.Room, user: l.User, text: l.Text, seen: fmt.Sprintf("%s received %q", cl.name, got)}
	if old, ok := s.msgs.byID[l.ID]; ok {
		if old.time != rec.time || old.room != rec.room || old.user != rec.user || old.text != rec.text {
			s.fatalf(ts, "recvmsg %s: ID %d stands for two different messages (HIST-1: an ID is never given again, and every line that shows a message shows its ID and time)\n  earlier: %s\n  now:     %s received %q",
				cl.name, l.ID, old.seen, cl.name, got)
		}
		return
	}
	for id, old := range s.msgs.byID {
		if id < l.ID && old.time > l.Time || id > l.ID && old.time < l.Time {
			s.fatalf(ts, "recvmsg %s: message %d has the time %s and message %d the time %s: a message with a larger ID never has an earlier time (HIST-1)\n  earlier: %s\n  now:     %s received %q",
				cl.name, id, old.time, l.ID, l.Time, old.seen, cl.name, got)
		}
	}
	s.msgs.byID[l.ID] = rec
	s.msgs.max = max(s.msgs.max, l.ID)
}

// checkRun checks that l, line index of cl, has a larger ID than the line
// before it in its run: a connection's MESSAGE lines come in the order the
// server processed the messages (HIST-1, ORDER-2), except that the replay
// of JOIN-6 after OK Joined holds older ones, oldest first; and the
// HISTORY lines of one reply come oldest first (HIST-3).
func (s *session) checkRun(c *call, cl *Client, index int, l spec.ServerLine) {
	run, what := &cl.msgRun, "MESSAGE lines since its latest OK Joined (HIST-1: each ID is greater than that of every room message processed before it; the replay of JOIN-6 comes oldest first)"
	newRun := func(line []byte) bool { return bytes.HasPrefix(line, []byte("OK Joined ")) }
	if l.Kind == spec.Stored {
		run, what = &cl.storedRun, "HISTORY lines of one reply (HIST-3: oldest first)"
		newRun = func(line []byte) bool { return !bytes.HasPrefix(line, []byte("HISTORY ")) }
	}
	if run.index >= 0 && !cl.anyLine(run.index+1, index, newRun) && l.ID <= run.id {
		s.fatalf(c.ts, "recvmsg %s: ID %d comes after ID %d, but the IDs of a connection's %s increase", cl.name, l.ID, run.id, what)
	}
	run.id, run.index = l.ID, index
}

// unseen TEXT...
func cmdUnseen(c *call) {
	ts, s := c.ts, c.s
	for _, a := range c.args {
		secret := expand(ts, a)
		if secret == "" {
			ts.Fatalf("unseen: an empty TEXT is in every line")
		}
		if who, line, ok := s.tr.received([]byte(secret)); ok {
			s.fatalf(ts, "unseen: %s received %q, which holds %q, which no client may ever receive (a password is never sent back to any client: ACCT-6)", who, line, secret)
		}
	}
}
