package store

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Fetch returns the messages of room q.Room (compared folded) that pass
// every bound of q and the retention rules r, at most q.Limit of them (the
// newest), oldest first.
//
// The retention rules are applied exactly, whether or not [DB.Trim] has
// deleted what they exclude yet: a message is returned only if it is among
// the r.Keep messages with the highest IDs in its room as stored now (all of
// them, whatever q's bounds) and its Time is no more than r.MaxAge before
// q.Now. So Fetch returns the same whether or not a Trim(r, t) ran before
// it, for t = q.Now and, as long as message times grow with IDs (the clock
// was not stepped back), for any earlier t.
func (db *DB) Fetch(q Query, r Retention) ([]Message, error) {
	ms, err := db.fetch(q, r)
	if err != nil {
		return nil, fmt.Errorf("store: fetch %q: %w", q.Room, err)
	}
	return ms, nil
}

func (db *DB) fetch(q Query, r Retention) ([]Message, error) {
	room := spec.Fold(q.Room)
	var b strings.Builder
	b.WriteString("SELECT id, time, room, user, text FROM messages WHERE room_fold = ?")
	args := []any{room}
	if id, ok := sqlID(q.Before); ok && q.Before > 0 {
		b.WriteString(" AND id < ?")
		args = append(args, id)
	}
	if id, ok := sqlID(q.Upto); ok && q.Upto > 0 {
		b.WriteString(" AND id <= ?")
		args = append(args, id)
	}
	if r.MaxAge > 0 {
		b.WriteString(" AND time >= ?")
		args = append(args, cutoffMillis(q.Now, r.MaxAge))
	}
	if r.Keep > 0 {
		// The ID of the room's Keep-th newest message; if the room has
		// fewer, there is nothing to exclude.
		b.WriteString(" AND id >= coalesce((SELECT id FROM messages WHERE room_fold = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0)")
		args = append(args, room, r.Keep-1)
	}
	b.WriteString(" ORDER BY id DESC")
	if q.Limit > 0 {
		b.WriteString(" LIMIT ?")
		args = append(args, q.Limit)
	}
	rows, err := db.sql.Query(b.String(), args...)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	var ms []Message
	for rows.Next() {
		var m Message
		var id, t int64
		if err := rows.Scan(&id, &t, &m.Room, &m.User, &m.Text); err != nil {
			return nil, classify(err)
		}
		m.ID = uint64(id)
		m.Time = time.UnixMilli(t).UTC()
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err)
	}
	slices.Reverse(ms)
	return ms, nil
}

// cutoffMillis returns the oldest stored time, in milliseconds, that MaxAge
// keeps at now: a message is kept when its time is not before now-maxAge,
// and since stored times are whole milliseconds that is when it is at least
// that instant rounded up to a whole millisecond.
func cutoffMillis(now time.Time, maxAge time.Duration) int64 {
	c := now.Add(-maxAge)
	ms := c.UnixMilli() // rounds down, also before 1970
	if c.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}
