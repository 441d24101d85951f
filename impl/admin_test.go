package impl_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/store"
)

// registerOn starts a server on the database of cfg, registers name with
// password there, and shuts it down.
func registerOn(t *testing.T, cfg impl.Config, name, password string) {
	t.Helper()
	ts := startServer(t, cfg)
	c := ts.dial(t, name)
	c.send("CAPS accounts")
	c.expect("OK Enabled accounts")
	c.send("USERNAME " + name)
	c.expect("OK Welcome, " + name + "!")
	c.send("REGISTER " + password)
	c.expect("OK Registered " + name)
	c.conn.Close()
	if err := ts.shutdown(); err != nil {
		t.Fatal(err)
	}
}

// login checks what a LOGIN is answered on a server on the database of cfg.
func login(t *testing.T, cfg impl.Config, line, want string) {
	t.Helper()
	ts := startServer(t, cfg)
	c := ts.dial(t, "login")
	c.send("CAPS accounts")
	c.expect("OK Enabled accounts")
	c.send(line)
	c.expect(want)
	c.conn.Close()
	if err := ts.shutdown(); err != nil {
		t.Fatal(err)
	}
}

// TestOperatorTools: ResetPassword and DeleteAccount change a database no
// server holds, and fail clearly while one does, for a name without an
// account, or for a database that does not exist, which they do not
// create.
func TestOperatorTools(t *testing.T) {
	t.Parallel()
	cfg := withDB(t, extConfig())
	registerOn(t, cfg, "Alice", "correct-horse")

	srv, err := impl.Open(cfg) // holds the file, without serving
	if err != nil {
		t.Fatal(err)
	}
	if err := impl.ResetPassword(cfg.DB, "alice", "battery-staple", passwd.Cheap); !errors.Is(err, store.ErrInUse) || !strings.Contains(err.Error(), "stop the server") {
		t.Errorf("ResetPassword while a server holds the database: %v, want ErrInUse and what to do", err)
	}
	if err := impl.DeleteAccount(cfg.DB, "alice"); !errors.Is(err, store.ErrInUse) {
		t.Errorf("DeleteAccount while a server holds the database: %v, want ErrInUse", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	if err := impl.ResetPassword(cfg.DB, "nobody", "battery-staple", passwd.Cheap); !errors.Is(err, store.ErrNoAccount) {
		t.Errorf("ResetPassword of nobody: %v, want ErrNoAccount", err)
	}
	for _, bad := range []string{"short", "has a space", "tab\there", strings.Repeat("x", 129)} {
		if err := impl.ResetPassword(cfg.DB, "alice", bad, passwd.Cheap); err == nil {
			t.Errorf("ResetPassword took the password %q", bad)
		}
	}
	missing := filepath.Join(filepath.Dir(cfg.DB), "missing.db")
	if err := impl.DeleteAccount(missing, "alice"); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("DeleteAccount on a missing file: %v, want an error naming it", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("DeleteAccount created a database")
	}

	if err := impl.ResetPassword(cfg.DB, "ALICE", "battery-staple", passwd.Cheap); err != nil {
		t.Fatal(err)
	}
	login(t, cfg, "LOGIN alice correct-horse", "ERROR Login failed")
	login(t, cfg, "LOGIN alice battery-staple", "OK Welcome, Alice!")
	if err := impl.DeleteAccount(cfg.DB, "aLiCe"); err != nil {
		t.Fatal(err)
	}
	if err := impl.DeleteAccount(cfg.DB, "alice"); !errors.Is(err, store.ErrNoAccount) {
		t.Errorf("DeleteAccount twice: %v, want ErrNoAccount", err)
	}
	login(t, cfg, "USERNAME alice", "OK Welcome, alice!")
}

// TestOpenRefuses: Open fails on a file that is not a database, and on one
// another server holds, naming it, and leaves the file as it was: never a
// fresh start.
func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	cfg := withDB(t, extConfig())
	junk := bytes.Repeat([]byte("these are not the pages you are looking for\n"), 200)
	if err := os.WriteFile(cfg.DB, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := impl.Open(cfg); !errors.Is(err, store.ErrNotDatabase) || !strings.Contains(err.Error(), cfg.DB) {
		t.Errorf("Open on a file of text: %v, want ErrNotDatabase naming the file", err)
	}
	if b, _ := os.ReadFile(cfg.DB); !bytes.Equal(b, junk) {
		t.Error("Open changed a file that is not a database")
	}

	cfg = withDB(t, extConfig())
	first, err := impl.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Shutdown(context.Background())
	if second, err := impl.Open(cfg); !errors.Is(err, store.ErrInUse) {
		if err == nil {
			second.Shutdown(context.Background())
		}
		t.Errorf("a second Open of one database: %v, want ErrInUse", err)
	}
}

// TestNewPanicsWithDB: a server with a database is made by Open, which can
// fail; New would have to hide the failure.
func TestNewPanicsWithDB(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("New with Config.DB did not panic")
		}
	}()
	impl.New(withDB(t, impl.Config{}))
}
