package impl

import (
	"sort"
	"time"

	"roomchat.dev/roomchat/impl/store"
)

// memStore is the stored history of a server without a database (HIST-4):
// for each room, by folded name, its newest Config.HistoryKeep messages,
// oldest first. It lives in the loop and is read inside the turn that
// answers a HISTORY, which costs no more than formatting the reply: there
// is no disk to wait for. Owned by the loop goroutine.
//
// Its memory grows with the number of rooms ever spoken in, each up to
// HistoryKeep messages; with HistoryMaxAge, messages past that age are
// dropped from a room when it is next written to. Only a database bounds
// it by disk rather than memory.
type memStore struct {
	keep   int
	maxAge time.Duration // 0: no limit
	rooms  map[string]*roomLog
}

// roomLog is one room's stored messages: msgs[start:], IDs increasing.
type roomLog struct {
	msgs  []store.Message
	start int
}

func newMemStore(keep int, maxAge time.Duration) *memStore {
	return &memStore{keep: keep, maxAge: maxAge, rooms: make(map[string]*roomLog)}
}

// append stores m in the room fold, dropping the oldest beyond keep, and
// those past maxAge at m's time.
func (s *memStore) append(fold string, m store.Message) {
	r := s.rooms[fold]
	if r == nil {
		r = &roomLog{}
		s.rooms[fold] = r
	}
	r.msgs = append(r.msgs, m)
	if n := len(r.msgs) - r.start; n > s.keep {
		r.drop(n - s.keep)
	}
	if s.maxAge > 0 {
		r.drop(r.expired(m.Time, s.maxAge))
	}
	// Reuse the dropped prefix once it is half the slice.
	if r.start > 0 && r.start >= len(r.msgs)/2 {
		n := copy(r.msgs, r.msgs[r.start:])
		clear(r.msgs[n:])
		r.msgs, r.start = r.msgs[:n], 0
	}
}

// drop forgets the n oldest messages.
func (r *roomLog) drop(n int) {
	clear(r.msgs[r.start : r.start+n])
	r.start += n
}

// expired returns how many of the oldest messages are older than maxAge
// at now: a message is kept while its time is not before now-maxAge.
// Times never decrease with IDs (HIST-1).
func (r *roomLog) expired(now time.Time, maxAge time.Duration) int {
	cut := now.Add(-maxAge)
	live := r.msgs[r.start:]
	return sort.Search(len(live), func(i int) bool { return !live[i].Time.Before(cut) })
}

// fetch returns the newest limit messages of the room fold whose ID is
// below before (0: any), not older than maxAge at now, oldest first (HIST-3).
// The slice is the store's: the caller must not keep it beyond the turn.
func (s *memStore) fetch(fold string, before uint64, limit int, now time.Time) []store.Message {
	r := s.rooms[fold]
	if r == nil {
		return nil
	}
	live := r.msgs[r.start:]
	lo := 0
	if s.maxAge > 0 {
		lo = r.expired(now, s.maxAge)
	}
	hi := len(live)
	if before != 0 {
		hi = sort.Search(len(live), func(i int) bool { return live[i].ID >= before })
	}
	if hi <= lo {
		return nil
	}
	return live[max(lo, hi-limit):hi]
}
