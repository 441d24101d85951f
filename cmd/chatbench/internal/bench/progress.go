package bench

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress redraws one status line on a terminal a few times a second. A
// nil *progress does nothing, so callers need not check.
type progress struct {
	w     io.Writer
	start time.Time
	stop  chan struct{} // closed by close
	done  chan struct{} // closed by the drawing goroutine when it returns

	mu    sync.Mutex // guards phase and state
	phase string
	state func() string
}

// newProgress starts drawing on w, or returns nil if on is false.
func newProgress(w io.Writer, on bool) *progress {
	if !on {
		return nil
	}
	p := &progress{w: w, start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.draw()
	return p
}

// set names the current phase and how to describe its state.
func (p *progress) set(phase string, state func() string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.phase, p.state = phase, state
	p.mu.Unlock()
}

func (p *progress) draw() {
	defer close(p.done)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case <-tick.C:
		}
		p.mu.Lock()
		phase, state := p.phase, p.state
		p.mu.Unlock()
		s := ""
		if state != nil {
			s = state()
		}
		fmt.Fprintf(p.w, "\r\033[K%6.1fs %-8s %s", time.Since(p.start).Seconds(), phase, s)
	}
}

// close erases the line and stops drawing.
func (p *progress) close() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.done
}
