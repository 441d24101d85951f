package client

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"golang.org/x/term"
)

// UI is the user's side of the client: where typed lines come from and where
// output goes. ReadLine is called by one goroutine, the input reader; the
// other methods by the loop, and may run while ReadLine waits.
type UI interface {
	// ReadLine returns the next line the user typed, without terminator.
	// errInputTooLong reports a line that was skipped; io.EOF the end of
	// input (Ctrl-D).
	ReadLine() (string, error)
	// Interactive reports whether a person is typing: then a rejected
	// username is asked again instead of ending the client.
	Interactive() bool
	// SetPrompt sets the prompt shown before the input line.
	SetPrompt(prompt string)
	// Print shows a line of the chat.
	Print(line string)
	// Notice shows a local message: help, a refused command, the state of
	// the connection.
	Notice(line string)
	// SetCompletion sets where Tab completion finds names.
	SetCompletion(names func() Names)
}

// errInputTooLong is returned by ReadLine for an input line longer than
// maxInputLine; the line has been skipped.
var errInputTooLong = errors.New("input line too long")

// maxInputLine bounds a line read from a non-terminal input. Any line longer
// than spec.MaxLineLen is refused anyway; this only bounds memory.
const maxInputLine = 64 << 10

// lineUI is the UI for scripts: lines from a reader, chat lines to one
// writer, local messages to another. No prompt, no editing.
type lineUI struct {
	in        *bufio.Reader
	out, diag io.Writer
}

// NewLineUI returns a UI that reads lines from in, prints the chat to out
// and local messages to diag.
func NewLineUI(in io.Reader, out, diag io.Writer) UI {
	return &lineUI{in: bufio.NewReaderSize(in, 4096), out: out, diag: diag}
}

func (u *lineUI) ReadLine() (string, error) {
	var b []byte
	for {
		chunk, err := u.in.ReadSlice('\n')
		if len(b)+len(chunk) > maxInputLine {
			if err == bufio.ErrBufferFull {
				// Skip the rest of the line.
				for err == bufio.ErrBufferFull {
					_, err = u.in.ReadSlice('\n')
				}
			}
			if err != nil && err != io.EOF {
				return "", err
			}
			return "", errInputTooLong
		}
		b = append(b, chunk...)
		switch err {
		case nil:
			line := strings.TrimSuffix(string(b[:len(b)-1]), "\r")
			return line, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(b) > 0 {
				// A last line without its newline is still a line.
				return strings.TrimSuffix(string(b), "\r"), nil
			}
			return "", io.EOF
		default:
			return "", err
		}
	}
}

func (u *lineUI) Interactive() bool          { return false }
func (u *lineUI) SetPrompt(string)           {}
func (u *lineUI) SetCompletion(func() Names) {}
func (u *lineUI) Print(line string)          { io.WriteString(u.out, line+"\n") }
func (u *lineUI) Notice(line string)         { io.WriteString(u.diag, line+"\n") }

// termUI is the UI for a person at a terminal in raw mode. golang.org/x/term's
// Terminal edits the input line; its Write puts output above the prompt and
// redraws the prompt, the pending input and the cursor.
type termUI struct {
	t     *term.Terminal
	out   io.Writer    // the screen, under t
	names func() Names // set before ReadLine is first called
}

// NewTermUI returns a UI on a terminal already in raw mode: rw reads keys
// and writes to the screen. width and height are the terminal's size.
func NewTermUI(rw io.ReadWriter, width, height int) *termUI {
	u := &termUI{t: term.NewTerminal(rw, ""), out: rw}
	u.SetSize(width, height)
	u.t.AutoCompleteCallback = u.complete
	return u
}

// SetSize tells the line editor the terminal's size.
func (u *termUI) SetSize(width, height int) {
	if width <= 0 || height <= 0 {
		width, height = 80, 24
	}
	u.t.SetSize(width, height)
}

// complete is the Terminal's AutoCompleteCallback: Tab completes, other keys
// are left to the editor. It is called without the Terminal's lock, so it
// may Write the list of options.
func (u *termUI) complete(line string, pos int, key rune) (string, int, bool) {
	if key != '\t' {
		return "", 0, false
	}
	var names Names
	if u.names != nil {
		names = u.names()
	}
	newLine, newPos, options := Complete(line, pos, names)
	if len(options) > 1 && newLine == line {
		io.WriteString(u.t, strings.Join(options, "  ")+"\n")
	}
	return newLine, newPos, true
}

func (u *termUI) ReadLine() (string, error)        { return u.t.ReadLine() }
func (u *termUI) Interactive() bool                { return true }
func (u *termUI) SetPrompt(prompt string)          { u.t.SetPrompt(prompt) }
func (u *termUI) SetCompletion(names func() Names) { u.names = names }
func (u *termUI) Print(line string)                { io.WriteString(u.t, line+"\n") }
func (u *termUI) Notice(line string)               { io.WriteString(u.t, line+"\n") }

// Close erases the prompt and any unsent input from the last line of the
// screen, so the shell's prompt starts on a clean line.
func (u *termUI) Close() {
	io.WriteString(u.out, "\r\x1b[K")
}
