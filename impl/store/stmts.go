package store

import (
	"context"
	"database/sql/driver"
	"fmt"
)

// The write path runs its statements on the driver's connection directly,
// each prepared once and kept. A commit of a message or two is mostly
// fixed costs: parsing a statement costs about as much as running it, a
// BEGIN and a COMMIT are statements too, and database/sql adds its own
// bookkeeping to each. Statements prepared through database/sql on a
// transaction would still leave BEGIN and COMMIT to be parsed anew each
// time.

// stmtID names a statement of the write path.
type stmtID uint8

const (
	stmtBegin stmtID = iota
	stmtCommit
	stmtRollback
	stmtInsert
	stmtPut
	stmtDelete
	stmtCheckpoint
	numStmts
)

// stmtSQL is the text of each statement.
var stmtSQL = [numStmts]string{
	stmtBegin:    "BEGIN IMMEDIATE",
	stmtCommit:   "COMMIT",
	stmtRollback: "ROLLBACK",
	stmtInsert:   "INSERT INTO messages (id, time, room_fold, room, user, text) VALUES (?, ?, ?, ?, ?, ?)",
	stmtPut: `INSERT INTO accounts (fold, name, hash) VALUES (?, ?, ?)
		ON CONFLICT (fold) DO UPDATE SET name = excluded.name, hash = excluded.hash`,
	stmtDelete:     "DELETE FROM accounts WHERE fold = ?",
	stmtCheckpoint: "PRAGMA wal_checkpoint(PASSIVE)",
}

// stmts are the statements of the write path prepared on one connection,
// each when first used. Owned by whoever holds db.write.
type stmts struct {
	conn driver.Conn           // the connection they were prepared on
	list [numStmts]driver.Stmt // nil until first used
	args []driver.NamedValue   // reused by exec
}

// withConn runs f with the DB's one connection, held for the duration, and
// the statements prepared on it. The caller holds db.write.
func (db *DB) withConn(f func(s *stmts) error) error {
	c, err := db.sql.Conn(context.Background())
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		conn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection %T", dc)
		}
		if db.stmts.conn != conn {
			// database/sql replaced a connection it found broken; the
			// statements went with the old one.
			db.stmts = stmts{conn: conn, args: db.stmts.args}
		}
		return f(&db.stmts)
	})
}

// exec runs the statement id with args and returns how many rows it
// changed.
func (s *stmts) exec(id stmtID, args ...driver.Value) (int64, error) {
	st := s.list[id]
	if st == nil {
		p, ok := s.conn.(driver.ConnPrepareContext)
		if !ok {
			return 0, fmt.Errorf("driver connection %T cannot prepare", s.conn)
		}
		var err error
		if st, err = p.PrepareContext(context.Background(), stmtSQL[id]); err != nil {
			return 0, classify(err)
		}
		s.list[id] = st
	}
	x, ok := st.(driver.StmtExecContext)
	if !ok {
		return 0, fmt.Errorf("driver statement %T cannot execute", st)
	}
	s.args = s.args[:0]
	for i, v := range args {
		s.args = append(s.args, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	res, err := x.ExecContext(context.Background(), s.args)
	clear(s.args) // drop the strings
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}

// close finalizes the statements, as SQLite closes a connection only once
// none is left.
func (s *stmts) close() error {
	var first error
	for i, st := range s.list {
		if st != nil {
			if err := st.Close(); err != nil && first == nil {
				first = err
			}
			s.list[i] = nil
		}
	}
	return first
}

// checkpoint copies what the WAL holds into the database file, as far as
// it can without waiting, so that the WAL starts again from its beginning
// at the next commit.
func (db *DB) checkpoint() error {
	db.write.Lock()
	defer db.write.Unlock()
	return db.withConn(func(s *stmts) error {
		_, err := s.exec(stmtCheckpoint)
		return err
	})
}
