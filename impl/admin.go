package impl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/store"
	"roomchat.dev/roomchat/spec"
)

// The operator's tools for accounts in a database (chatd account ...). They
// open the file themselves, so they fail while a server holds it: the
// store takes an exclusive lock (store.ErrInUse).

// ResetPassword sets the password of the account name (any case) in the
// database at path, hashed with p. The password must be one a client could
// give (ACCT-1): PasswordMin to PasswordMax bytes of word characters. It
// fails if the database does not exist, is held by a running server, or
// has no such account (store.ErrNoAccount).
func ResetPassword(path, name, password string, p passwd.Params) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := passwd.Hash(password, p)
	if err != nil {
		return err
	}
	return withDatabase(path, func(db *store.DB) error { return db.SetPassword(name, hash) })
}

// DeleteAccount deletes the account name (any case) from the database at
// path, keeping its messages; the name is free again. It fails if the
// database does not exist, is held by a running server, or has no such
// account (store.ErrNoAccount).
func DeleteAccount(path, name string) error {
	return withDatabase(path, func(db *store.DB) error { return db.DeleteAccount(name) })
}

// CheckPassword reports why password could not be sent in a REGISTER or a
// PASSWORD (ACCT-1, 13.2's password rule), or nil.
func CheckPassword(password string) error {
	if !spec.ValidPassword(password) {
		return fmt.Errorf("a password is %d to %d bytes long", spec.PasswordMin, spec.PasswordMax)
	}
	if strings.Contains(password, " ") || spec.CheckLine([]byte(password)) != "" {
		return errors.New("a password has no spaces, control characters or invalid UTF-8")
	}
	return nil
}

// withDatabase opens the existing database at path, runs f on it and
// closes it.
func withDatabase(path string, f func(*store.DB) error) (err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("database %s does not exist", path)
	}
	db, err := store.Open(path)
	if errors.Is(err, store.ErrInUse) {
		return fmt.Errorf("%w: stop the server that holds it first", err)
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	}()
	return f(db)
}
