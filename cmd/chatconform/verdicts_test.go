package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// suiteDir writes scripts into a new directory and returns a chatconform
// that runs them.
func suiteDir(t *testing.T, scripts map[string]string) func(args ...string) (int, string) {
	dir := t.TempDir()
	for name, text := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func(args ...string) (int, string) {
		var out bytes.Buffer
		code := run(append([]string{"-dir", dir, "-timeout", "500ms"}, args...), &out, &out)
		return code, out.String()
	}
}

// greeterScripts: one passes against startGreeter, one misses a SHOULD
// (the greeter does not answer MSG), one is of an extension.
var greeterScripts = map[string]string{
	"user_ok.txtar": header + "connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n",
	"disc_should.txtar": "# tags: core\n# rules: DISC-5 USER-1\n\nconnect a\nsend a 'USERNAME a$U'\nrecv a 'OK Welcome, a$U!'\n" +
		"should DISC-5\nsend a 'JOIN #r$U'\nrecv a 'OK Joined #r$U (0 users)'\nmust\n",
	"limit_one.txtar": "# tags: core, limits\n# rules: LIMIT-1\n\nconnect a\n",
}

// TestStrict: a missed SHOULD is NON-STRICT, reported with its report,
// and exits 0; with -strict it is a failure.
func TestStrict(t *testing.T) {
	addr := startGreeter(t)
	chatconform := suiteDir(t, greeterScripts)
	code, out := chatconform("-addr", addr, "-tags", "core,ping")
	if code != exitPass || !strings.Contains(out, "NON-STRICT disc_should") || !strings.Contains(out, "a SHOULD failed: DISC-5") ||
		!strings.Contains(out, "1 passed, 0 failed, 1 non-strict (a SHOULD missed), 1 skipped") {
		t.Errorf("exit %d, want 0 with a NON-STRICT:\n%s", code, out)
	}
	if !strings.Contains(out, "recv a: no line arrived within") {
		t.Errorf("a NON-STRICT result is shown without its report:\n%s", out)
	}
	html := filepath.Join(t.TempDir(), "report")
	code, out = chatconform("-addr", addr, "-tags", "core,ping", "-html", html)
	page, err := os.ReadFile(filepath.Join(html, "scripts", "disc_should.html"))
	if code != exitPass || !strings.Contains(out, "HTML report: "+filepath.Join(html, "index.html")) || err != nil || !strings.Contains(string(page), "NON-STRICT") {
		t.Errorf("-html: exit %d, page %v\n%s", code, err, out)
	}
	code, out = chatconform("-addr", addr, "-tags", "core,ping", "-strict")
	if code != exitFail || !strings.Contains(out, "FAIL  disc_should") || !strings.Contains(out, "(-strict)") {
		t.Errorf("-strict: exit %d, want 1 with a FAIL:\n%s", code, out)
	}
}

// TestList: -list prints every script with its strength, tags and rules,
// and runs nothing (no server is given).
func TestList(t *testing.T) {
	chatconform := suiteDir(t, greeterScripts)
	code, out := chatconform("-list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitPass || len(lines) != 4 || lines[3] != "3 scripts" {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for i, want := range [][]string{
		{"disc_should", "MUST", "core", "DISC-5 USER-1"},
		{"limit_one", "MUST", "core,limits", "LIMIT-1"},
		{"user_ok", "MUST", "core", "USER-1"},
	} {
		if f := strings.Fields(lines[i]); len(f) < 4 || f[0] != want[0] || f[1] != want[1] || f[2] != want[2] || strings.Join(f[3:], " ") != want[3] {
			t.Errorf("line %d: %q, want %q", i, lines[i], want)
		}
	}
	if code, out := chatconform("-list", "-run", "user"); code != exitPass || !strings.HasSuffix(strings.TrimSpace(out), "1 scripts") {
		t.Errorf("-list -run user: exit %d\n%s", code, out)
	}
	// The built-in suite: a script of SHOULDs only is listed as such.
	var b bytes.Buffer
	if code := run([]string{"-list", "-run", "^disc_halfclose_flush$"}, &b, &b); code != exitPass || !strings.Contains(b.String(), "disc_halfclose_flush") || !strings.Contains(b.String(), "SHOULD") {
		t.Errorf("built-in -list: exit %d\n%s", code, b.String())
	}
}

// TestExpect: -write-expect pins the verdicts; -expect passes while they
// hold, even with failures among them, and fails naming each change.
func TestExpect(t *testing.T) {
	addr := startGreeter(t)
	scripts := map[string]string{}
	for k, v := range greeterScripts {
		scripts[k] = v
	}
	scripts["user_bad.txtar"] = header + "connect a\nsend a 'USERNAME a$U'\nrecv a 'OK Bienvenue, a$U!'\n"
	chatconform := suiteDir(t, scripts)
	file := filepath.Join(t.TempDir(), "expected")
	if code, out := chatconform("-addr", addr, "-write-expect", file); code != exitFail {
		t.Fatalf("exit %d, want 1 (user_bad fails)\n%s", code, out)
	}
	data, _ := os.ReadFile(file)
	for _, want := range []string{"user_bad FAIL\n", "user_ok PASS\n", "disc_should NON-STRICT\n", "limit_one PASS\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("expectations lack %q:\n%s", want, data)
		}
	}
	if code, out := chatconform("-addr", addr, "-expect", file); code != exitPass || !strings.Contains(out, "every verdict is as") {
		t.Errorf("-expect with the same verdicts: exit %d\n%s", code, out)
	}
	// user_bad now passes, user_ok now fails: both changes are named.
	scripts["user_bad.txtar"], scripts["user_ok.txtar"] = scripts["user_ok.txtar"], scripts["user_bad.txtar"]
	chatconform = suiteDir(t, scripts)
	code, out := chatconform("-addr", addr, "-expect", file)
	if code != exitFail || !strings.Contains(out, "better: user_bad was FAIL, now PASS") || !strings.Contains(out, "worse: user_ok was PASS, now FAIL") {
		t.Errorf("-expect with changes: exit %d\n%s", code, out)
	}
}

