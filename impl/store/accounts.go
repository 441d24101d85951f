package store

import (
	"fmt"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Load reads what the server keeps in memory: every account and the last
// message ID.
func (db *DB) Load() (Snapshot, error) {
	s, err := db.load()
	if err != nil {
		return Snapshot{}, fmt.Errorf("store: load %s: %w", db.path, err)
	}
	return s, nil
}

func (db *DB) load() (Snapshot, error) {
	var s Snapshot
	rows, err := db.sql.Query("SELECT name, hash FROM accounts ORDER BY fold")
	if err != nil {
		return s, classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.Name, &a.Hash); err != nil {
			return s, classify(err)
		}
		s.Accounts = append(s.Accounts, a)
	}
	if err := rows.Err(); err != nil {
		return s, classify(err)
	}
	var last int64
	err = db.sql.QueryRow(`SELECT max(
		(SELECT value FROM meta WHERE key = 'last_id'),
		coalesce((SELECT max(id) FROM messages), 0))`).Scan(&last)
	if err != nil {
		return s, classify(err)
	}
	s.LastID = uint64(last)
	var lastTime int64
	err = db.sql.QueryRow(`SELECT max(
		coalesce((SELECT value FROM meta WHERE key = 'last_time'), 0),
		coalesce((SELECT max(time) FROM messages), 0))`).Scan(&lastTime)
	if err != nil {
		return s, classify(err)
	}
	if lastTime > 0 {
		s.LastTime = time.UnixMilli(lastTime).UTC()
	}
	return s, nil
}

// SetPassword replaces the password hash of the account name (any case).
// It returns an error wrapping [ErrNoAccount] if there is none. It is meant
// for the operator's subcommand, which runs while the server does not.
func (db *DB) SetPassword(name, hash string) error {
	res, err := db.sql.Exec("UPDATE accounts SET hash = ? WHERE fold = ?", hash, spec.Fold(name))
	if err == nil {
		err = affectedOne(res.RowsAffected())
	}
	if err != nil {
		return fmt.Errorf("store: set password of %q: %w", name, classify(err))
	}
	return nil
}

// DeleteAccount deletes the account name (any case), keeping its messages.
// It returns an error wrapping [ErrNoAccount] if there is none. It is meant
// for the operator's subcommand, which runs while the server does not.
func (db *DB) DeleteAccount(name string) error {
	res, err := db.sql.Exec("DELETE FROM accounts WHERE fold = ?", spec.Fold(name))
	if err == nil {
		err = affectedOne(res.RowsAffected())
	}
	if err != nil {
		return fmt.Errorf("store: delete account %q: %w", name, classify(err))
	}
	return nil
}

// affectedOne turns "no row changed" into ErrNoAccount.
func affectedOne(n int64, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNoAccount
	}
	return nil
}
