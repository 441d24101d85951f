package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// The errors below say why a database could not be used. [Open] and the
// other methods wrap them with the path and the driver's own message, so
// test for them with errors.Is.
var (
	// ErrInUse means another process (or another DB in this one) holds the
	// database open.
	ErrInUse = errors.New("database is in use by another process")
	// ErrNotDatabase means the file exists but is not a SQLite database.
	ErrNotDatabase = errors.New("file is not a database")
	// ErrCorrupt means the file is a damaged SQLite database: truncated,
	// overwritten in part, or failing PRAGMA quick_check.
	ErrCorrupt = errors.New("database is corrupt")
	// ErrSchema means the file is a SQLite database but not one this
	// package wrote, or one written by a version with another schema.
	ErrSchema = errors.New("unknown database schema")
	// ErrReadOnly means the database can be read but not written, for
	// example because the file or its directory is read-only.
	ErrReadOnly = errors.New("database cannot be written")
	// ErrNoAccount is returned by the operator helpers for a name that has
	// no account.
	ErrNoAccount = errors.New("no such account")
)

// classify adds the matching sentinel error to an error from the SQLite
// driver, keeping the driver's text: "database is corrupt (database disk
// image is malformed (11))". Other errors are returned as they are.
func classify(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	var kind error
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		kind = ErrInUse
	case sqlite3.SQLITE_NOTADB:
		kind = ErrNotDatabase
	case sqlite3.SQLITE_CORRUPT:
		kind = ErrCorrupt
	case sqlite3.SQLITE_READONLY:
		kind = ErrReadOnly
	default:
		return err
	}
	return fmt.Errorf("%w (%w)", kind, err)
}
