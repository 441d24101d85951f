package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The database of -db (HIST-5), tested on the chatd binary: a crash under
// load, the files chatd must refuse, and the account subcommands.

// cheapHashes are the flags that make password hashes nearly free, for
// tests.
var cheapHashes = []string{"-argon2-memory", "64", "-argon2-time", "1"}

// startDB runs chatd on the database db with args besides.
func startDB(t *testing.T, db string, args ...string) *daemon {
	t.Helper()
	return startDaemon(t, append(append([]string{"-addr", "127.0.0.1:0", "-db", db, "-log-interval", "1h"}, cheapHashes...), args...)...)
}

// lineClient is a client that reads whole lines, for the tests of this file.
type lineClient struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialLines(t *testing.T, addr string) *lineClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, failAfter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(failAfter))
	return &lineClient{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *lineClient) send(line string) error {
	_, err := c.conn.Write([]byte(line + "\r\n"))
	return err
}

func (c *lineClient) read() (string, error) {
	line, err := c.r.ReadString('\n')
	return strings.TrimSuffix(line, "\r\n"), err
}

// must sends line and checks the replies.
func (c *lineClient) must(line string, want ...string) {
	c.t.Helper()
	if err := c.send(line); err != nil {
		c.t.Fatal(err)
	}
	for _, w := range want {
		got, err := c.read()
		if err != nil || got != w {
			c.t.Fatalf("after %q: got %q, %v; want %q", line, got, err, w)
		}
	}
}

// stored is a room message as a MESSAGE or HISTORY line gives it.
type stored struct {
	id               uint64
	room, user, text string
}

// parseStored parses "MESSAGE|HISTORY id time room user text".
func parseStored(line string) (stored, bool) {
	f := strings.SplitN(line, " ", 6)
	if len(f) != 6 || f[0] != "MESSAGE" && f[0] != "HISTORY" {
		return stored{}, false
	}
	id, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return stored{}, false
	}
	return stored{id: id, room: f[3], user: f[4], text: f[5]}, true
}

// fetchAll pages back through room's history with HISTORY (HIST-3) and
// returns it oldest first, checking that IDs grow.
func fetchAll(t *testing.T, c *lineClient, room string) []stored {
	t.Helper()
	var pages [][]stored
	before := "*"
	for {
		if err := c.send("HISTORY " + room + " " + before + " 100"); err != nil {
			t.Fatal(err)
		}
		var page []stored
		for {
			line, err := c.read()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(line, "OK History ") {
				if want := fmt.Sprintf("OK History %s (%d messages)", room, len(page)); line != want {
					t.Fatalf("got %q, want %q", line, want)
				}
				break
			}
			m, ok := parseStored(line)
			if !ok || !strings.HasPrefix(line, "HISTORY ") {
				t.Fatalf("unexpected line %q in the reply to HISTORY", line)
			}
			page = append(page, m)
		}
		pages = append(pages, page)
		if len(page) < 100 {
			break
		}
		before = strconv.FormatUint(page[0].id, 10)
	}
	var all []stored
	for i := len(pages) - 1; i >= 0; i-- {
		all = append(all, pages[i]...)
	}
	for i := 1; i < len(all); i++ {
		if all[i].id <= all[i-1].id {
			t.Fatalf("%s: ID %d after %d: IDs do not grow", room, all[i].id, all[i-1].id)
		}
	}
	return all
}

// TestCrash kills chatd with SIGKILL while clients send room messages,
// each as soon as the echo of its last one came, restarts it on the same
// file and fetches the whole history: every message whose echo a client
// received is there, with its ID, the IDs are unique, and a new message
// gets an ID above them all (HIST-5). CHAT_SOAK=1 runs it 20 times.
func TestCrash(t *testing.T) {
	t.Parallel()
	runs := 1
	if os.Getenv("CHAT_SOAK") == "1" {
		runs = 20
	}
	for i := range runs {
		total := 150 + i*97 // kill at a different point each time
		t.Run(strconv.Itoa(i), func(t *testing.T) { crashOnce(t, filepath.Join(t.TempDir(), "chat.db"), total) })
	}
}

