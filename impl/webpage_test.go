package impl_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

var update = flag.Bool("update", false, "TestWebPage: write the screenshot docs/web.png")

// webWait bounds every wait of the web page test: a failure timeout, never
// a means of synchronisation.
const webWait = 60 * time.Second

// webChromiums are the names under which a Chromium binary may be on PATH.
var webChromiums = []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"}

// TestWebPage: the web client served at / of a WebSocket listener, in two
// tabs of headless Chromium, and a client of plain lines share a room. A
// name in use is refused inline; each one's room messages reach the two
// others; private messages reach their target only and show as such; a
// line with HTML in it shows as text.
//
// It skips when no Chromium is on PATH (chromium, chromium-browser,
// google-chrome or headless-shell). With -update, or CHAT_SCREENSHOT=1, it
// writes a screenshot of the first tab, 1000×700, to docs/web.png:
//
//	go test ./impl -run TestWebPage -update
func TestWebPage(t *testing.T) {
	exe := webChromium(t)
	ms := startTransports(t, impl.Config{})
	page := "http://" + ms.ws + "/"
	for path, want := range map[string]int{"/": 200, "/app.js": 200, "/style.css": 200, "/index.html": 404, "/chat/x": 404} {
		resp, err := http.Get("http://" + ms.ws + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != want || want == 200 && !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: %s, Content-Security-Policy %q; want %d, with default-src 'self'", path, resp.Status, csp, want)
		}
	}

	carol := dialWebLines(t, ms.lines)
	carol.send("USERNAME carol")
	carol.expect("OK Welcome, carol!")
	carol.send("JOIN #lounge")
	carol.expect("OK Joined #lounge (0 users)")

	actx, acancel := webBrowser(exe)
	defer acancel()
	ann := newWebTab(t, actx, "ann")
	defer ann.cancel()
	ben := newWebTab(t, ann.ctx, "ben") // a second tab of the same browser
	defer ben.cancel()

	// ann enters; ben first asks for carol's name, which is taken.
	ann.open(page)
	ann.enter("ann")
	ben.open(page)
	ben.run(chromedp.SendKeys(chromedp.CSS("#name"), "carol"), chromedp.Click(chromedp.CSS("#name-go")))
	ben.poll("the name error", `document.getElementById("name-error").textContent === "Username taken"`)
	ben.poll("a cleared name", `(document.getElementById("name").value = "") === ""`)
	ben.enter("ben")

	// Both join #lounge, where carol is; each sees the others as members.
	ann.join("#lounge")
	carol.expect("JOIN #lounge ann")
	ben.join("#lounge")
	carol.expect("JOIN #lounge ben")
	for _, tab := range []*webTab{ann, ben} {
		tab.poll("the members", `[...document.querySelectorAll("#members li")].map(e => e.textContent).join(",") === "carol,ann,ben"`)
	}

	// Each speaks; the two others hear.
	ann.say("hello from ann")
	carol.expect("ROOM #lounge ann hello from ann")
	ben.seeMessage("ann", "hello from ann")
	ben.say("hi ann, ben here")
	carol.expect("ROOM #lounge ben hi ann, ben here")
	ann.seeMessage("ben", "hi ann, ben here")
	carol.send("MSG welcome both")
	carol.expect("ROOM #lounge carol welcome both")
	const html = "<b>bold</b><script>alert(1)</script>"
	carol.send("MSG " + html)
	carol.expect("ROOM #lounge carol " + html)
	for _, tab := range []*webTab{ann, ben} {
		tab.seeMessage("carol", "welcome both")
		tab.seeMessage("carol", html)
		tab.poll("no element from a message's text", `document.querySelectorAll("#messages b, #messages script").length === 0`)
	}

	// Private messages: ann to carol, carol to ben.
	ann.run(
		chromedp.SendKeys(chromedp.CSS("#pm-to"), "carol"),
		chromedp.SendKeys(chromedp.CSS("#pm-text"), "a secret for carol"),
		chromedp.Click(chromedp.CSS("#pm-go")),
	)
	carol.expect("PRIVMSG ann a secret for carol")
	ann.poll("the private message sent", `[...document.querySelectorAll("#messages li.priv.out")].some(e => e.textContent === "to carola secret for carol")`)
	carol.send("PRIVMSG ben psst, ben")
	carol.expect("OK Sent")
	ben.poll("the private message received", `[...document.querySelectorAll("#messages li.priv.in")].some(e => e.textContent === "from carolpsst, ben")`)
	ann.say("back to the room")
	carol.expect("ROOM #lounge ann back to the room")
	ben.seeMessage("ann", "back to the room")
	// ann's echo comes after carol's private message to ben: by then ann
	// would have it, were it not private.
	ann.seeMessage("ann", "back to the room")
	ann.poll("no private message of ben's", `!document.getElementById("messages").textContent.includes("psst")`)

	if *update || os.Getenv("CHAT_SCREENSHOT") == "1" {
		ann.run(chromedp.EmulateViewport(1000, 700))
		png, err := chromedp.Run(ann.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		out := filepath.Join("..", "docs", "web.png")
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}

// TestWebPageRooms: on a server that offers rooms (PROTOCOL.md 13.4), the
// web client enables them and is in two rooms at once, showing one: a
// message to the other counts as unread in the list of its rooms and
// stays out of the messages shown; a click shows the other room, with its
// own messages, and clears its count; what is typed goes to the room
// shown, as MSG <room> <text>; Leave room leaves the room shown alone, and
// the other is shown. (TestWebPage is the page on a server without rooms.)
func TestWebPageRooms(t *testing.T) {
	exe := webChromium(t)
	ms := startTransports(t, impl.Config{Offer: spec.ExtRooms})
	page := "http://" + ms.ws + "/"

	carol := dialWebLines(t, ms.lines)
	carol.send("CAPS rooms")
	carol.expect("OK Enabled rooms")
	carol.send("USERNAME carol")
	carol.expect("OK Welcome, carol!")
	carol.send("JOIN #one")
	carol.expect("OK Joined #one (0 users)")
	carol.send("JOIN #two")
	carol.expect("OK Joined #two (0 users)")

	actx, acancel := webBrowser(exe)
	defer acancel()
	ann := newWebTab(t, actx, "ann")
	defer ann.cancel()
	ann.open(page)
	ann.enter("ann")
	ann.poll("the list of her rooms", `!document.getElementById("my-rooms-box").hidden`)

	// ann joins both rooms; the second is shown, both are listed.
	ann.join("#one")
	carol.expect("JOIN #one ann")
	ann.join("#two")
	carol.expect("JOIN #two ann")
	ann.poll("her two rooms, #two shown", webMyRooms+` === "#one,[#two]"`)
	ann.poll("the members of #two", `[...document.querySelectorAll("#members li")].map(e => e.textContent).join(",") === "carol,ann"`)

	// A message to #one, not shown: counted, not shown.
	carol.send("MSG #one hello one")
	carol.expect("ROOM #one carol hello one")
	ann.poll("one unread message in #one", webMyRooms+` === "#one1,[#two]"`)
	ann.poll("#two's messages only", `!`+webShown+`.includes("hello one")`)
	ann.say("in two")
	carol.expect("ROOM #two ann in two")
	ann.poll("her message in #two", webShown+`.includes("annin two")`)

	// A click shows #one, its message, and no count.
	ann.run(chromedp.Click(chromedp.CSS(`#my-rooms button[data-room="#one"]`)))
	ann.poll("#one shown", `document.getElementById("room-title").textContent === "#one" && `+
		webMyRooms+` === "[#one],#two" && `+webShown+`.includes("carolhello one") && !`+webShown+`.includes("in two")`)
	ann.say("in one")
	carol.expect("ROOM #one ann in one")
	carol.send("MSG #two back in two")
	carol.expect("ROOM #two carol back in two")
	ann.poll("one unread message in #two", webMyRooms+` === "[#one],#two1"`)

	// Leave room leaves #one; #two is shown, with what came meanwhile.
	ann.run(chromedp.Click(chromedp.CSS("#leave")))
	carol.expect("LEAVE #one ann")
	ann.poll("#two shown, alone", `document.getElementById("room-title").textContent === "#two" && `+
		webMyRooms+` === "[#two]" && `+webShown+`.includes("annin two") && `+webShown+`.includes("carolback in two") && !`+webShown+`.includes("hello one")`)
	ann.say("still in two")
	carol.expect("ROOM #two ann still in two")
}

// webMyRooms is a JavaScript expression: the list of the rooms the page is
// in, the room shown in brackets, each followed by its unread count if it
// has one, joined with commas.
const webMyRooms = `[...document.querySelectorAll("#my-rooms button")].map(b => b.classList.contains("current") ? "[" + b.textContent + "]" : b.textContent).join(",")`

// webShown is a JavaScript expression: the text of the messages shown.
const webShown = `document.querySelector("#messages .log:not([hidden])").textContent`

// webChromium returns the Chromium on PATH, or skips the test.
func webChromium(t *testing.T) string {
	t.Helper()
	for _, name := range webChromiums {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skipf("no Chromium on PATH (looked for %s): install one, such as Debian's chromium package, to run this test", strings.Join(webChromiums, ", "))
	return ""
}

// webBrowser returns the context of a headless browser, exe, 1000×700,
// for newWebTab.
func webBrowser(exe string) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.WindowSize(1000, 700),
	)
	return chromedp.NewExecAllocator(context.Background(), opts...)
}

// webTab is a tab of the browser, showing the web client.
type webTab struct {
	t      *testing.T
	name   string
	ctx    context.Context
	cancel context.CancelFunc
}

// newWebTab opens a tab: in a new browser if parent is an allocator's
// context, or in parent's browser if it is a tab's. The tab is opened
// here, on its own context, so that no shorter-lived context owns it.
func newWebTab(t *testing.T, parent context.Context, name string) *webTab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	return &webTab{t: t, name: name, ctx: ctx, cancel: cancel}
}

