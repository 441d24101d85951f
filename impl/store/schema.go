package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// schemaVersion is the version of the schema below, kept in the meta table.
// A file with another version is refused ([ErrSchema]) rather than guessed
// at; a later version of this package migrates explicitly.
const schemaVersion = 1

// schema creates the tables of a new database. Times are milliseconds since
// the Unix epoch, UTC. Rooms and names are stored as spelled and, for
// lookups, folded. The time index lets age-based trimming find old messages
// without scanning the table.
const schema = `
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;
CREATE TABLE accounts (
	fold TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	hash TEXT NOT NULL
) STRICT;
CREATE TABLE messages (
	id        INTEGER PRIMARY KEY,
	time      INTEGER NOT NULL,
	room_fold TEXT NOT NULL,
	room      TEXT NOT NULL,
	user      TEXT NOT NULL,
	text      TEXT NOT NULL
) STRICT;
CREATE INDEX messages_room ON messages (room_fold, id);
CREATE INDEX messages_time ON messages (time);
`

// setup runs on a freshly opened DB: it creates the schema in an empty file
// or checks an existing one, switches the file to WAL mode, and proves that
// the file can be written, all before Open returns. Nothing is written to a
// file before it has passed the checks.
func (db *DB) setup() error {
	var tables int
	if err := db.sql.QueryRow("SELECT count(*) FROM sqlite_schema").Scan(&tables); err != nil {
		return classify(err)
	}
	if tables > 0 {
		if err := db.quickCheck(); err != nil {
			return err
		}
		if err := db.checkVersion(); err != nil {
			return err
		}
	}
	var mode string
	if err := db.sql.QueryRow("PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return classify(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not WAL", mode)
	}
	tx, err := db.sql.Begin()
	if err != nil {
		return classify(err)
	}
	defer tx.Rollback()
	if tables == 0 {
		if _, err := tx.Exec(schema); err != nil {
			return fmt.Errorf("create schema: %w", classify(err))
		}
		if _, err := tx.Exec("INSERT INTO meta (key, value) VALUES ('schema', ?), ('last_id', 0)", schemaVersion); err != nil {
			return fmt.Errorf("create schema: %w", classify(err))
		}
	} else {
		// A write that changes nothing, so that a file that can be read
		// but not written fails here and not at the first batch.
		if _, err := tx.Exec("UPDATE meta SET value = value WHERE key = 'schema'"); err != nil {
			return classify(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return classify(err)
	}
	return nil
}

// quickCheck runs PRAGMA quick_check, which reads the whole file and
// verifies its structure (but not that indexes match their tables).
func (db *DB) quickCheck() error {
	rows, err := db.sql.Query("PRAGMA quick_check(5)")
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return classify(err)
		}
		problems = append(problems, s)
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	if len(problems) == 1 && problems[0] == "ok" {
		return nil
	}
	return fmt.Errorf("%w: quick_check: %s", ErrCorrupt, strings.Join(problems, "; "))
}

// checkVersion refuses a database without our meta table or with another
// schema version.
func (db *DB) checkVersion() error {
	var n int
	if err := db.sql.QueryRow("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").Scan(&n); err != nil {
		return classify(err)
	}
	if n == 0 {
		return fmt.Errorf("%w: no table meta (not a roomchat database?)", ErrSchema)
	}
	var v int64
	err := db.sql.QueryRow("SELECT value FROM meta WHERE key = 'schema'").Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%w: no schema version in table meta", ErrSchema)
	case err != nil:
		return fmt.Errorf("%w: reading the schema version: %w", ErrSchema, classify(err))
	case v != schemaVersion:
		return fmt.Errorf("%w: schema version %d, this program knows %d", ErrSchema, v, schemaVersion)
	}
	return nil
}
