package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Trim deletes the messages that r excludes at now (see [Retention]), in
// every room. The [Writer] trims on its own, more cheaply; Trim is for
// start-up and for the operator.
func (db *DB) Trim(r Retention, now time.Time) error {
	if _, err := db.trim(r, now, nil, true, 0); err != nil {
		return fmt.Errorf("store: trim: %w", err)
	}
	return nil
}

// trim deletes in one transaction, in the given folded rooms (in all rooms if
// all is set), the messages beyond the newest r.Keep, and then the messages
// older than r.MaxAge. In that order it deletes exactly what Fetch excludes:
// deleting old messages first could bring older IDs among a room's newest
// Keep when times do not grow with IDs (a clock stepped back).
//
// If limit is positive, trim deletes at most that many messages, the
// oldest first, and reports what it left (see trimLeft); the caller trims
// again later. It deletes nothing by age while a room is left over Keep,
// for the order's sake, so that what it deletes is always a part of what
// Fetch excludes.
//
// Both deletes follow an index and trim knows how many messages each room
// has (db.counts), so trimming costs about what it deletes. It counts a
// room it has not counted before, once, and all rooms when all is set.
func (db *DB) trim(r Retention, now time.Time, rooms []string, all bool, limit int) (left trimLeft, err error) {
	if r.MaxAge <= 0 && (r.Keep <= 0 || !all && len(rooms) == 0) {
		return left, nil
	}
	db.write.Lock()
	defer db.write.Unlock()
	tx, err := db.sql.Begin()
	if err != nil {
		return left, classify(err)
	}
	defer tx.Rollback()
	t := trimTx{tx: tx, db: db, counts: make(map[string]int)}
	budget := -1 // no limit
	if limit > 0 {
		budget = limit
	}
	if r.Keep > 0 {
		if all {
			if rooms, err = t.countAll(r.Keep); err != nil {
				return left, err
			}
		}
		for _, room := range rooms {
			n, err := t.count(room)
			if err != nil {
				return left, err
			}
			del := max(n-r.Keep, 0)
			if budget >= 0 {
				del = min(del, budget)
			}
			if del > 0 {
				if err := t.deleteOldest(room, n, del); err != nil {
					return left, err
				}
				if budget >= 0 {
					budget -= del
				}
			}
			if n-del > r.Keep {
				left.over = append(left.over, room)
			}
		}
	}
	if r.MaxAge > 0 && len(left.over) == 0 {
		if left.old, err = t.deleteOlder(cutoffMillis(now, r.MaxAge), budget); err != nil {
			return left, err
		}
	}
	if err := tx.Commit(); err != nil {
		return trimLeft{}, classify(err)
	}
	if all {
		clear(db.counts)
	}
	for room, n := range t.counts {
		if n > 0 {
			db.counts[room] = n
		} else {
			delete(db.counts, room)
		}
	}
	return left, nil
}

// trimLeft is what a trim with a limit left to delete.
type trimLeft struct {
	over []string // the folded rooms left with more messages than Keep
	old  bool     // whether messages older than MaxAge may be left
}

// done reports whether nothing is left.
func (l trimLeft) done() bool {
	return len(l.over) == 0 && !l.old
}

// trimTx is a trim's transaction.
type trimTx struct {
	tx     *sql.Tx
	db     *DB            // whose counts hold before the transaction
	counts map[string]int // the rooms' counts as the transaction leaves them
	raised bool           // the last ID and time are recorded
}

// countAll counts the messages of every room, and returns the rooms that
// have more than keep.
func (t *trimTx) countAll(keep int) ([]string, error) {
	rows, err := t.tx.Query("SELECT room_fold, count(*) FROM messages GROUP BY room_fold")
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var over []string
	for rows.Next() {
		var room string
		var n int
		if err := rows.Scan(&room, &n); err != nil {
			return nil, classify(err)
		}
		t.counts[room] = n
		if n > keep {
			over = append(over, room)
		}
	}
	return over, classify(rows.Err())
}

// count returns how many messages the folded room has, counting them if
// nobody has yet.
func (t *trimTx) count(room string) (int, error) {
	if n, ok := t.counts[room]; ok {
		return n, nil
	}
	if n, ok := t.db.counts[room]; ok {
		return n, nil
	}
	var n int
	if err := t.tx.QueryRow("SELECT count(*) FROM messages WHERE room_fold = ?", room).Scan(&n); err != nil {
		return 0, fmt.Errorf("room %q: %w", room, classify(err))
	}
	t.counts[room] = n
	return n, nil
}

// deleteOldest deletes the del oldest of the n messages of the folded room.
func (t *trimTx) deleteOldest(room string, n, del int) error {
	if err := t.raise(); err != nil {
		return err
	}
	res, err := t.tx.Exec(`DELETE FROM messages WHERE room_fold = ?1 AND id <=
		(SELECT id FROM messages WHERE room_fold = ?1 ORDER BY id LIMIT 1 OFFSET ?2)`, room, del-1)
	if err != nil {
		return fmt.Errorf("room %q by count: %w", room, classify(err))
	}
	if got, err := res.RowsAffected(); err != nil || got != int64(del) {
		// The count was wrong, which only a change that bypassed the
		// DB could cause: count again next time.
		delete(t.db.counts, room)
		return fmt.Errorf("room %q by count: %d messages to delete, %d found (of the %d counted)", room, del, got, n)
	}
	t.counts[room] = n - del
	return nil
}

// deleteOlder deletes the messages whose time is before cutoff (in
// milliseconds), in all rooms, the oldest first and at most limit of them
// unless limit is negative; more reports that it deleted limit messages,
// so that more may be left.
func (t *trimTx) deleteOlder(cutoff int64, limit int) (more bool, err error) {
	if limit == 0 {
		return true, nil
	}
	if err := t.raise(); err != nil {
		return false, err
	}
	rows, err := t.tx.Query(`DELETE FROM messages WHERE id IN
		(SELECT id FROM messages WHERE time < ? ORDER BY time LIMIT ?) RETURNING room_fold`, cutoff, limit)
	if err != nil {
		return false, fmt.Errorf("by age: %w", classify(err))
	}
	defer rows.Close()
	deleted := 0
	for rows.Next() {
		var room string
		if err := rows.Scan(&room); err != nil {
			return false, fmt.Errorf("by age: %w", classify(err))
		}
		deleted++
		n, ok := t.counts[room]
		if !ok {
			n, ok = t.db.counts[room]
		}
		if ok {
			t.counts[room] = n - 1
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("by age: %w", classify(err))
	}
	return deleted == limit, nil
}

// raise records in the meta table the last message ID and time stored, so
// that they outlive the deletion of their messages ([DB.Load] takes the
// greater of these and the stored messages' own). A commit does not record
// them, so a trim must before it deletes.
func (t *trimTx) raise() error {
	if t.raised {
		return nil
	}
	if _, err := t.tx.Exec(`UPDATE meta SET value = max(value, coalesce((SELECT max(id) FROM messages), 0))
		WHERE key = 'last_id'`); err != nil {
		return fmt.Errorf("record the last ID: %w", classify(err))
	}
	if _, err := t.tx.Exec(`INSERT INTO meta (key, value) VALUES ('last_time', coalesce((SELECT max(time) FROM messages), 0))
		ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)`); err != nil {
		return fmt.Errorf("record the last time: %w", classify(err))
	}
	t.raised = true
	return nil
}
