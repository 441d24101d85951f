package impl_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestSlowConsumerNotEarly: the writer keeps a write deadline set for an
// earlier write while it is recent (writer.go), yet a client that stops
// reading is dropped only once its socket has accepted nothing for a whole
// WriteTimeout (LIMIT-4), never earlier. slow reads lines that come every
// few milliseconds, so deadlines are being reused, then stops reading;
// alice sends about 4 MB a second until slow's LEAVE reaches her. The
// queue cap is large enough that the write timeout comes first.
// (TestWriteDeadlineReused checks the same rule exactly, on a socket that
// never accepts a byte.)
func TestSlowConsumerNotEarly(t *testing.T) {
	t.Parallel()
	const wt = 400 * time.Millisecond
	ts, log := startLogged(t, impl.Config{MaxQueueBytes: 64 << 20, WriteTimeout: wt})
	alice := ts.dial(t, "alice")
	alice.join("alice", "#r")
	slow := ts.dial(t, "slow")
	slow.conn.SetReadBuffer(4 << 10)
	enterRoom(slow, "slow", "#r", []*testClient{alice}, []string{"alice"})

	// Lines every 5 ms for 200 ms, each read by slow at once.
	for i := range 40 {
		line := fmt.Sprintf("ROOM #r alice warm-%d", i)
		alice.send(fmt.Sprintf("warm-%d", i))
		alice.expect(line)
		slow.expect(line)
		time.Sleep(5 * time.Millisecond) // the pace of the warm-up, not a synchronisation
	}
	stopped := time.Now() // slow reads nothing from here on

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		pad := strings.Repeat("f", 400)
		var batch []byte
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			batch = fmt.Appendf(batch, "flood-%d %s\r\n", i, pad)
			if i%20 < 19 {
				continue
			}
			alice.conn.SetWriteDeadline(time.Now().Add(failAfter))
			if _, err := alice.conn.Write(batch); err != nil {
				return
			}
			batch = batch[:0]
			time.Sleep(2 * time.Millisecond) // the pace of the flood, not a synchronisation
		}
	}()
	for {
		line, err := alice.readLine()
		if err != nil {
			t.Fatalf("alice: %v", err)
		}
		if line == "LEAVE #r slow" {
			break
		}
		if !strings.HasPrefix(line, "ROOM #r alice flood-") {
			t.Fatalf("alice got %q", line)
		}
	}
	dropped := time.Since(stopped)
	close(stop)
	<-done
	if dropped < wt {
		t.Errorf("slow was dropped %v after it stopped reading, before WriteTimeout (%v)", dropped, wt)
	}
	t.Logf("slow dropped %v after it stopped reading (WriteTimeout %v)", dropped, wt)
	// The loop logs the disconnect after it has queued the LEAVE, so the
	// record may come after alice has read it.
	log.waitCount(t, "msg=disconnect", 1)
	if !strings.Contains(log.String(), "user=slow reason=slow-consumer detail=\"no byte written for") {
		t.Errorf("slow's close not logged as a slow consumer:\n%s", log.String())
	}
}
