package conformance

import (
	"bytes"
	"encoding/json"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The scripts of the HTML tests. Against the echo server, htmlHostile
// fails with the server's echo of markup as the first difference, and
// passes against the model server; htmlQuiet passes on both; shouldScript
// is NON-STRICT on the echo server; htmlSkipped needs an extension that is
// not selected.
const (
	htmlHostile = `# tags: core
# rules: NAME-1

# alice gives a name that is markup
connect alice
send alice 'USERNAME <script>alert(1)</script>'
recv alice 'ERROR Invalid username'
`
	htmlQuiet   = "# tags: core\n# rules: FRAME-1\n\nconnect alice\nquiet alice\n"
	htmlSkipped = "# tags: core, limits\n# rules: LIMIT-1\n\nconnect alice\n"
	evilName    = `../evil "name"<script>`
)

// htmlFixture is two reports: of the echo server, with every verdict the
// pages colour, a result whose every text is hostile and a failed model
// checker; and of the model server, with fewer scripts.
type htmlFixture struct{ echo, ref Report }

func newHTMLFixture(t *testing.T) htmlFixture {
	t.Helper()
	parse := func(name, text string) *Script {
		sc, err := parseScript(name+".txtar", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	hostile, quiet, should, skipped := parse("html_hostile", htmlHostile), parse("html_quiet", htmlQuiet),
		parse("html_should", shouldScript), parse("html_skipped", htmlSkipped)
	run := func(addr string, scripts ...*Script) []Result {
		r, err := NewRunner(Config{Addr: addr, Scripts: scripts, Wire: true, Tags: []string{"core"}, Timeout: 300 * time.Millisecond, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return r.RunAll(nil)
	}
	echoAddr, refAddr := startEcho(t), startModelServerT(t)
	echo := run(echoAddr, hostile, quiet, should, skipped)
	evil := Result{
		Script: &Script{Name: evilName, File: "evil.txtar", Tags: []string{"core"},
			Rules: []string{"USER-1", "<i>OWN-1</i>"},
			Text:  []byte("# tags: core\n# rules: USER-1 <i>OWN-1</i>\n\nsend a '<script>alert(1)</script>'\n")},
		Status: Fail, Duration: 1500 * time.Millisecond, U: `"><script>`,
		Reason: "<script>alert(1)</script>", Log: "<script>alert(1)</script>\n", ServerLog: "</pre><script>alert(1)</script>\n",
		Wire: []WireEvent{
			{Client: "a", Kind: WireNote, Text: "connected"},
			{Kind: WireElided, Text: "... <script>alert(1)</script> 3 events not shown ..."},
			{At: time.Millisecond, Client: `<script>`, Kind: WireSent, Text: "<script>alert(1)</script>"},
			{At: 2 * time.Millisecond, Client: "a", Kind: WireReceived, Text: "late <b>", Unread: true},
		},
	}
	model := Result{
		Script: &Script{Name: "model", Tags: []string{"core", "ping", "input"}, Rules: []string{"USER-2"}},
		Status: Fail, Duration: time.Second, Reason: "USER-2: <script>alert(1)</script>",
		Log: "connect c0\nsend c0 'USERNAME <script>alert(1)</script>'\n",
	}
	echo = append(echo, evil, model)
	ref := run(refAddr, hostile, quiet, skipped)
	started := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return htmlFixture{
		echo: Report{Server: "echo", Target: "-addr " + echoAddr, Seed: 1, Started: started, Summary: Summarize(1, echo), Results: echo},
		ref:  Report{Server: "model server", Target: "-addr " + refAddr, Seed: 1, Started: started, Summary: Summarize(1, ref), Results: ref},
	}
}

func (fx htmlFixture) columns() []MatrixColumn {
	return []MatrixColumn{{Name: "echo", Report: fx.echo}, {Name: "model server", Report: fx.ref}}
}

// checkStatuses checks that the fixture's scripts had the verdicts the
// tests rely on.
func (fx htmlFixture) checkStatuses(t *testing.T) {
	t.Helper()
	for _, c := range []struct {
		rep  Report
		want []Status
	}{
		{fx.echo, []Status{Fail, Pass, NonStrict, Skip, Fail, Fail}},
		{fx.ref, []Status{Pass, Pass, Skip}},
	} {
		var got []Status
		for _, r := range c.rep.Results {
			got = append(got, r.Status)
		}
		if !slices.Equal(got, c.want) {
			for _, r := range c.rep.Results {
				t.Logf("%s %s: %s\n%s", c.rep.Server, r.Script.Name, r.Status, r.Log)
			}
			t.Fatalf("%s: statuses %v, want %v", c.rep.Server, got, c.want)
		}
	}
}

// readPages returns every file under dir, by path relative to dir.
func readPages(t *testing.T, dir string) map[string]string {
	t.Helper()
	pages := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		pages[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

var (
	linkAttr = regexp.MustCompile(`(?i)\s(href|src|action|srcset|poster|data)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)`)
	idAttr   = regexp.MustCompile(`\sid="([^"]*)"`)
)

// ids returns the ids of the elements of a page, and reports duplicates.
func ids(t *testing.T, name, page string) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range idAttr.FindAllStringSubmatch(page, -1) {
		id := html.UnescapeString(m[1])
		if seen[id] {
			t.Errorf("%s: two elements have id %q", name, id)
		}
		seen[id] = true
	}
	return seen
}

// checkLinks checks that every link of every page under dir is relative
// and leads to a file under dir, and to an element of it where it names a
// fragment. It returns the pages.
func checkLinks(t *testing.T, dir string) map[string]string {
	t.Helper()
	pages := readPages(t, dir)
	idsOf := map[string]map[string]bool{}
	for name, page := range pages {
		if strings.HasSuffix(name, ".html") {
			idsOf[name] = ids(t, name, page)
		}
	}
	links := 0
	for name, page := range pages {
		if !strings.HasSuffix(name, ".html") {
			continue
		}
		for _, m := range linkAttr.FindAllStringSubmatch(page, -1) {
			links++
			raw := html.UnescapeString(strings.Trim(m[2], `"'`))
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/") || raw == "" {
				t.Errorf("%s: %s=%q is not a relative link", name, m[1], raw)
				continue
			}
			target := name
			if u.Path != "" {
				target = filepath.ToSlash(filepath.Join(filepath.Dir(name), filepath.FromSlash(u.Path)))
			}
			if _, ok := pages[target]; !ok || strings.HasPrefix(target, "../") {
				t.Errorf("%s: %s=%q leads to %s, which is not a file of the report", name, m[1], raw, target)
				continue
			}
			if u.Fragment != "" && !idsOf[target][u.Fragment] {
				t.Errorf("%s: %s=%q: %s has no element with id %q", name, m[1], raw, target, u.Fragment)
			}
		}
	}
	if links == 0 {
		t.Errorf("no links in %d pages", len(pages))
	}
	return pages
}

// checkSafe checks that no page has a raw script tag or markup from the
// results, or loads anything from elsewhere.
func checkSafe(t *testing.T, pages map[string]string) {
	t.Helper()
	for name, page := range pages {
		low := strings.ToLower(page)
		for _, bad := range []string{"<script", "<i>", "<b>", "http://", "https://", "<link", "<img", "<iframe", "@import", "url(", "src="} {
			if strings.Contains(low, bad) {
				i := strings.Index(low, bad)
				t.Errorf("%s contains %q: ...%s...", name, bad, page[max(0, i-80):min(len(page), i+80)])
			}
		}
	}
}

// ruleVerdict returns the verdict in the row of a rule on an index page.
func ruleVerdict(t *testing.T, page, id string) string {
	t.Helper()
	row := regexp.MustCompile(`(?s)<tr id="` + ruleAnchor(id) + `">(.*?)</tr>`).FindStringSubmatch(page)
	if row == nil {
		t.Fatalf("no row for %s", id)
	}
	all := regexp.MustCompile(`<span class="v v-[a-z-]+">([^<]*)</span>`).FindAllStringSubmatch(row[1], -1)
	if len(all) == 0 {
		t.Fatalf("row of %s has no verdict:\n%s", id, row[1])
	}
	return html.UnescapeString(all[len(all)-1][1])
}

func TestHTMLReport(t *testing.T) {
	fx := newHTMLFixture(t)
	fx.checkStatuses(t)
	root := t.TempDir()
	dir := filepath.Join(root, "report")
	if err := WriteHTML(dir, fx.echo); err != nil {
		t.Fatal(err)
	}
	// Nothing is written outside dir, whatever the scripts are called, and
	// every result has a page of its own.
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("%s holds %d entries, want only the report", root, len(entries))
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "scripts")); len(entries) != len(fx.echo.Results) {
		t.Errorf("%d pages of scripts, want %d", len(entries), len(fx.echo.Results))
	}
	pages := checkLinks(t, dir)
	checkSafe(t, pages)
	index := pages["index.html"]
	for _, r := range fx.echo.Results {
		if !strings.Contains(index, `href="scripts/`+pageNames([]Result{r})[0]+`.html"`) {
			t.Errorf("index.html has no link to the page of %q", r.Script.Name)
		}
	}

	// The failing script's page highlights the line that differed, links
	// to it, shows the server's markup as text, and quotes its rule.
	page := pages["scripts/html_hostile.html"]
	row := regexp.MustCompile(`<tr class="received differs" id="first-difference">.*</tr>`).FindString(page)
	if !strings.Contains(row, "USERNAME &lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the first difference is not the escaped echo: %q", row)
	}
	if !strings.Contains(page, `href="#first-difference"`) {
		t.Errorf("html_hostile.html has no link to the first difference")
	}
	req, _ := requirement("NAME-1")
	if !strings.Contains(page, string(markdown(req.Text, "../index.html"))) || !strings.Contains(index, string(markdown(req.Text, ""))) {
		t.Errorf("the text of NAME-1 is missing: %s", req.Text)
	}
	if !strings.Contains(page, "recv alice: the next line differs") {
		t.Errorf("html_hostile.html lacks testscript's log")
	}
	// A page without a difference has no link to one.
	if p := pages["scripts/html_quiet.html"]; strings.Contains(p, "first-difference") {
		t.Errorf("html_quiet.html links to a difference it does not have")
	}
	// Unread lines and elisions are marked.
	evil := pages["scripts/"+pageNames([]Result{fx.echo.Results[4]})[0]+".html"]
	for _, want := range []string{
		`<tr class="received unread">`,
		`<tr class="elided"><td colspan="4">... &lt;script&gt;alert(1)&lt;/script&gt; 3 events not shown ...</td></tr>`,
		"not a rule of PROTOCOL.md",
		"../evil &#34;name&#34;&lt;script&gt;",
	} {
		if !strings.Contains(evil, want) {
			t.Errorf("the page of %q lacks %q", evilName, want)
		}
	}
	if p := pages["scripts/html_should.html"]; !strings.Contains(p, "<dd>DISC-5</dd>") || !strings.Contains(p, "v-non-strict") {
		t.Errorf("html_should.html does not show the SHOULD missed")
	}
	if p := pages["scripts/model.html"]; !strings.Contains(p, "The failing sequence, shrunk, as a script") ||
		!strings.Contains(p, "send c0 &#39;USERNAME &lt;script&gt;alert(1)&lt;/script&gt;&#39;") {
		t.Errorf("model.html does not show the shrunk sequence")
	}

	// The index: the run, the counts, the command that reproduces the
	// failures, and each rule's verdict, the worst of its checks'.
	for _, want := range []string{
		"<code>" + html.EscapeString(fx.echo.Target) + "</code>",
		"2025-01-02 03:04:05 UTC",
		html.EscapeString(reproduceLine(fx.echo)),
		"a SHOULD was missed",
	} {
		if !strings.Contains(index, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if !strings.HasPrefix(reproduceLine(fx.echo), "chatconform -addr 127.0.0.1:") {
		t.Errorf("reproduce line %q", reproduceLine(fx.echo))
	}
	for id, want := range map[string]string{
		"NAME-1":       "FAIL",
		"FRAME-1":      "PASS",
		"DISC-5":       "NON-STRICT",
		"USER-1":       "FAIL", // NON-STRICT from html_should, FAIL from evilName
		"LIMIT-1":      "SKIP",
		"USER-2":       "FAIL", // the model checker's
		"SHUT-1":       "—",    // nothing in this run checks it
		"<i>OWN-1</i>": "FAIL", // not a rule of PROTOCOL.md
	} {
		if got := ruleVerdict(t, index, id); got != want {
			t.Errorf("verdict of %s: %q, want %q", id, got, want)
		}
	}
}

// TestHTMLMatrix writes a matrix of two servers and checks its cells,
// links and matrix.json. With CHAT_HTML_OUT set to a directory, it also
// writes the matrix there, to look at.
func TestHTMLMatrix(t *testing.T) {
	fx := newHTMLFixture(t)
	fx.checkStatuses(t)
	dir := t.TempDir()
	if out := os.Getenv("CHAT_HTML_OUT"); out != "" {
		if err := WriteMatrix(out, fx.columns()); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote the matrix to %s", out)
	}
	if err := WriteMatrix(dir, fx.columns()); err != nil {
		t.Fatal(err)
	}
	pages := checkLinks(t, dir)
	checkSafe(t, pages)

	var m struct {
		Servers []struct {
			Name, Dir, Target, Seed string
			Summary                 struct {
				Passed, Failed int
				NonStrict      int `json:"non_strict"`
			}
		}
		Scripts []struct {
			Name, Section, Strength string
			Rules                   []string
			Verdicts                map[string]string
		}
	}
	if err := json.Unmarshal([]byte(pages["matrix.json"]), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Servers) != 2 || m.Servers[0].Name != "echo" || m.Servers[0].Dir != "echo" || m.Servers[1].Name != "model server" ||
		m.Servers[1].Dir != "model_server" || m.Servers[0].Summary.Failed != 3 || m.Servers[0].Summary.NonStrict != 1 || m.Servers[1].Summary.Passed != 2 {
		t.Errorf("servers: %+v", m.Servers)
	}
	verdicts := map[string]map[string]string{}
	var order []string
	for _, s := range m.Scripts {
		verdicts[s.Name] = s.Verdicts
		order = append(order, s.Name)
	}
	want := map[string]map[string]string{
		"html_hostile": {"echo": "FAIL", "model server": "PASS"},
		"html_quiet":   {"echo": "PASS", "model server": "PASS"},
		"html_should":  {"echo": "NON-STRICT"},
		"html_skipped": {"echo": "SKIP", "model server": "SKIP"},
		evilName:       {"echo": "FAIL"},
		"model":        {"echo": "FAIL"},
	}
	for name, w := range want {
		if got := verdicts[name]; len(got) != len(w) || !mapsEqual(got, w) {
			t.Errorf("verdicts of %q: %v, want %v", name, got, w)
		}
	}
	// Rows are grouped by the section of their first rule, in the order of
	// PROTOCOL.md; the model checker comes last.
	if wantOrder := []string{"html_quiet", "html_hostile", evilName, "html_should", "html_skipped", "model"}; !slices.Equal(order, wantOrder) {
		t.Errorf("scripts in the order %q, want %q", order, wantOrder)
	}

	// The cells of the table link to each server's page of the script.
	index := pages["index.html"]
	rows := regexp.MustCompile(`(?s)<tr class="script">(.*?)</tr>`).FindAllStringSubmatch(index, -1)
	if len(rows) != len(want) {
		t.Fatalf("%d rows of scripts, want %d", len(rows), len(want))
	}
	cell := regexp.MustCompile(`<td class="cell">(?:<a class="v v-[a-z-]+" href="([^"]*)">([^<]*)</a>|<span class="v v-none">&mdash;</span>)</td>`)
	for _, row := range rows {
		cells := cell.FindAllStringSubmatch(row[1], -1)
		if len(cells) != 2 {
			t.Errorf("row with %d cells: %s", len(cells), row[1])
			continue
		}
		if strings.Contains(row[1], ">html_hostile ") {
			if cells[0][1] != "echo/scripts/html_hostile.html" || cells[0][2] != "FAIL" ||
				cells[1][1] != "model_server/scripts/html_hostile.html" || cells[1][2] != "PASS" {
				t.Errorf("cells of html_hostile: %q", cells)
			}
		}
		if strings.Contains(row[1], ">html_should ") && (cells[0][2] != "NON-STRICT" || cells[1][1] != "") {
			t.Errorf("cells of html_should: %q", cells)
		}
	}
	for _, want := range []string{`href="echo/index.html"`, `href="model_server/index.html"`, "<br>1 NON-STRICT"} {
		if !strings.Contains(index, want) {
			t.Errorf("the matrix lacks %s", want)
		}
	}
	// Each server's report links back up to the matrix.
	if !strings.Contains(pages["echo/scripts/html_quiet.html"], `href="../../index.html"`) {
		t.Errorf("a script's page does not link to the matrix")
	}

	// The output is the same every time.
	again := t.TempDir()
	if err := WriteMatrix(again, fx.columns()); err != nil {
		t.Fatal(err)
	}
	pages2 := readPages(t, again)
	if len(pages2) != len(pages) {
		t.Errorf("%d files, then %d", len(pages), len(pages2))
	}
	for name, p := range pages {
		if pages2[name] != p {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestHTMLMatrixDirs(t *testing.T) {
	rep := Report{Server: "x"}
	for _, tc := range []struct {
		cols []MatrixColumn
		want string // an error, or the directories
	}{
		{[]MatrixColumn{{Name: "chatd"}, {Name: "Chat D!"}, {Name: "chat_d"}}, "chatd chat_d chat_d-2"},
		{[]MatrixColumn{{Name: "a", Dir: "b"}, {Name: "b"}}, "b b-2"},
		{[]MatrixColumn{{Name: "a"}, {Name: "a"}}, "two columns are called"},
		{[]MatrixColumn{{Name: ""}}, "has no name"},
		{[]MatrixColumn{{Name: "a", Dir: "../a"}}, "not a plain file name"},
		{[]MatrixColumn{{Name: "a", Dir: "Index.html"}}, "not a plain file name"},
		{[]MatrixColumn{{Name: "a", Dir: "x"}, {Name: "b", Dir: "X"}}, "two columns use"},
	} {
		for i := range tc.cols {
			tc.cols[i].Report = rep
		}
		dirs, err := matrixDirs(tc.cols)
		got := strings.Join(dirs, " ")
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("matrixDirs(%+v) = %q, want %q", tc.cols, got, tc.want)
		}
	}
}

func TestHTMLNames(t *testing.T) {
	results := func(names ...string) []Result {
		var rs []Result
		for _, n := range names {
			rs = append(rs, Result{Script: &Script{Name: n}})
		}
		return rs
	}
	got := pageNames(results("join_x", "join_x", "Join_X", "../../etc/passwd", "", "con", strings.Repeat("a", 200)))
	if got[0] != "join_x" || got[1] != "join_x-2" || got[2] == got[0] || got[5] != "con" {
		t.Errorf("pageNames = %q", got)
	}
	seen := map[string]bool{}
	for _, n := range got {
		if !safeFile.MatchString(n) || seen[n] {
			t.Errorf("page name %q is not safe or not unique: %q", n, got)
		}
		seen[n] = true
	}
	if !strings.HasPrefix(got[3], "etc_passwd-") || !strings.HasPrefix(got[4], "script-") {
		t.Errorf("derived names %q", got)
	}
}

func TestHTMLMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"`USERNAME <name>` replies **512 bytes** of *text line*.": "<code>USERNAME &lt;name&gt;</code> replies <strong>512 bytes</strong> of <em>text line</em>.",
		"a <script>alert(1)</script> & `x":                        "a &lt;script&gt;alert(1)&lt;/script&gt; &amp; `x",
		"1*VCHAR and 2*3":                                         "1*VCHAR and 2*3",
		"**<b>**":                                                 "<strong>&lt;b&gt;</strong>",
		"see JOIN-4 and `JOIN-4`, not NOPE-1":                     `see <a href="../index.html#rule-join-4">JOIN-4</a> and <code>JOIN-4</code>, not NOPE-1`,
	} {
		if got := string(markdown(in, "../index.html")); got != want {
			t.Errorf("markdown(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHTMLEmpty: a run without results still makes a report whose links
// hold.
func TestHTMLEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := WriteHTML(dir, Report{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMatrix(filepath.Join(dir, "m"), []MatrixColumn{{Name: "none"}}); err != nil {
		t.Fatal(err)
	}
	pages := checkLinks(t, dir)
	checkSafe(t, pages)
	if !bytes.Contains([]byte(pages["m/matrix.json"]), []byte(`"scripts": []`)) {
		t.Errorf("matrix.json: %s", pages["m/matrix.json"])
	}
}
