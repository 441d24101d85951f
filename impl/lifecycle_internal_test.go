package impl

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log that the loop and the test may share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errBrokenPipe stands for the error of a write to a socket the client
// has reset.
var errBrokenPipe = errors.New("write tcp: broken pipe")

// fillQueue has p send PINGs whose PONGs it does not read, until 1990
// bytes wait for it: with MaxQueueBytes 2000, the next line of more than
// ten bytes makes it a slow consumer.
func fillQueue(h *handLoop, p *pipeClient) {
	for _, n := range []int{493, 493, 493, 483} { // PONG lines of 500, 500, 500 and 490 bytes
		h.send(p, "PING "+strings.Repeat("x", n))
	}
}

// TestLifecycle: every way a connection ends, with what the client reads,
// whether its room hears LEAVE, whether the socket is reset (LIMIT-8) or
// closed, and the disconnect line of the log, which operators grep
// (closeRules, lifecycle.go). Graceful ends write what is queued first;
// a slow consumer is reset; a client whose output was dropped already (a
// slow consumer, or one whose socket failed for writing) is closed without
// a further line, whatever the reason it is closed for, and the detail of
// what dropped its output stays in the log unless the reason brings its
// own.
func TestLifecycle(t *testing.T) {
	const small = 2000 // MaxQueueBytes where fillQueue is used
	for _, tc := range []struct {
		name string
		cfg  Config
		// end ends alice's connection and reads what she must read, if her
		// socket ends gracefully.
		end   func(h *handLoop, alice *pipeClient)
		bob   []string // what bob reads afterwards, before his PONG; nil: the shutdown notice and the end
		log   string   // alice's disconnect line, from "reason="
		reset bool     // alice's socket is reset
	}{{
		name: "quit",
		end: func(h *handLoop, alice *pipeClient) {
			h.send(alice, "QUIT")
			alice.expect("OK Goodbye!")
			alice.expectEOF()
		},
		bob: []string{"LEAVE #r alice"},
		log: "reason=quit",
	}, {
		name: "end of stream",
		end: func(h *handLoop, alice *pipeClient) {
			h.send(alice, "MSG last") // the echo is still being written
			h.end(alice, io.EOF)
			alice.expect("ROOM #r alice last")
			alice.expectEOF()
		},
		bob: []string{"ROOM #r alice last", "LEAVE #r alice"},
		log: "reason=disconnected detail=EOF",
	}, {
		name: "idle",
		end: func(h *handLoop, alice *pipeClient) {
			alice.lastActive -= h.l.cfg.IdleTimeout
			h.l.idle.MoveToFront(alice.idleElem)
			h.l.onIdleTimer()
			h.l.settle() // the end of the turn
			alice.expect("ERROR Idle timeout")
			alice.expectEOF()
		},
		bob: []string{"LEAVE #r alice"},
		log: `reason=idle-timeout detail="no line for 5m0s"`,
	}, {
		name: "queue over MaxQueueBytes",
		cfg:  Config{MaxQueueBytes: small, StallBudget: -1},
		end: func(h *handLoop, alice *pipeClient) {
			fillQueue(h, alice)
			h.send(alice, "PING "+strings.Repeat("y", 10))
		},
		bob:   []string{"LEAVE #r alice"},
		log:   `reason=slow-consumer detail="output queue over MaxQueueBytes"`,
		reset: true,
	}, {
		name: "write timeout",
		end: func(h *handLoop, alice *pipeClient) {
			h.l.onWriter(writerEvent{c: alice.client, reason: SlowConsumer, err: os.ErrDeadlineExceeded})
			h.l.settle()
		},
		bob:   []string{"LEAVE #r alice"},
		log:   `reason=slow-consumer detail="no byte written for 10s"`,
		reset: true,
	}, {
		name: "write failure, then end of stream",
		end: func(h *handLoop, alice *pipeClient) {
			h.l.onWriter(writerEvent{c: alice.client, reason: Disconnected, err: errBrokenPipe})
			h.l.settle()
			// Her lines are still processed (DISC-2); nothing more is
			// written to her.
			h.l.onRead(readEvent{c: alice.client, line: []byte("MSG after")})
			h.l.settle()
			if !alice.resumed() {
				h.t.Fatal("alice's reader was not resumed after her write failed")
			}
			h.end(alice, io.EOF)
		},
		bob: []string{"ROOM #r alice after", "LEAVE #r alice"},
		log: `reason=disconnected detail="write tcp: broken pipe"`,
	}, {
		name: "write failure, then QUIT",
		end: func(h *handLoop, alice *pipeClient) {
			h.l.onWriter(writerEvent{c: alice.client, reason: Disconnected, err: errBrokenPipe})
			h.l.settle()
			h.send(alice, "QUIT")
		},
		bob: []string{"LEAVE #r alice"},
		log: `reason=quit detail="write tcp: broken pipe"`,
	}, {
		name: "QUIT whose goodbye passes MaxQueueBytes",
		cfg:  Config{MaxQueueBytes: small, StallBudget: -1},
		end: func(h *handLoop, alice *pipeClient) {
			fillQueue(h, alice)
			h.send(alice, "QUIT")
		},
		bob: []string{"LEAVE #r alice"},
		log: `reason=quit detail="output queue over MaxQueueBytes"`,
	}, {
		name: "idle, whose notice passes MaxQueueBytes",
		cfg:  Config{MaxQueueBytes: small, StallBudget: -1},
		end: func(h *handLoop, alice *pipeClient) {
			fillQueue(h, alice)
			alice.lastActive -= h.l.cfg.IdleTimeout
			h.l.idle.MoveToFront(alice.idleElem)
			h.l.onIdleTimer()
			h.l.settle()
		},
		bob: []string{"LEAVE #r alice"},
		log: `reason=idle-timeout detail="no line for 5m0s"`,
	}, {
		name: "shutdown",
		end: func(h *handLoop, alice *pipeClient) {
			h.l.shutdown()
			alice.expect("ERROR Server shutting down")
			alice.expectEOF()
		},
		log: "reason=shutdown",
	}, {
		name: "shutdown, whose notice passes MaxQueueBytes",
		cfg:  Config{MaxQueueBytes: small, StallBudget: -1},
		end: func(h *handLoop, alice *pipeClient) {
			fillQueue(h, alice)
			h.l.shutdown()
		},
		log: `reason=shutdown detail="output queue over MaxQueueBytes"`,
	}, {
		name: "shutdown after a write failure",
		end: func(h *handLoop, alice *pipeClient) {
			h.l.onWriter(writerEvent{c: alice.client, reason: Disconnected, err: errBrokenPipe})
			h.l.settle()
			h.l.shutdown()
		},
		log: `reason=shutdown detail="write tcp: broken pipe"`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var log syncBuffer
			cfg := tc.cfg
			cfg.CoalesceDelay = -1
			cfg.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})) // disconnects are debug records
			h := newHandLoop(t, cfg)
			alice, bob := twoInRoom(h)
			tc.end(h, alice)

			if _, ok := h.l.clients[alice.client]; ok || h.l.users["alice"] != nil {
				t.Fatal("the loop has not forgotten alice")
			}
			if got := alice.socket.reset.Load(); got != tc.reset {
				t.Errorf("alice's socket reset: %v, want %v", got, tc.reset)
			}
			if tc.bob == nil {
				bob.expect("ERROR Server shutting down")
				bob.expectEOF()
			} else {
				h.send(bob, "PING after")
				bob.expect(append(tc.bob, "PONG after")...)
			}
			var lines []string
			for line := range strings.Lines(log.String()) {
				if strings.Contains(line, "msg=disconnect") && strings.Contains(line, " user=alice ") {
					lines = append(lines, line)
				}
			}
			if len(lines) != 1 {
				t.Fatalf("%d disconnect lines for alice, want 1:\n%s", len(lines), log.String())
			}
			want := "msg=disconnect conn=1 remote=pipe user=alice " + tc.log + "\n"
			if _, got, _ := strings.Cut(lines[0], "msg="); "msg="+got != want {
				t.Errorf("alice's disconnect was logged as\n\t%s\nwant\n\t%s", strings.TrimSpace(lines[0]), strings.TrimSpace(want))
			}
		})
	}
}
