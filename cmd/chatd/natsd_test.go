package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// TestNATSUsage: "chatd nats" refuses stray arguments and bad flags with
// exit 2, and an address it cannot use with exit 1.
func TestNATSUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"extra"}, 2, "usage: chatd nats"},
		{[]string{"-nosuchflag"}, 2, "flag provided but not defined"},
		{[]string{"-addr", "127.0.0.1:nope"}, 1, "chatd nats:"},
	} {
		var stderr bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := runNATS(ctx, tc.args, &stderr)
		cancel()
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("chatd nats %q: exit %d, want %d, with %q in:\n%s", tc.args, code, tc.code, tc.want, stderr.String())
		}
	}
}

// TestNATSServes: "chatd nats" accepts connections until its context ends,
// then exits 0.
func TestNATSServes(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() { done <- runNATS(ctx, []string{"-addr", addr}, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			// A NATS server greets every client with INFO.
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4)
			_, err = conn.Read(buf)
			conn.Close()
			if err != nil || string(buf) != "INFO" {
				t.Fatalf("first bytes from chatd nats: %q, %v", buf, err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chatd nats not accepting on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after the context ended\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("chatd nats did not stop after its context ended")
	}
}
