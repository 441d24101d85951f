package store

import (
	"bufio"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openTemp opens a new database in a temporary directory and closes it at
// the end of the test.
func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chat.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// msg returns message id in room, sent at t0 plus id seconds.
func msg(id uint64, room string) Message {
	return Message{ID: id, Time: t0.Add(time.Duration(id) * time.Second), Room: room, User: "alice", Text: fmt.Sprintf("text %d", id)}
}

// t0 is the time of message 0 in these tests.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestOpenNewFile(t *testing.T) {
	db, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %v, want 0600", perm)
	}
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Accounts) != 0 || s.LastID != 0 {
		t.Errorf("new database: %+v", s)
	}
	var mode, locking string
	if err := db.sql.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.sql.QueryRow("PRAGMA locking_mode").Scan(&locking); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || locking != "exclusive" {
		t.Errorf("journal_mode %q, locking_mode %q", mode, locking)
	}
}

func TestOpenOddPath(t *testing.T) {
	// A '?' or '%' in a path is part of the name, not a parameter.
	path := filepath.Join(t.TempDir(), "a?b=c%20d#e.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestRestart(t *testing.T) {
	db, path := openTemp(t)
	b := Batch{
		Messages: []Message{msg(1, "#a"), msg(2, "#B"), msg(7, "#a")},
		Put:      []Account{{Name: "Bob", Hash: "h1"}, {Name: "alice", Hash: "h2"}},
	}
	if err := db.Apply(b); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{{Name: "alice", Hash: "h2"}, {Name: "Bob", Hash: "h1"}}
	if fmt.Sprint(s.Accounts) != fmt.Sprint(want) || s.LastID != 7 {
		t.Errorf("Load = %+v, want accounts %v and LastID 7", s, want)
	}
	ms, err := db.Fetch(Query{Room: "#b"}, Retention{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0] != msg(2, "#B") {
		t.Errorf("Fetch #b = %+v", ms)
	}
}

func TestLastIDOutlivesTrim(t *testing.T) {
	db, _ := openTemp(t)
	if err := db.Apply(Batch{Messages: []Message{msg(5, "#a")}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Trim(Retention{MaxAge: time.Hour}, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ms, _ := db.Fetch(Query{Room: "#a"}, Retention{}); len(ms) != 0 {
		t.Fatalf("after trim: %v", ms)
	}
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if s.LastID != 5 {
		t.Errorf("LastID = %d after trimming, want 5", s.LastID)
	}
}

func TestApplyIsAtomic(t *testing.T) {
	db, _ := openTemp(t)
	if err := db.Apply(Batch{Messages: []Message{msg(1, "#a")}}); err != nil {
		t.Fatal(err)
	}
	for _, b := range []Batch{
		{Messages: []Message{msg(2, "#a"), msg(1, "#a")}, Put: []Account{{Name: "x", Hash: "h"}}}, // 1 is taken
		{Messages: []Message{msg(3, "#a"), {ID: 0, Room: "#a"}}},                                  // 0 is not an ID
		{Messages: []Message{msg(3, "#a"), {ID: 1 << 63, Room: "#a"}}},                            // does not fit
	} {
		if err := db.Apply(b); err == nil {
			t.Errorf("Apply(%+v) succeeded", b)
		}
	}
	s, _ := db.Load()
	ms, _ := db.Fetch(Query{Room: "#a"}, Retention{})
	if len(s.Accounts) != 0 || s.LastID != 1 || len(ms) != 1 {
		t.Errorf("failed batches left %+v, %+v", s, ms)
	}
}

func TestAccounts(t *testing.T) {
	db, _ := openTemp(t)
	apply := func(b Batch) {
		t.Helper()
		if err := db.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	accounts := func() string {
		t.Helper()
		s, err := db.Load()
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(s.Accounts)
	}
	apply(Batch{Put: []Account{{Name: "Alice", Hash: "1"}, {Name: "bob", Hash: "2"}}})
	apply(Batch{Put: []Account{{Name: "ALICE", Hash: "3"}}}) // replaces, spelling included
	if got, want := accounts(), "[{ALICE 3} {bob 2}]"; got != want {
		t.Errorf("after put: %s, want %s", got, want)
	}
	apply(Batch{Messages: []Message{msg(1, "#a")}, Delete: []string{"Bob", "nobody"}})
	if got, want := accounts(), "[{ALICE 3}]"; got != want {
		t.Errorf("after delete: %s, want %s", got, want)
	}
	// Put then Delete of one name in one batch: Delete comes last.
	apply(Batch{Put: []Account{{Name: "carol", Hash: "4"}}, Delete: []string{"Carol"}})
	if got, want := accounts(), "[{ALICE 3}]"; got != want {
		t.Errorf("after put+delete: %s, want %s", got, want)
	}

	if err := db.SetPassword("alice", "5"); err != nil {
		t.Fatal(err)
	}
	if got, want := accounts(), "[{ALICE 5}]"; got != want {
		t.Errorf("after SetPassword: %s, want %s", got, want)
	}
	if err := db.SetPassword("bob", "6"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("SetPassword(bob) = %v, want ErrNoAccount", err)
	}
	if err := db.DeleteAccount("bob"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("DeleteAccount(bob) = %v, want ErrNoAccount", err)
	}
	if err := db.DeleteAccount("Alice"); err != nil {
		t.Fatal(err)
	}
	if got := accounts(); got != "[]" {
		t.Errorf("after DeleteAccount: %s", got)
	}
	// History outlives the account.
	if ms, _ := db.Fetch(Query{Room: "#a"}, Retention{}); len(ms) != 1 || ms[0].User != "alice" {
		t.Errorf("history after deleting the sender: %+v", ms)
	}
}

// TestOpenBadFiles checks that every kind of unusable file is an error that
// names the path and leaves the file as it was, never a fresh database.
func TestOpenBadFiles(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "plain")
	writeFile(t, notDir, []byte("a regular file"))
	for _, tc := range []struct {
		name string
		make func(t *testing.T) string // returns the path to open
		want error                     // nil: any error
	}{
		{"garbage", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "chat.db")
			writeFile(t, path, []byte(strings.Repeat("not a database\n", 500)))
			return path
		}, ErrNotDatabase},
		{"truncated", func(t *testing.T) string {
			path := bigDatabase(t)
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
			return path
		}, ErrCorrupt},
		{"overwritten page", func(t *testing.T) string {
			path := bigDatabase(t)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, _ := f.Stat()
			if _, err := f.WriteAt([]byte(strings.Repeat("\xff", 4096)), fi.Size()/2/4096*4096); err != nil {
				t.Fatal(err)
			}
			return path
		}, ErrCorrupt},
		{"other schema", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "other.db")
			sdb, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			defer sdb.Close()
			if _, err := sdb.Exec("CREATE TABLE t (x)"); err != nil {
				t.Fatal(err)
			}
			return path
		}, ErrSchema},
		{"newer schema", func(t *testing.T) string {
			db, path := openTemp(t)
			if _, err := db.sql.Exec("UPDATE meta SET value = 2 WHERE key = 'schema'"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			return path
		}, ErrSchema},
		{"missing directory", func(t *testing.T) string {
			return filepath.Join(dir, "missing", "chat.db")
		}, os.ErrNotExist},
		{"parent is a file", func(t *testing.T) string {
			return filepath.Join(notDir, "chat.db")
		}, nil},
		{"path is a directory", func(t *testing.T) string {
			return t.TempDir()
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.make(t)
			before, _ := os.ReadFile(path)
			db, err := Open(path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) succeeded", path)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the path", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %q is not %q", err, tc.want)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Errorf("the failed Open changed the file")
			}
		})
	}
}

func TestOpenReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files; TestOpenBadFiles covers paths root cannot use")
	}
	t.Run("file", func(t *testing.T) {
		db, path := openTemp(t)
		db.Close()
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		if db, err := Open(path); err == nil {
			db.Close()
			t.Fatal("Open of a read-only file succeeded")
		} else if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path or is not ErrReadOnly", err)
		} else {
			t.Logf("error: %v", err)
		}
	})
	t.Run("new file in directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		path := filepath.Join(dir, "chat.db")
		if db, err := Open(path); err == nil {
			db.Close()
			t.Fatal("Open in a read-only directory succeeded")
		} else if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path or is not ErrReadOnly", err)
		} else {
			t.Logf("error: %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		db, path := openTemp(t)
		db.Close()
		dir := filepath.Dir(path)
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if db, err := Open(path); err == nil {
			db.Close()
			t.Fatal("Open in a read-only directory succeeded")
		} else if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the path or is not ErrReadOnly", err)
		} else {
			t.Logf("error: %v", err)
		}
	})
}