// crashOnce runs the load until total echoes have come, kills chatd, and
// checks what the restarted one has.
func crashOnce(t *testing.T, db string, total int) {
	rooms := []string{"#even", "#odd"}
	d := startDB(t, db)
	const senders = 4
	var (
		mu     sync.Mutex
		echoed []stored
		wg     sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	for i := range senders {
		c := dialLines(t, d.addr)
		user := fmt.Sprintf("u%d", i)
		room := rooms[i%2]
		c.must("CAPS history", "OK Enabled history")
		c.must("USERNAME "+user, "OK Welcome, "+user+"!")
		if err := c.send("JOIN " + room); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				text := fmt.Sprintf("m-%s-%d", user, seq)
				if c.send(text) != nil {
					return
				}
				for { // until the echo, or the end
					line, err := c.read()
					if err != nil {
						return // killed
					}
					m, ok := parseStored(line)
					if !ok || m.user != user {
						continue // the roster, others' messages
					}
					if m.text != text || m.room != room {
						t.Errorf("%s: echo %q, want %q in %s", user, line, text, room)
						return
					}
					mu.Lock()
					echoed = append(echoed, m)
					if len(echoed) >= total {
						once.Do(func() { close(enough) })
					}
					mu.Unlock()
					break
				}
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(failAfter):
		t.Fatalf("fewer than %d echoes in %v:\n%s", total, failAfter, d.log())
	}
	if err := d.cmd.Process.Kill(); err != nil { // SIGKILL, mid-run
		t.Fatal(err)
	}
	<-d.logged
	d.cmd.Wait()
	wg.Wait()

	d2 := startDB(t, db)
	c := dialLines(t, d2.addr)
	c.must("CAPS history", "OK Enabled history")
	c.must("USERNAME checker", "OK Welcome, checker!")
	have := map[uint64]stored{}
	var top uint64
	for _, room := range rooms {
		for _, m := range fetchAll(t, c, room) {
			if _, dup := have[m.id]; dup {
				t.Fatalf("ID %d is stored twice", m.id)
			}
			have[m.id] = m
			top = max(top, m.id)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range echoed {
		if got, ok := have[m.id]; !ok || got != m {
			t.Errorf("echoed message %+v is not stored as echoed (found %+v, %v)", m, got, ok)
		}
		top = max(top, m.id)
	}
	c.must("JOIN #even", "OK Joined #even (0 users)")
	if err := c.send("after the crash"); err != nil {
		t.Fatal(err)
	}
	line, err := c.read()
	m, ok := parseStored(line)
	if err != nil || !ok || m.text != "after the crash" {
		t.Fatalf("got %q, %v, want the echo", line, err)
	}
	if m.id <= top {
		t.Fatalf("the new message got ID %d, not above %d", m.id, top)
	}
	t.Logf("%d echoed, %d stored, killed after ID %d", len(echoed), len(have), top)
	c.conn.Close()
	if err := d2.stop(t, os.Interrupt); err != nil {
		t.Fatalf("chatd: %v\n%s", err, d2.log())
	}
}

// TestBadDatabase: chatd does not start on a file that is not a database,
// a damaged one, or a path it cannot create, and says which file: it exits
// 1 and never starts afresh.
func TestBadDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database\n"), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "damaged.db")
	d := startDB(t, damaged)
	c := dialLines(t, d.addr)
	c.must("CAPS history", "OK Enabled history")
	c.must("USERNAME alice", "OK Welcome, alice!")
	c.must("JOIN #r", "OK Joined #r (0 users)")
	for i := range 200 {
		if err := c.send(fmt.Sprintf("message %d %s", i, strings.Repeat("x", 200))); err != nil {
			t.Fatal(err)
		}
		if _, err := c.read(); err != nil {
			t.Fatal(err)
		}
	}
	c.conn.Close() // so that the shutdown need not linger for it
	if err := d.stop(t, os.Interrupt); err != nil {
		t.Fatal(err)
	}
	damage(t, damaged)
	notDir := filepath.Join(garbage, "chat.db")

	for _, tc := range []struct{ path, want string }{
		{garbage, "not a database"},
		{damaged, "corrupt"},
		{filepath.Join(dir, "missing", "chat.db"), "no such file or directory"},
		{notDir, "not a directory"},
	} {
		before, _ := os.ReadFile(tc.path)
		cmd := exec.Command(chatdBinary(t), append([]string{"-addr", "127.0.0.1:0", "-db", tc.path}, cheapHashes...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("chatd -db %s: %v, want exit status 1\n%s", tc.path, err, stderr.String())
			continue
		}
		log := stderr.String()
		if !strings.Contains(log, `msg="cannot open the database"`) || !strings.Contains(log, tc.path) || !strings.Contains(log, tc.want) {
			t.Errorf("chatd -db %s: the log does not say %q about the file:\n%s", tc.path, tc.want, log)
		}
		if strings.Contains(log, "msg=listening") {
			t.Errorf("chatd -db %s listened:\n%s", tc.path, log)
		}
		if after, _ := os.ReadFile(tc.path); !bytes.Equal(before, after) {
			t.Errorf("chatd -db %s changed the file", tc.path)
		}
	}
}

// damage overwrites the middle of a database file, past its header, as a
// disk might.
func damage(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 3*4096 {
		t.Fatalf("%s has only %d bytes", path, len(b))
	}
	for i := 4096; i < len(b)-4096; i++ {
		b[i] = 0x5a
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAccountCommand: "chatd account" resets a password and deletes an
// account in a database no chatd holds, and fails clearly while one does,
// or for a name without an account.
func TestAccountCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "chat.db")
	account := func(stdin string, args ...string) (int, string) {
		cmd := exec.Command(chatdBinary(t), append([]string{"account"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0, string(out)
		case errors.As(err, &exit):
			return exit.ExitCode(), string(out)
		}
		t.Fatal(err)
		return 0, ""
	}

	d := startDB(t, db)
	c := dialLines(t, d.addr)
	c.must("CAPS accounts", "OK Enabled accounts")
	c.must("USERNAME alice", "OK Welcome, alice!")
	c.must("REGISTER correct-horse", "OK Registered alice")
	if code, out := account("battery-staple\n", "reset-password", "-db", db, "alice"); code != 1 || !strings.Contains(out, "in use") {
		t.Errorf("reset-password while chatd holds the database: status %d, %q; want 1 and a message that it is in use", code, out)
	}
	c.conn.Close()
	if err := d.stop(t, os.Interrupt); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"", nil, 2, "usage"},
		{"", []string{"rename", "-db", db, "alice"}, 2, "usage"},
		{"", []string{"delete", "alice"}, 2, "need -db"},
		{"battery-staple\n", []string{"reset-password", "-db", db, "nobody"}, 1, "no such account"},
		{"short\n", []string{"reset-password", "-db", db, "alice"}, 1, "8 to 128 bytes"},
		{"has space\n", []string{"reset-password", "-db", db, "alice"}, 1, "no spaces"},
		{"", []string{"reset-password", "-db", db, "alice"}, 1, "standard input"},
		{"x", []string{"delete", "-db", filepath.Join(filepath.Dir(db), "other.db"), "alice"}, 1, "does not exist"},
		{"battery-staple\r\n", []string{"reset-password", "-db", db, "ALICE"}, 0, "password of ALICE changed"},
	} {
		if code, out := account(tc.stdin, tc.args...); code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("chatd account %q: status %d, %q; want %d and %q", tc.args, code, out, tc.code, tc.out)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(db), "other.db")); err == nil {
		t.Error("chatd account created a database")
	}

	d = startDB(t, db)
	c = dialLines(t, d.addr)
	c.must("CAPS accounts", "OK Enabled accounts")
	c.must("LOGIN alice correct-horse", "ERROR Login failed")
	c.must("LOGIN alice battery-staple", "OK Welcome, alice!")
	c.conn.Close()
	if err := d.stop(t, os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code, out := account("", "delete", "-db", db, "Alice"); code != 0 || !strings.Contains(out, "account Alice deleted") {
		t.Errorf("delete: status %d, %q", code, out)
	}
	d = startDB(t, db)
	c = dialLines(t, d.addr)
	c.must("USERNAME alice", "OK Welcome, alice!")
	c.conn.Close()
	if err := d.stop(t, os.Interrupt); err != nil {
		t.Fatal(err)
	}
}

// TestExtensionsFlag: chatd offers every extension (accounts, history and
// rooms) unless -extensions says otherwise; with none it is a core server
// (CAPS-1).
func TestExtensionsFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag []string
		want string
	}{
		{nil, "CAPS accounts history rooms"},
		{[]string{"-extensions", "history"}, "CAPS history"},
		{[]string{"-extensions", "rooms,accounts"}, "CAPS accounts rooms"},
		{[]string{"-extensions", "history, accounts"}, "CAPS accounts history"},
		{[]string{"-extensions", "none"}, "ERROR Username required"},
	} {
		d := startDaemon(t, append(append([]string{"-addr", "127.0.0.1:0", "-log-interval", "1h"}, cheapHashes...), tc.flag...)...)
		c := dialLines(t, d.addr)
		c.must("CAPS", tc.want)
		c.conn.Close()
		if err := d.stop(t, os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMaxRoomsFlag: -max-rooms is MaxRoomsPerUser, for a connection that
// enabled rooms (MULTI-2); a core connection is in one room at a time
// whatever it says (MULTI-1).
func TestMaxRoomsFlag(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, append([]string{"-addr", "127.0.0.1:0", "-log-interval", "1h", "-max-rooms", "2"}, cheapHashes...)...)
	c := dialLines(t, d.addr)
	c.must("CAPS rooms", "OK Enabled rooms")
	c.must("USERNAME alice", "OK Welcome, alice!")
	c.must("JOIN #a", "OK Joined #a (0 users)")
	c.must("JOIN #b", "OK Joined #b (0 users)")
	c.must("JOIN #c", "ERROR Too many rooms")
	c.must("LEAVE #a", "OK Left #a")
	c.must("JOIN #c", "OK Joined #c (0 users)")
	core := dialLines(t, d.addr)
	core.must("USERNAME bob", "OK Welcome, bob!")
	core.must("JOIN #b", "OK Joined #b (1 users)", "JOIN #b alice")
	core.must("JOIN #c", "OK Joined #c (1 users)", "JOIN #c alice")
	c.must("MSG #c hi", "JOIN #b bob", "LEAVE #b bob", "JOIN #c bob", "ROOM #c alice hi")
	c.conn.Close()
	core.conn.Close()
	if err := d.stop(t, os.Interrupt); err != nil {
		t.Fatal(err)
	}
}