// TestServers: -servers runs the suite against every server of the file
// and writes the matrix, with a column per server; -expect covers every
// cell. A server that cannot be tested gets a column that says so.
func TestServers(t *testing.T) {
	addr := startGreeter(t)
	chatconform := suiteDir(t, greeterScripts)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "core.manifest")
	os.WriteFile(manifest, []byte("implements ping\n"), 0o644)
	servers := filepath.Join(dir, "servers")
	os.WriteFile(servers, []byte("# two names for one server, and one that is not there\n"+
		"first -addr "+addr+"\n"+
		"second -addr '"+addr+"' -manifest core.manifest\n"+
		"gone -addr 127.0.0.1:1\n"), 0o644)
	html := filepath.Join(dir, "report")
	expect := filepath.Join(dir, "expected")
	code, out := chatconform("-servers", servers, "-html", html, "-write-expect", expect, "-timeout", "300ms")
	if code != exitFail {
		t.Errorf("exit %d, want 1 (gone cannot be tested)\n%s", code, out)
	}
	for _, want := range []string{"== server 1 of 3: first", "== server 3 of 3: gone", "second: UNIMPLEMENTED limit_one", "gone: 0 passed, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var m struct {
		Servers []struct{ Name string }
		Scripts []struct {
			Name     string
			Verdicts map[string]string
		}
	}
	data, err := os.ReadFile(filepath.Join(html, "matrix.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Servers) != 3 {
		t.Errorf("servers %+v", m.Servers)
	}
	verdicts := map[string]string{}
	for _, sc := range m.Scripts {
		for server, v := range sc.Verdicts {
			verdicts[server+" "+sc.Name] = v
		}
	}
	for key, want := range map[string]string{
		"first user_ok": "PASS", "first disc_should": "NON-STRICT", "first limit_one": "PASS",
		"second limit_one": "UNIMPLEMENTED", "gone preflight": "FAIL",
	} {
		if verdicts[key] != want {
			t.Errorf("%s: %q, want %q (all: %v)", key, verdicts[key], want, verdicts)
		}
	}
	for _, page := range []string{"index.html", "first/index.html", "second/scripts/limit_one.html", "gone/index.html"} {
		if _, err := os.Stat(filepath.Join(html, page)); err != nil {
			t.Errorf("matrix page: %v", err)
		}
	}
	data, _ = os.ReadFile(expect)
	if !strings.Contains(string(data), "second limit_one UNIMPLEMENTED\n") {
		t.Errorf("expectations of the matrix:\n%s", data)
	}
	if code, out := chatconform("-servers", servers, "-html", t.TempDir(), "-expect", expect, "-timeout", "300ms"); code != exitPass {
		t.Errorf("-servers -expect with the same verdicts: exit %d\n%s", code, out)
	}
}

// TestServersFile: the errors of a -servers file name its line.
func TestServersFile(t *testing.T) {
	for text, want := range map[string]string{
		"a -addr x:1\na -addr x:2\n":     ":2: server a is listed twice",
		"a\n":                            ":1: give a either -exec or -addr",
		"a -exec 'x {port}' -addr x:1\n": ":1: give a either -exec or -addr",
		"a -port 1\n":                    ":1: unknown option -port",
		"a/b -addr x:1\n":                ":1: \"a/b\" is not a server name",
		"a -addr\n":                      ":1: -addr needs a value",
		"# nothing\n":                    "no servers",
	} {
		file := filepath.Join(t.TempDir(), "servers")
		os.WriteFile(file, []byte(text), 0o644)
		if _, err := parseServers(file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
	var out bytes.Buffer
	if code := run([]string{"-servers", "x"}, &out, &out); code != exitUsage || !strings.Contains(out.String(), "give -html too") {
		t.Errorf("-servers without -html: exit %d\n%s", code, out.String())
	}
}

// TestTransportFlags: -transport names a transport of PROTOCOL.md 2.1, and
// the TLS flags go with tls only; -list shows which scripts are a
// transport's own.
func TestTransportFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "127.0.0.1:1", "-transport", "wss"},
		{"-addr", "127.0.0.1:1", "-tls-insecure"},
		{"-addr", "127.0.0.1:1", "-transport", "framed4", "-tls-ca", "x.pem"},
		{"-addr", "127.0.0.1:1", "-transport", "tls", "-tls-ca", "/nonexistent.pem"},
	} {
		var out bytes.Buffer
		if code := run(args, &out, &out); code != exitUsage {
			t.Errorf("%q: exit %d, want %d\n%s", args, code, exitUsage, out.String())
		}
	}
	var out bytes.Buffer
	if code := run([]string{"-list", "-run", "^(framed|tls|ws)_"}, &out, &out); code != exitPass ||
		!strings.Contains(out.String(), "framed_payloads") || !strings.Contains(out.String(), "core,tls") {
		t.Errorf("-list of the transports' scripts: exit %d\n%s", code, out.String())
	}
}
