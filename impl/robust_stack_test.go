package impl_test

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"roomchat.dev/roomchat/impl"
)

// TestIdleConnectionStack: a connection that has sent its lines and waits
// for more costs one goroutine, its reader, with a stack of the smallest
// size, 2 KiB. A reader's deepest frames are those of a read of a line
// (spec.LineReader, the socket); a frame or a local more there can push
// every connection to the next size, 4 KiB, as a change of the line
// reader once did (BENCHMARKS.md, idle members). The stacks the runtime
// freed in earlier tests would hide that, so the measure runs in a
// process of its own: the test runs itself. Under the race detector every
// reader needs 4 KiB, and the test is skipped; .ci/run runs it without.
func TestIdleConnectionStack(t *testing.T) {
	if raceEnabled {
		t.Skip("under the race detector a reader's stack is 4 KiB anyway")
	}
	if os.Getenv("CHAT_STACK_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestIdleConnectionStack$", "-test.v")
		cmd.Env = append(os.Environ(), "CHAT_STACK_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the measure failed: %v\n%s", err, out)
		}
		t.Logf("%s", out)
		return
	}
	ts := startServer(t, impl.Config{})
	const n = 500
	before := sample()
	clients := make([]*testClient, n)
	for i := range clients {
		clients[i] = ts.dial(t, fmt.Sprintf("c%d", i))
		clients[i].send(fmt.Sprintf("USERNAME u%d", i))
	}
	for i, c := range clients {
		c.expect(fmt.Sprintf("OK Welcome, u%d!", i))
	}
	after := sample()
	per := delta(after.stack, before.stack) / n
	t.Logf("%d idle connections: stacks %+d KiB, %d B each", n, delta(after.stack, before.stack)/KiB, per)
	if per > 3*KiB {
		t.Errorf("the stacks grew by %d B a connection: more than the smallest stack, 2 KiB, can explain", per)
	}
}
