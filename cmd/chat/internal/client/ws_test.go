package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestWebSocketSession: over WebSocket each line goes out as one text
// message without its terminator, and each message comes in as a line: the
// session names itself, is welcomed, says something and quits.
func TestWebSocketSession(t *testing.T) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/chat" {
			http.NotFound(w, r)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx := context.Background()
		answers := map[string]string{"CAPS": "ERROR Username required", "USERNAME ann": "OK Welcome, ann!", "QUIT": "OK Goodbye!"}
		for {
			_, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			got <- string(data)
			if a, ok := answers[string(data)]; ok {
				c.Write(ctx, websocket.MessageText, []byte(a))
			}
			if string(data) == "QUIT" {
				c.Close(websocket.StatusNormalClosure, "")
				return
			}
		}
	}))
	defer srv.Close()
	ui := newFakeUI(false)
	status := start(t, Config{Addr: strings.TrimPrefix(srv.URL, "http://"), Name: "ann", WebSocket: true}, ui)
	ui.waitShown(t, "Welcome")
	ui.type_(t, "/rooms")
	close(ui.typed)
	wantStatus(t, status, StatusOK)
	close(got)
	var msgs []string
	for m := range got {
		msgs = append(msgs, m)
	}
	if strings.Join(msgs, "|") != "CAPS|USERNAME ann|ROOMS|QUIT" {
		t.Errorf("messages %q, want CAPS, USERNAME ann, ROOMS, QUIT, each without a terminator", msgs)
	}
}
