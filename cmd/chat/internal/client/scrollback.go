package client

import (
	"slices"
	"strconv"
	"strings"

	"roomchat.dev/roomchat/spec"
)

// historyPageSize is how many messages PgUp, and /history without a
// number, fetch at once.
const historyPageSize = 50

// scrollback is what the client knows of the stored history of one of its
// rooms (PROTOCOL.md 13.3): it pages back from the oldest message it has
// shown, which HIST-3 calls the smallest ID it has.
type scrollback struct {
	oldest  uint64 // the smallest message ID shown for the room; 0: none yet
	atStart bool   // a page came back short: nothing older is stored
}

// HistoryPage is a page of earlier messages of a room, ready to show.
type HistoryPage struct {
	Room  string            // the room as the HISTORY command gave it
	Lines []spec.ServerLine // HISTORY lines, oldest first, older than all shown
	// Beginning: the page was shorter than asked, so nothing older is
	// stored (HIST-3).
	Beginning bool
	// Again: every message of the page was shown already, as when a page
	// asked for with "*" just after a JOIN crosses the replay of JOIN-6.
	// The page is not shown; the client asks for Limit messages again,
	// from the oldest one shown, which are all older.
	Again bool
	Limit int
}

// noteShown records the ID of a message shown for room.
func (s *session) noteShown(room string, id uint64) {
	if r := s.find(room); r != nil && (r.back.oldest == 0 || id < r.back.oldest) {
		r.back.oldest = id
	}
}

// fetching returns the HISTORY command awaiting its answer, if any.
func (s *session) fetching() *spec.Command {
	for i := range s.unanswered {
		if s.unanswered[i].Kind == spec.History {
			return &s.unanswered[i].Command
		}
	}
	return nil
}

// busy reports whether a page asked for now must wait: for the answer to
// a JOIN or LEAVE, which decides the room, or for the page on its way.
func (s *session) busy() bool {
	return slices.ContainsFunc(s.unanswered, func(c sentCommand) bool {
		return c.Kind == spec.Join || c.Kind == spec.Leave || c.Kind == spec.History
	})
}

// fetch returns the HISTORY command that fetches limit messages of the
// current room before the oldest one shown, or, when there is nothing to fetch,
// a notice that says why. It returns neither while a fetch is on its way:
// the page it brings comes first.
func (s *session) fetch(limit int) (cmd *spec.Command, notice string) {
	r := s.current()
	switch {
	case r == nil:
		return nil, "join a room to see its earlier messages"
	case s.fetching() != nil:
		return nil, ""
	case r.back.atStart:
		return nil, beginningOfHistory(r.name)
	}
	return &spec.Command{Kind: spec.History, Arg: r.name, Before: r.back.oldest, Limit: limit}, ""
}

// hold keeps a HISTORY line for the page it belongs to. It reports false
// if no fetch awaits it: the line is shown on its own.
func (s *session) hold(l spec.ServerLine) bool {
	if s.fetching() == nil {
		return false
	}
	// A page has at most the limit asked, which is at most
	// spec.HistoryPage; a server that sends more is not heard beyond it.
	if len(s.page) < spec.HistoryPage {
		s.page = append(s.page, l)
	}
	return true
}

// endPage ends the fetch c with the count n of its OK History line and
// returns the page to show. Messages already shown for the room are left
// out: a page fetched with "*" may hold messages that arrived meanwhile.
func (s *session) endPage(c spec.Command, n int) *HistoryPage {
	p := &HistoryPage{Room: c.Arg, Beginning: n < c.Limit, Limit: c.Limit}
	lines := s.page
	s.page = nil
	r := s.find(c.Arg)
	if r == nil {
		// The user left the room meanwhile: the page is shown, as the
		// room's, and leaves the scrollback of the others alone.
		p.Lines = lines
		return p
	}
	for _, l := range lines {
		if r.back.oldest == 0 || l.ID < r.back.oldest {
			p.Lines = append(p.Lines, l)
		}
	}
	for _, l := range p.Lines {
		s.noteShown(c.Arg, l.ID)
	}
	if p.Beginning {
		r.back.atStart = true
	}
	p.Again = len(lines) > 0 && len(p.Lines) == 0 && !p.Beginning
	return p
}

// parseHistoryEnd parses the text of the OK line that ends a HISTORY reply
// (HIST-3): "History <room> (<n> messages)".
func parseHistoryEnd(text string) (room string, n int, ok bool) {
	rest, ok := strings.CutPrefix(text, "History ")
	if !ok {
		return "", 0, false
	}
	room, count, ok := strings.Cut(rest, " (")
	if !ok || !spec.ValidRoom(room) {
		return "", 0, false
	}
	count, ok = strings.CutSuffix(count, " messages)")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || strconv.Itoa(n) != count {
		return "", 0, false
	}
	return room, n, true
}

// beginningOfHistory is the notice that nothing older is stored.
func beginningOfHistory(room string) string {
	return "— beginning of history of " + room + " —"
}