func TestOpenInUse(t *testing.T) {
	db, path := openTemp(t)
	_, err := Open(path)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open = %v, want ErrInUse", err)
	}
	t.Logf("error: %v", err)
	// The failed Open did not drop the first one's lock (closing any
	// descriptor of the file would): another process is still kept out.
	if got := helper(t, "try", path).wait(); got != "in use\n" {
		t.Errorf("another process: %q, want in use", got)
	}
	// And the first one is unharmed.
	if err := db.Apply(Batch{Messages: []Message{msg(1, "#a")}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(path)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	db2.Close()
}

func TestOpenInUseByAnotherProcess(t *testing.T) {
	db, path := openTemp(t)
	db.Close()
	h := helper(t, "hold", path)
	if line := h.line(); line != "ready\n" {
		t.Fatalf("helper said %q", line)
	}
	_, err := Open(path)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("Open while another process holds it = %v, want ErrInUse", err)
	}
	t.Logf("error: %v", err)
	h.wait()
	db, err = Open(path)
	if err != nil {
		t.Fatalf("Open after the other process exited: %v", err)
	}
	db.Close()
}

// TestCrash checks that what a process committed survives its exit without
// Close, with synchronous=NORMAL: SQLite recovers it from the WAL.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "chat.db")
	if got := helper(t, "crash", path).wait(); got != "committed\n" {
		t.Fatalf("helper said %q", got)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL after a crash: %v", err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Accounts) != 1 || s.LastID != 1 {
		t.Errorf("after the crash: %+v", s)
	}
}

