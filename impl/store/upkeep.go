package store

import (
	"fmt"
	"os"
	"time"
)

// The Writer's upkeep between batches: trims and checkpoints, which hold up
// the next batch while they run, and the syncing of the WAL, which does not.
//
// A commit with synchronous=NORMAL writes its pages to the end of the WAL
// and does not wait for the disk. A checkpoint copies them into the
// database file, and must first wait until the whole WAL is on disk, then
// until the copies are. Nothing is committed meanwhile, and the wait grows
// with what the WAL holds: on the 2-core machine of BenchmarkPaced, at
// 2,500 one-message commits a second (three pages each), a checkpoint
// every 300 commits took 5 ms, every second 12 to 20 ms; SQLite's own, every
// 1,000 pages, ran inside the commit that crossed the mark. With the WAL
// synced from another goroutine every 50 ms, a checkpoint a second takes
// about 2 ms (3 to 4 ms after a trim has deleted a second's worth of
// messages), and the Writer runs it when no operation waits.

const (
	// trimEvery is how often at most the Writer trims, unless its last
	// trim left a room over Keep.
	trimEvery = time.Second
	// trimLimit is how many messages a trim of the Writer deletes at most
	// (a millisecond or so of work), besides as many as were appended
	// since the last trim if that one left some to delete; the Writer then
	// trims again after its next batch, until it catches up.
	trimLimit = 500
	// checkpointEvery is how often at most the Writer checkpoints, if it
	// committed anything since the last time. See also autoCheckpoint.
	checkpointEvery = time.Second
	// walSyncEvery is how often at most the WAL is synced.
	walSyncEvery = 50 * time.Millisecond
)

// upkeep is the state of the Writer's upkeep. Owned by the Writer's
// goroutine.
type upkeep struct {
	lastTrim       time.Time
	trimWait       time.Duration       // from lastTrim to the next trim
	dirty          map[string]struct{} // folded rooms appended to since the last trim, or left over Keep by it
	appended       int                 // messages appended since the last trim
	behind         bool                // the last trim left messages to delete
	all            bool                // the next trim is of all rooms: the first one failed
	lastCheckpoint time.Time
	commits        int // since the last checkpoint
}

// upkeep trims and then checkpoints, each if it is due.
func (w *Writer) upkeep(u *upkeep) {
	if now := time.Now(); w.due(now, u.lastTrim, u.trimWait) {
		rooms := make([]string, 0, len(u.dirty))
		for room := range u.dirty {
			rooms = append(rooms, room)
		}
		limit := trimLimit
		if u.behind {
			limit += u.appended
		}
		if u.all {
			limit = 0
		}
		u.lastTrim, u.trimWait = now, w.every
		left, err := w.db.trim(w.keep, now, rooms, u.all, limit)
		if err != nil {
			w.send(Committed{Err: fmt.Errorf("store: trim: %w", err)})
		} else {
			clear(u.dirty)
			for _, room := range left.over {
				u.dirty[room] = struct{}{}
			}
			u.appended, u.behind, u.all = 0, !left.done(), false
			if u.behind {
				u.trimWait = 0
			}
			w.wroteWAL(u)
		}
	}
	// Not right after a trim, whose pages the WAL sync has not reached
	// yet, unless the checkpoint is overdue.
	if now := time.Now(); u.commits > 0 && w.due(now, u.lastCheckpoint, checkpointEvery) &&
		(now.Sub(u.lastTrim) > 2*walSyncEvery || now.Sub(u.lastCheckpoint) > 2*checkpointEvery) {
		if err := w.db.checkpoint(); err != nil {
			w.send(Committed{Err: fmt.Errorf("store: checkpoint: %w", err)})
		}
		u.lastCheckpoint, u.commits = now, 0
	}
}

// wroteWAL notes that a transaction was committed: the WAL has something
// to checkpoint, and to sync.
func (w *Writer) wroteWAL(u *upkeep) {
	u.commits++
	select {
	case w.wrote <- struct{}{}:
	default:
	}
}

// due reports whether upkeep last done at last, and wanted wait later, is
// to be done now: if it is late and nothing is queued, or if it is late by
// wait again.
func (w *Writer) due(now, last time.Time, wait time.Duration) bool {
	late := now.Sub(last) - wait
	return late >= 0 && (late >= wait || w.queue.len() == 0)
}

// trimAll applies the retention rules to all rooms, and reports whether it
// succeeded, or the failure on done. Until a trim of all rooms succeeds,
// the Writer's trims of the rooms it appended to do not suffice.
func (w *Writer) trimAll(now time.Time) bool {
	if _, err := w.db.trim(w.keep, now, nil, true, 0); err != nil {
		w.send(Committed{Err: fmt.Errorf("store: trim: %w", err)})
		return false
	}
	return true
}

// startSyncWAL starts syncWAL, unless the WAL cannot be opened, and returns
// a channel closed when syncWAL has returned, or nil.
func (w *Writer) startSyncWAL() <-chan struct{} {
	f, err := os.OpenFile(w.db.wal, os.O_RDWR, 0)
	if err != nil {
		return nil // checkpoints take longer, that is all
	}
	synced := make(chan struct{})
	go w.syncWAL(f, synced)
	return synced
}

// syncWAL is the Writer's second goroutine: after a commit it syncs the
// WAL file f, at most every walSyncEvery, until Close is called, and then
// closes f and synced. Syncing a file through a descriptor of its own
// writes what any descriptor wrote; SQLite takes no lock on the WAL file
// (in EXCLUSIVE locking mode its locks are on the database file), so that
// closing f drops none.
func (w *Writer) syncWAL(f *os.File, synced chan<- struct{}) {
	defer close(synced)
	defer f.Close()
	pause := time.NewTimer(walSyncEvery)
	defer pause.Stop()
	for {
		select {
		case <-w.wrote:
		case <-w.stop:
			return
		}
		f.Sync() // a failure shows at the checkpoint, which syncs again
		pause.Reset(walSyncEvery)
		select {
		case <-pause.C:
		case <-w.stop:
			return
		}
	}
}
