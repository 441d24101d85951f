package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// busyTimeout is how long a connection waits for a lock another process
// holds before [Open] gives up with [ErrInUse]: long enough to ride out a
// process that is just closing the file, short enough that a second chatd
// fails at once.
const busyTimeout = 250 // milliseconds

// autoCheckpoint is the size of the WAL, in pages, past which a commit
// copies the WAL into the database file (a checkpoint) before it returns.
// A checkpoint syncs both files, which takes milliseconds, so the [Writer]
// checkpoints on its own between batches, while nothing is queued, long
// before the WAL grows that large; this is for a Writer that never finds
// a pause, and for the DB's other users. SQLite's default is 1,000.
const autoCheckpoint = 10000

// DB is an open database file.
//
// A DB holds exactly one SQLite connection for its whole life: with
// locking_mode=EXCLUSIVE in WAL mode the connection that first touches the
// file keeps an exclusive lock on it and keeps the WAL index in its own
// memory, so no other connection, in this process or another, can read or
// write the file until the DB is closed. database/sql's pool is therefore
// limited to that one connection and never retires it; concurrent callers
// (the [Writer] and [Reader] goroutines) wait their turn for it. A fetch thus
// waits for a batch being committed, which with synchronous=NORMAL is a write
// to the WAL without fsync.
//
// One consequence of SQLite's use of POSIX locks: the process must not open
// and close the database file by other means while the DB is open (closing
// any descriptor of a file drops every POSIX lock the process holds on it).
//
// The methods of DB are safe for concurrent use.
type DB struct {
	path string  // as given to Open, for error messages
	wal  string  // the absolute path of the WAL file
	sql  *sql.DB // one connection; see above

	// write is held by a commit, a trim or a checkpoint from before its
	// transaction begins until the fields below are up to date with its
	// outcome. Fetch and the other reads do not take it.
	write sync.Mutex
	stmts stmts // the write path's statements (stmts.go)
	// counts maps a folded room to the number of its messages, for the
	// rooms counted so far (trim.go). It stays right because every change
	// to the messages is a commit or a trim, under write, and no other
	// process can open the file.
	counts map[string]int
}

// Options are the settings of [OpenWith] beyond the path.
type Options struct {
	// SyncFull sets synchronous=FULL: every commit waits for an fsync of
	// the WAL, so a committed batch survives a power failure. The default,
	// synchronous=NORMAL, syncs only at checkpoints: a committed batch
	// survives a crash of the process but the last ones may be lost in a
	// power failure, and the database stays consistent either way.
	SyncFull bool
}

// Open opens the database file at path with the default [Options], creating
// it (and the schema) if it does not exist. See [OpenWith].
func Open(path string) (*DB, error) {
	return OpenWith(path, Options{})
}

// OpenWith opens the database file at path, creating it with mode 0600 (it
// holds password hashes) and creating the schema if the file is new or
// empty. An existing file is checked: its schema version must be the one
// this package writes, and PRAGMA quick_check must pass. It is never
// replaced by a fresh database: a file that is not a database
// ([ErrNotDatabase]), is damaged ([ErrCorrupt]), has another schema
// ([ErrSchema]), cannot be written ([ErrReadOnly]) or is held by another
// process ([ErrInUse]) is an error that names the path, as is a path whose
// directory does not exist.
//
// The returned DB holds the file exclusively until [DB.Close].
func OpenWith(path string, o Options) (*DB, error) {
	db, err := open(path, o)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return db, nil
}

func open(path string, o Options) (*DB, error) {
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	dsn := dataSource(abs, o)
	wal := abs + "-wal"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(1)
	sdb.SetMaxIdleConns(1)
	sdb.SetConnMaxLifetime(0)
	sdb.SetConnMaxIdleTime(0)
	db := &DB{path: path, wal: wal, sql: sdb, counts: make(map[string]int)}
	if err := db.setup(); err != nil {
		sdb.Close()
		return nil, explain(path, err)
	}
	return db, nil
}

// createPrivate makes sure that path's directory exists and that path is
// not a directory, and creates the file with mode 0600 if it is missing, so
// that SQLite (which would create it with mode 0644) finds it; SQLite gives
// its WAL file the same mode. An empty file is a new database to SQLite.
//
// It never opens an existing file: closing a descriptor of a file drops the
// POSIX locks this process holds on it, another DB's included.
func createPrivate(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w (%w)", ErrReadOnly, err)
	case err != nil:
		return err
	}
	return f.Close()
}

// explain improves the error of a failed setup that none of our errors
// describes. SQLite opens a file that it cannot write read-only and then
// fails to lock it with "disk I/O error"; trying to open the file for
// writing says why. That is safe once SQLite's connection is closed, unless
// another DB of this process holds the file, which setup reports as
// ErrInUse.
func explain(path string, err error) error {
	for _, known := range []error{ErrInUse, ErrReadOnly, ErrNotDatabase, ErrCorrupt, ErrSchema} {
		if errors.Is(err, known) {
			return err
		}
	}
	f, werr := os.OpenFile(path, os.O_RDWR, 0)
	if werr != nil {
		return fmt.Errorf("%w (%w)", ErrReadOnly, werr)
	}
	f.Close()
	return err
}

// dataSource returns the driver's name for the absolute path abs: a file:
// URI, so that any byte of the path (a '?' included) is escaped rather than
// read as the start of the parameters, carrying the settings of every
// connection. The driver runs busy_timeout first, then the _pragma values
// in order: locking_mode must be EXCLUSIVE before the first WAL access so
// that the WAL index lives in the connection's memory and the lock is
// never released. WAL mode itself is a property of the file, which setup
// sets once the file has passed its checks, so that a failed Open leaves a
// foreign file as it was. Transactions begin IMMEDIATE so that a write
// transaction takes the write lock at once. See autoCheckpoint for
// wal_autocheckpoint.
func dataSource(abs string, o Options) string {
	sync := "NORMAL"
	if o.SyncFull {
		sync = "FULL"
	}
	q := url.Values{}
	q.Set("_busy_timeout", strconv.Itoa(busyTimeout))
	q.Set("_txlock", "immediate")
	q.Add("_pragma", "locking_mode(EXCLUSIVE)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(autoCheckpoint)+")")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if u.Path[0] != '/' { // a Windows volume: file:///C:/...
		u.Path = "/" + u.Path
	}
	return u.String()
}

// Close closes the database, releasing the file. Close the [Writer] and the
// [Reader] first.
func (db *DB) Close() error {
	db.write.Lock()
	// Finalize the prepared statements first: SQLite keeps a connection
	// open, and the file locked, until none is left.
	var err error
	if db.stmts.conn != nil {
		err = db.withConn(func(s *stmts) error { return s.close() })
		db.stmts = stmts{}
	}
	db.write.Unlock()
	if cerr := db.sql.Close(); cerr != nil || err != nil {
		if err == nil {
			err = cerr
		}
		return fmt.Errorf("store: close %s: %w", db.path, classify(err))
	}
	return nil
}