// helperEnv tells TestHelper what to do: "hold:PATH", "try:PATH" or
// "crash:PATH".
const helperEnv = "STORE_TEST_HELPER"

// TestHelper is not a test but a child process for the tests above. With
// "hold:PATH" it opens PATH, says "ready" and holds it until its standard
// input closes; with "try:PATH" it says whether PATH can be opened; with
// "crash:PATH" it commits a batch and exits without closing PATH.
func TestHelper(t *testing.T) {
	what, path, ok := strings.Cut(os.Getenv(helperEnv), ":")
	if !ok {
		t.Skip("child process only")
	}
	db, err := Open(path)
	switch {
	case what == "try" && errors.Is(err, ErrInUse):
		fmt.Println("in use")
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	if what == "crash" {
		b := Batch{Messages: []Message{msg(1, "#a")}, Put: []Account{{Name: "alice", Hash: "h"}}}
		if err := db.Apply(b); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("committed")
		os.Exit(0) // without closing: the commit is only in the WAL
	}
	defer db.Close()
	if what == "try" {
		fmt.Println("opened")
		return
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// child is a running TestHelper.
type child struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.Closer
	out   *bufio.Reader
}

// helper starts TestHelper in a child process doing what with path.
func helper(t *testing.T, what, path string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelper$")
	cmd.Env = append(os.Environ(), helperEnv+"="+what+":"+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() { c.wait() })
	return c
}

// line returns the child's next line of output.
func (c *child) line() string {
	s, _ := c.out.ReadString('\n')
	return s
}

// wait closes the child's input and returns the first line of what is left
// of its output once it has exited.
func (c *child) wait() string {
	if c.cmd.ProcessState != nil {
		return ""
	}
	c.stdin.Close()
	s := c.line()
	io.Copy(io.Discard, c.out)
	if err := c.cmd.Wait(); err != nil {
		c.t.Errorf("helper: %v", err)
	}
	return s
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// bigDatabase returns the path of a closed database of many pages.
func bigDatabase(t *testing.T) string {
	t.Helper()
	db, path := openTemp(t)
	var b Batch
	for id := uint64(1); id <= 2000; id++ {
		m := msg(id, fmt.Sprintf("#room%d", id%7))
		m.Text = strings.Repeat("x", 200)
		b.Messages = append(b.Messages, m)
	}
	if err := db.Apply(b); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatalf("the WAL outlived Close")
	}
	return path
}

// TestLastTimeOutlivesTrim checks that Load returns the latest time ever
// stored, after the message that carried it was trimmed, so that a server
// whose clock went back while it was stopped keeps HIST-1.
func TestLastTimeOutlivesTrim(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chat.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	late := time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC)
	if err := db.Apply(Batch{Messages: []Message{
		{ID: 1, Time: late.Add(-time.Hour), Room: "#a", User: "u", Text: "one"},
		{ID: 2, Time: late, Room: "#a", User: "u", Text: "two"},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Trim(Retention{MaxAge: time.Minute}, late.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !s.LastTime.Equal(late) || s.LastID != 2 {
		t.Errorf("Load = LastID %d, LastTime %v; want 2, %v", s.LastID, s.LastTime, late)
	}
}
