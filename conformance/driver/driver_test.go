package driver_test

import (
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
)

// start starts a model server whose outputs go through fault, if not nil,
// and a driver of it.
func start(t *testing.T, fault modelserver.Fault) *driver.Driver {
	t.Helper()
	srv, err := modelserver.Start(nil, fault, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	d := driver.New(driver.Config{Addr: srv.Addr(), Timeout: time.Second})
	t.Cleanup(d.Close)
	return d
}

func connect(t *testing.T, d *driver.Driver, label string) *driver.Client {
	t.Helper()
	c, _, err := d.Connect(label)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func send(t *testing.T, d *driver.Driver, c *driver.Client, chunks ...[]byte) int {
	t.Helper()
	n, _, err := d.Send(c, chunks...)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDriver drives the model server, which agrees with the model by
// construction, through every kind of step.
func TestDriver(t *testing.T) {
	d := start(t, nil)
	a := connect(t, d, "a")
	b := connect(t, d, "b")
	w := connect(t, d, "w")
	send(t, d, w, []byte("USERNAME w\r\n"))
	d.Watcher = w
	send(t, d, a, []byte("USERNAME a\nJOIN #r\r\n"))
	send(t, d, b, []byte("USER"), []byte("NAME b\r\nJO")) // b stops in the middle of a line
	if !b.MidLine() {
		t.Fatal("b is not in the middle of a line")
	}
	send(t, d, b, []byte("IN #r\r\nMSG "+strings.Repeat("x", 600)+"\r\nMSG hi\r\n"))
	if got := d.Model().Members("#r"); len(got) != 2 {
		t.Fatalf("members of #r: %q", got)
	}
	if _, err := d.Drop(a, driver.DropHalfClose); err != nil {
		t.Fatal(err)
	}
	// Nothing after QUIT is sent.
	n := send(t, d, b, []byte("QUIT\r\nMSG never\r\n"))
	if n != len("QUIT\r\n") || b.Open() {
		t.Fatalf("sent %d bytes after QUIT; b open: %v", n, b.Open())
	}
	if err := d.Barrier(); err != nil {
		t.Fatal(err)
	}
	tr := d.Transcript()
	for _, want := range []string{"a: connect", "b> USERNAME b   (split)", "b> JO   (no terminator)", "a< OK Welcome, a!", "a: half-close", "b: closed by the server", "w: asked after a until it was gone"} {
		if !strings.Contains(tr, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, tr)
		}
	}
}

// TestDriverNeedsAWatcher: a named client cannot leave unobserved.
func TestDriverNeedsAWatcher(t *testing.T) {
	d := start(t, nil)
	a := connect(t, d, "a")
	send(t, d, a, []byte("USERNAME a\r\n"))
	if _, err := d.Drop(a, driver.DropClose); err == nil || !strings.Contains(err.Error(), "no watcher") {
		t.Fatalf("Drop without a watcher: %v", err)
	}
}

// TestDriverCatches checks that a server departing from the model in one
// line fails the step that shows it.
func TestDriverCatches(t *testing.T) {
	for name, tc := range map[string]struct {
		fault modelserver.Fault
		want  string
	}{
		"an extra line": {
			fault: func(_ *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.Line && strings.HasPrefix(ev.Line, "JOIN") {
					outs = append(outs, model.Output{To: id, Line: "ROOM #r a extra"})
				}
				return outs
			},
			want: `want nothing more before "PONG sync", got "ROOM #r a extra"`,
		},
		"a missing line": {
			fault: func(_ *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.Line && strings.HasPrefix(ev.Line, "JOIN") {
					return nil
				}
				return outs
			},
			want: `a: want "OK Joined #r (0 users)"` + "\n   got  \"PONG sync\"",
		},
		"a close it should not make": {
			fault: func(_ *modelserver.Server, id model.ClientID, ev model.Event, outs []model.Output) []model.Output {
				if ev.Kind == model.Line && strings.HasPrefix(ev.Line, "JOIN") {
					outs = append(outs, model.Output{To: id, Close: true})
				}
				return outs
			},
			want: "a: want PONG sync (the barrier), got connection closed by the server",
		},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			d := start(t, tc.fault)
			a := connect(t, d, "a")
			send(t, d, a, []byte("USERNAME a\r\n"))
			_, _, err := d.Send(a, []byte("JOIN #r\r\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an error with %q", err, tc.want)
			}
		})
	}
}
