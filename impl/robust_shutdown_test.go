package impl_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestRobustShutdownUnderAttack: the server shuts down in bounded time
// while it is under attack - slowloris connections, members that never
// read with their queues full, a flood under way - and leaves no goroutine
// behind. The members that read get the notice of SHUT-1; Shutdown returns
// when its context ends at the latest, having closed every socket.
func TestRobustShutdownUnderAttack(t *testing.T) {
	const grace = 2 * time.Second
	n := size(200, 3000)
	ts, _ := startLogged(t, impl.Config{MaxQueueBytes: 256 * KiB})
	r := newRoom(t, ts, "#down", "m", 2)
	b := newBounds(t, "shutdown")

	slow := dialCrowd(t, ts.addr, n)
	slow.each("USERNAME s%d")
	r.members[1].watch("x0", "x1")
	for i := range 2 { // they never read
		c := ts.dialRcvBuf(t, fmt.Sprintf("x%d", i), 4*KiB)
		c.write([]byte("USERNAME " + c.label + "\r\nJOIN #down\r\n"))
		r.members[1].waitJoins(c.label, 1)
	}
	// m0 floods the room; shut down once 2,000 lines are written.
	flooding, started := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(flooding)
		conn := r.members[0].conn
		for i := 0; i < 20000; i += 1000 {
			conn.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := conn.Write(messages("m0", i, 1000, 400)); err != nil {
				return // the server has shut down
			}
			if i == 1000 {
				close(started)
			}
		}
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	err := ts.srv.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown returned %v after %v", err, took.Round(time.Millisecond))
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v", err)
	}
	if took > grace+time.Second {
		t.Errorf("Shutdown took %v, more than its grace of %v", took, grace)
	}
	<-flooding
	for _, m := range r.members {
		m.expect("ERROR " + spec.ErrShuttingDown)
	}
	slow.close(true)
	b.after(n + 2)
}
