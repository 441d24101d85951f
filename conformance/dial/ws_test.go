package dial

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsServer serves /chat: it answers each message with "got <type> <text>"
// and, after the message "bye", closes with status.
func wsServer(t *testing.T, status websocket.StatusCode) string {
	t.Helper()
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
		for {
			typ, data, err := c.Read(ctx)
			if err != nil {
				return
			}
			if string(data) == "bye" {
				c.Close(status, "")
				return
			}
			c.Write(ctx, websocket.MessageText, []byte("got "+typ.String()+" "+string(data)))
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestWebSocket: lines written go out as one text message each; messages
// read as CRLF lines; a close of status 1000 is the end of the stream, any
// other an error that names it.
func TestWebSocket(t *testing.T) {
	for _, tc := range []struct {
		status websocket.StatusCode
		end    string
	}{{websocket.StatusNormalClosure, "EOF"}, {websocket.StatusGoingAway, "status 1001"}} {
		c, err := Dialer{Transport: WS, Timeout: 5 * time.Second}.Dial(wsServer(t, tc.status), Options{})
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("USERNAME a\r\nJOIN "))
		c.Write([]byte("#r\n"))
		if err := c.SendMessage(true, []byte("raw\nbytes")); err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("bye\r\n"))
		br := bufio.NewReader(c)
		for _, want := range []string{"got MessageText USERNAME a\r\n", "got MessageText JOIN #r\r\n", "got MessageBinary raw\nbytes\r\n"} {
			got, err := br.ReadString('\n')
			if want == "got MessageBinary raw\nbytes\r\n" && err == nil {
				rest, _ := br.ReadString('\n')
				got += rest
			}
			if err != nil || got != want {
				t.Fatalf("read %q, %v; want %q", got, err, want)
			}
		}
		_, err = br.ReadString('\n')
		if err == nil || (tc.end == "EOF" && err != io.EOF) || (tc.end != "EOF" && !strings.Contains(err.Error(), tc.end)) {
			t.Errorf("after a close of status %d: %v, want %s", tc.status, err, tc.end)
		}
		c.Close()
	}
}
