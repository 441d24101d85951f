package driver_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	. "roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/conformance/internal/modelserver"
	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// startWith starts a model server that offers every extension, whose
// outputs go through fault, and a driver of it with extensions.
func startWith(t *testing.T, fault modelserver.Fault) *Driver {
	t.Helper()
	srv, err := modelserver.Start(nil, fault, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop() })
	d := New(Config{Addr: srv.Addr(), Timeout: time.Second, Model: model.Config{Offer: spec.AllExt}})
	t.Cleanup(d.Close)
	return d
}

// historySession has kim, who enabled history, post three messages in #r
// and fetch them; it returns the error of the first step that failed.
func historySession(t *testing.T, d *Driver) error { return historyIn(t, d, "#r") }

// historyIn is historySession in room.
func historyIn(t *testing.T, d *Driver, room string) error {
	t.Helper()
	c, _, err := d.Connect("kim")
	if err != nil {
		return err
	}
	for _, line := range []string{"CAPS history", "USERNAME kim", "JOIN " + room, "MSG a", "MSG b", "MSG c", "HISTORY " + room + " * 10"} {
		if _, _, err := d.Send(c, []byte(line+"\r\n")); err != nil {
			return err
		}
	}
	return nil
}

// rewrite returns a fault that rewrites every MESSAGE and HISTORY line the
// model sends through f.
func rewrite(f func(l spec.ServerLine) string) modelserver.Fault {
	return func(_ *modelserver.Server, _ model.ClientID, _ model.Event, outs []model.Output) []model.Output {
		for i, o := range outs {
			if l, err := spec.ParseServerLine(o.Line); err == nil && (l.Kind == spec.Message || l.Kind == spec.Stored) {
				outs[i].Line = f(l)
			}
		}
		return outs
	}
}

// TestDriverChecksIDs runs one history session against the model server
// and against servers whose IDs or times are wrong: each must be caught as
// the IDError of HIST-1, and a server whose IDs are merely other numbers
// (a shared server that counts on) must pass.
func TestDriverChecksIDs(t *testing.T) {
	if err := historySession(t, startWith(t, nil)); err != nil {
		t.Fatalf("the model server: %v", err)
	}
	if err := historySession(t, startWith(t, rewrite(func(l spec.ServerLine) string {
		l.ID = l.ID*10 + 1000
		return l.String()
	}))); err != nil {
		t.Fatalf("a server whose IDs are others, in the same order: %v", err)
	}
	for name, f := range map[string]func(spec.ServerLine) string{
		"reuses an ID": func(l spec.ServerLine) string {
			l.ID = 1
			return l.String()
		},
		"reorders IDs": func(l spec.ServerLine) string {
			l.ID = 1000 - l.ID
			return l.String()
		},
		"sends a malformed time": func(l spec.ServerLine) string {
			return strings.Replace(l.String(), "T", " ", 1)
		},
		"sends an ID with a leading zero": func(l spec.ServerLine) string {
			return strings.Replace(l.String(), " ", " 0", 1)
		},
		"shows a message with another time in HISTORY": func(l spec.ServerLine) string {
			if l.Kind == spec.Stored {
				l.Time = "2027-01-01T00:00:00.000Z"
			}
			return l.String()
		},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			err := historySession(t, startWith(t, rewrite(f)))
			var ide *IDError
			if !errors.As(err, &ide) || ide.Rule != "HIST-1" {
				t.Fatalf("a server that %s: got %v, want an IDError of HIST-1", name, err)
			}
			t.Logf("%s\n%v", ide.Summary(), ide)
		})
	}
}

// TestDriverTranslatesBefore checks that a HISTORY command's <before>, a
// server ID, is given to the model as the model's ID: on a server shared
// with an earlier run, whose IDs go on from that run's.
func TestDriverTranslatesBefore(t *testing.T) {
	srv, err := modelserver.Start(nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	for _, room := range []string{"#x", "#y"} { // earlier runs post 3 messages each
		d := New(Config{Addr: srv.Addr(), Timeout: time.Second, Model: model.Config{Offer: spec.AllExt}})
		if err := historyIn(t, d, room); err != nil {
			t.Fatal(err)
		}
		d.Quit()
	}
	d := New(Config{Addr: srv.Addr(), Timeout: time.Second, Model: model.Config{Offer: spec.AllExt}})
	defer d.Close()
	if err := historySession(t, d); err != nil {
		t.Fatal(err)
	}
	id, ok := d.IDs().Server(3)
	if !ok || id != 9 {
		t.Fatalf("Server(3) = %d, %v; want 9", id, ok)
	}
	// The server answers its messages 7 and 8 of the room, which the
	// model must expect as its 1 and 2; and all 8 before 9.
	c := d.Clients()[0]
	_, outs, err := d.Send(c, []byte("HISTORY #r 9 2\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 3 || !strings.HasPrefix(outs[0].Line, "HISTORY 1 ") || outs[2].Line != "OK History #r (2 messages)" {
		t.Errorf("the model answered %q", outs)
	}
}

// TestDriverRestart restarts the model server through the driver: every
// client is told and closed, and IDs go on above those before.
func TestDriverRestart(t *testing.T) {
	srv, err := modelserver.Start(nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	d := New(Config{Addr: srv.Addr(), Timeout: time.Second, Model: model.Config{Offer: spec.AllExt}})
	defer d.Close()
	if err := historySession(t, d); err != nil {
		t.Fatal(err)
	}
	outs, err := d.Restart(func() (string, error) { return srv.Addr(), srv.Restart(false) })
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Line != "ERROR "+spec.ErrShuttingDown || !outs[1].Close || len(d.Clients()) != 0 {
		t.Fatalf("restart: outputs %q, clients %d", outs, len(d.Clients()))
	}
	c, _, err := d.Connect("sam")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"CAPS history", "USERNAME sam", "JOIN #r", "MSG after", "HISTORY #r * 10"} {
		if _, _, err := d.Send(c, []byte(line+"\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(d.Transcript(), "server: restart") {
		t.Errorf("the transcript does not show the restart:\n%s", d.Transcript())
	}
}
