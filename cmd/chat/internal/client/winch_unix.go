//go:build unix

package client

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

// watchSize tells ui the terminal's new size on every SIGWINCH until stop is
// called.
func watchSize(fd int, ui *termUI) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-ch:
				if w, h, err := term.GetSize(fd); err == nil {
					ui.SetSize(w, h)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
		<-finished
	}
}
