package client

import (
	"context"
	"io"
	"os"

	"golang.org/x/term"
)

// Main runs the client on the program's standard streams and returns its
// exit status. When in and out are both terminals, it puts in into raw mode
// (with golang.org/x/term) and edits the input line itself, counting
// display columns; otherwise it reads lines and prints the chat to out, and
// its local messages to errOut. Colours are used only when out is a
// terminal, NO_COLOR is empty or unset, and TERM is not "dumb".
func Main(ctx context.Context, cfg Config, in io.Reader, out, errOut io.Writer) int {
	inFD, inTTY := terminalFD(in)
	outFD, outTTY := terminalFD(out)
	r := &Renderer{
		Color: outTTY && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
		Now:   cfg.Now,
	}
	if !inTTY || !outTTY {
		return Run(ctx, cfg, NewLineUI(in, out, errOut), r)
	}
	old, err := term.MakeRaw(inFD)
	if err != nil {
		io.WriteString(errOut, r.Error("cannot put the terminal into raw mode: "+err.Error())+"\n")
		return StatusError
	}
	defer term.Restore(inFD, old)
	w, h, _ := term.GetSize(outFD)
	ui := NewTermUI(struct {
		io.Reader
		io.Writer
	}{in, out}, w, h)
	defer ui.Close()
	stop := watchSize(outFD, ui)
	defer stop()
	return Run(ctx, cfg, ui, r)
}

// terminalFD returns the descriptor of x if it is a file open on a terminal.
// It does not call (*os.File).Fd, which would switch the file to blocking
// mode.
func terminalFD(x any) (int, bool) {
	f, ok := x.(*os.File)
	if !ok {
		return -1, false
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return -1, false
	}
	fd := -1
	if sc.Control(func(u uintptr) { fd = int(u) }) != nil {
		return -1, false
	}
	return fd, term.IsTerminal(fd)
}
