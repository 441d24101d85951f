package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance"
)

// TestSkipTags: -skip-tags leaves out the scripts of a tag, from all tags
// or from -tags, saying why; an unknown tag is a usage error.
func TestSkipTags(t *testing.T) {
	addr := startGreeter(t)
	chatconform := suiteDir(t, greeterScripts)
	code, out := chatconform("-addr", addr, "-skip-tags", "limits")
	if code != exitPass || !strings.Contains(out, "SKIP  limit_one") || !strings.Contains(out, "needs the limits extension, not selected by -tags or -skip-tags") ||
		!strings.Contains(out, "PASS  user_ok") {
		t.Errorf("-skip-tags limits: exit %d\n%s", code, out)
	}
	code, out = chatconform("-addr", addr, "-tags", "core,limits", "-skip-tags", "limits,ping")
	if code != exitPass || !strings.Contains(out, "SKIP  limit_one") {
		t.Errorf("-tags core,limits -skip-tags limits,ping: exit %d\n%s", code, out)
	}
	if code, out := chatconform("-addr", addr, "-skip-tags", "shoes"); code != exitUsage || !strings.Contains(out, `-skip-tags: unknown tag "shoes"`) {
		t.Errorf("-skip-tags shoes: exit %d, want %d\n%s", code, exitUsage, out)
	}
}

// TestExecRestart checks what ExecServer does for the durable scripts,
// with chatconform -serve-model -state as the server: {dir} is a new
// directory for each server started, kept across its restarts, graceful
// or killed, and removed by Stop; a restart keeps the port; and the model
// keeps its accounts in the directory across both kinds of restart. Then
// it runs the durable scripts of the suite against it.
func TestExecRestart(t *testing.T) {
	t.Parallel()
	bin := buildChatconform(t)
	start, err := conformance.ExecServer(`sh -c 'echo "dir=$1" >&2; exec "$0" -serve-model -addr "$2" -state "$1/model.events"' ` + bin + ` {dir} {addr}`)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	m := regexp.MustCompile(`dir=(\S+)`).FindStringSubmatch(srv.Log())
	if m == nil {
		t.Fatalf("the server did not print its {dir}:\n%s", srv.Log())
	}
	dir := m[1]
	events := filepath.Join(dir, "model.events")
	if _, err := os.Stat(events); err != nil {
		t.Fatalf("{dir}: %v", err)
	}
	other, err := start(nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(other.Log(), "dir="+dir+"\n") {
		t.Errorf("two servers share {dir} %s", dir)
	}
	other.Stop()

	r, ok := srv.(conformance.Restarter)
	if !ok {
		t.Fatalf("%T is no Restarter", srv)
	}
	addr := srv.Addr()
	talk(t, addr, "CAPS accounts", "OK Enabled accounts", "USERNAME kept", "OK Welcome, kept!", "REGISTER password1", "OK Registered kept")
	for _, kill := range []bool{false, true} {
		c := dialT(t, srv.Addr())
		// A PONG proves the server has the connection, so that its
		// shutdown must tell it (SHUT-1); a connection still in the
		// listener's backlog would only be closed.
		if _, err := io.WriteString(c, "PING here\r\n"); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(io.LimitReader(c, int64(len("PONG here\r\n")))).ReadString('\n'); line != "PONG here\r\n" {
			t.Fatalf("PING here: %q, %v", line, err)
		}
		if err := r.Restart(kill); err != nil {
			t.Fatalf("Restart(%v): %v", kill, err)
		}
		want := "ERROR Server shutting down\r\n"
		if kill {
			want = ""
		}
		if got, _ := io.ReadAll(c); string(got) != want {
			t.Errorf("Restart(%v): the old connection received %q, want %q and its end", kill, got, want)
		}
		if srv.Addr() != addr {
			t.Logf("Restart(%v): the port changed, from %s to %s", kill, addr, srv.Addr())
		}
		if strings.Count(srv.Log(), "dir="+dir+"\n") < 2 {
			t.Errorf("Restart(%v): the new process has another {dir}:\n%s", kill, srv.Log())
		}
		talk(t, srv.Addr(), "CAPS accounts", "OK Enabled accounts", "LOGIN kept password1", "OK Welcome, kept!")
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("{dir} %s after Stop: %v; want it removed", dir, err)
	}

	// The durable scripts pass against the model with -state.
	start, err = conformance.ExecServer(bin + " -serve-model -addr {addr} -state {dir}/model.events")
	if err != nil {
		t.Fatal(err)
	}
	runner, err := conformance.NewRunner(conformance.Config{Start: start, Scripts: loadScripts(t), Run: regexp.MustCompile(`^hist_(restart|kill)$`)})
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	results := runner.RunAll(nil)
	if len(results) != 2 {
		t.Fatalf("%d durable scripts, want hist_restart and hist_kill", len(results))
	}
	for _, res := range results {
		if res.Status != conformance.Pass {
			t.Errorf("%s %s\n%s", res.Status, res.Script.Name, conformance.Details(res))
		}
	}
}

// dialT connects to addr for the rest of the test.
func dialT(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// talk connects to addr and sends each even line of lines, checking that
// the next one answers it; then it leaves.
func talk(t *testing.T, addr string, lines ...string) {
	t.Helper()
	c := dialT(t, addr)
	br := bufio.NewReader(c)
	for i := 0; i+1 < len(lines); i += 2 {
		io.WriteString(c, lines[i]+"\r\n")
		got, err := br.ReadString('\n')
		if got != lines[i+1]+"\r\n" {
			t.Fatalf("to %q: %q (%v); want %q", lines[i], got, err, lines[i+1])
		}
	}
	io.WriteString(c, "QUIT\r\n")
	io.Copy(io.Discard, br)
}