// run runs actions in the tab, failing the test after webWait.
func (w *webTab) run(actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, webWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		w.t.Fatalf("%s: %v", w.name, err)
	}
}

// poll waits until the JavaScript expression cond is true in the tab.
func (w *webTab) poll(what, cond string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, webWait)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(webWait))); err != nil {
		messages, _ := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS("body")))
		w.t.Fatalf("%s: waiting for %s (%s): %v\npage text:\n%s", w.name, what, cond, err, messages)
	}
}

func (w *webTab) open(url string) {
	w.t.Helper()
	w.run(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#name")))
	w.poll("the connection", `document.getElementById("status").textContent === "connected"`)
}

func (w *webTab) enter(name string) {
	w.t.Helper()
	w.run(chromedp.SendKeys(chromedp.CSS("#name"), name), chromedp.Click(chromedp.CSS("#name-go")),
		chromedp.WaitVisible(chromedp.CSS("#chat")))
}

func (w *webTab) join(room string) {
	w.t.Helper()
	w.run(chromedp.SendKeys(chromedp.CSS("#room"), room), chromedp.Click(chromedp.CSS("#join-go")))
	w.poll("the room", `document.getElementById("room-title").textContent === `+jsString(room))
}

func (w *webTab) say(text string) {
	w.t.Helper()
	w.run(chromedp.SendKeys(chromedp.CSS("#msg"), text), chromedp.Click(chromedp.CSS("#msg-go")))
}

// seeMessage waits for a room message from who, with the text text.
func (w *webTab) seeMessage(who, text string) {
	w.t.Helper()
	w.poll("a message from "+who, `[...document.querySelectorAll("#messages li.msg")].some(e =>
		e.querySelector(".who").textContent === `+jsString(who)+` && e.lastChild.nodeValue === `+jsString(text)+`)`)
}

// jsString quotes s as a JavaScript string.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// webLines is a client of plain lines.
type webLines struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialWebLines(t *testing.T, addr string) *webLines {
	conn := dialTCP(t, addr, 0)
	return &webLines{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *webLines) send(line string) {
	c.t.Helper()
	c.conn.SetWriteDeadline(time.Now().Add(webWait))
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatalf("lines: write: %v", err)
	}
}

// expect reads the next line and checks it is want.
func (c *webLines) expect(want string) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(webWait))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("lines: want %q, got %v", want, err)
	}
	if got := strings.TrimSuffix(line, "\r\n"); got != want {
		c.t.Fatalf("lines: got %q, want %q", got, want)
	}
}
