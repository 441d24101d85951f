package conformance

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumNames are the names under which a Chromium binary may be on PATH.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"}

// findChromium returns the path of a Chromium binary on PATH, or "".
func findChromium() string {
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserMatrix opens a matrix of two servers in headless Chromium,
// from a file:// URL as a reader would, and checks from the DOM that the
// table has a row per script and a cell per server, that the pages load
// nothing and run no script, and that a cell's link leads to the script's
// page, where the line that differed is highlighted.
//
// It skips when no Chromium is on PATH (chromium, chromium-browser,
// google-chrome or headless-shell); CI installs Debian's chromium package.
//
// With CHAT_SCREENSHOT set to the path of a PNG file (absolute, or relative
// to the conformance directory), it also saves a screenshot of the whole
// matrix page, 1200 pixels wide, there. The screenshot under docs/ is made
// so:
//
//	CHAT_SCREENSHOT=$PWD/docs/report-matrix.png go test ./conformance -run TestBrowserMatrix
func TestBrowserMatrix(t *testing.T) {
	exe := findChromium()
	if exe == "" {
		t.Skipf("no Chromium on PATH (looked for %s): install one, such as Debian's chromium package, to run this test", strings.Join(chromiumNames, ", "))
	}
	fx := newHTMLFixture(t)
	fx.checkStatuses(t)
	dir := t.TempDir()
	cols := fx.columns()
	if err := WriteMatrix(dir, cols); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.WindowSize(1200, 800),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	index := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "index.html"))}).String()
	if err := chromedp.Do(bctx, chromedp.Navigate(index), chromedp.WaitVisible(chromedp.CSS("table.matrix"))); err != nil {
		t.Fatalf("open %s: %v", index, err)
	}
	eval := func(what string, expr string, out any) {
		t.Helper()
		var err error
		switch p := out.(type) {
		case *int:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[int](expr))
		case *string:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		case *[]int:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[[]int](expr))
		case *[]string:
			*p, err = chromedp.Run(bctx, chromedp.Evaluate[[]string](expr))
		default:
			t.Fatalf("eval %s: cannot hold the result in %T", what, out)
		}
		if err != nil {
			t.Fatalf("eval %s: %v", what, err)
		}
	}

	// A row per script, each with its name, its rules and a cell per
	// server.
	var cells []int
	eval("cells", `Array.from(document.querySelectorAll('table.matrix tr.script')).map(r => r.cells.length)`, &cells)
	if want := 6; len(cells) != want {
		t.Errorf("%d rows of scripts, want %d", len(cells), want)
	}
	for i, n := range cells {
		if n != 2+len(cols) {
			t.Errorf("row %d has %d cells, want %d", i, n, 2+len(cols))
		}
	}
	var hrefs []string
	eval("links", `Array.from(document.querySelectorAll('table.matrix td.cell a')).map(a => a.getAttribute('href'))`, &hrefs)
	for _, want := range []string{"echo/scripts/html_hostile.html", "model_server/scripts/html_hostile.html", "echo/scripts/model.html"} {
		if !slices.Contains(hrefs, want) {
			t.Errorf("no cell links to %s; links: %q", want, hrefs)
		}
	}
	var loaded, scripts int
	eval("resources", `performance.getEntriesByType('resource').length`, &loaded)
	eval("scripts", `document.scripts.length`, &scripts)
	if loaded != 0 || scripts != 0 {
		t.Errorf("the matrix loaded %d resources and has %d scripts, want none", loaded, scripts)
	}

	if file := os.Getenv("CHAT_SCREENSHOT"); file != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // quality 100: PNG
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(file, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved a screenshot of the matrix to %s", file)
	}

	// The failing cell leads to the script's page, which shows the line
	// that differed, highlighted, and the server's markup as text.
	if err := chromedp.Do(bctx,
		chromedp.Click(chromedp.CSS(`table.matrix td.cell a[href="echo/scripts/html_hostile.html"]`)),
		chromedp.WaitVisible(chromedp.CSS("#first-difference")),
	); err != nil {
		t.Fatalf("follow the cell of html_hostile: %v", err)
	}
	loc, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(loc, "/echo/scripts/html_hostile.html") {
		t.Errorf("after the click, the browser is at %q (%v)", loc, err)
	}
	var class, background, text string
	eval("class", `document.getElementById('first-difference').className`, &class)
	eval("background", `getComputedStyle(document.getElementById('first-difference').cells[0]).backgroundColor`, &background)
	eval("text", `document.getElementById('first-difference').cells[3].firstChild.textContent`, &text)
	if !strings.Contains(class, "differs") {
		t.Errorf("the first difference has class %q", class)
	}
	if background == "" || background == "rgba(0, 0, 0, 0)" || background == "transparent" {
		t.Errorf("the first difference is not highlighted: background %q", background)
	}
	if text != "USERNAME <script>alert(1)</script>" {
		t.Errorf("the first difference reads %q", text)
	}
	eval("scripts", `document.scripts.length`, &scripts)
	if scripts != 0 {
		t.Errorf("the script's page has %d script elements, want none", scripts)
	}
}
