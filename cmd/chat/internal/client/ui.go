package client

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
)

// UI is the user's side of the client: where typed lines come from and where
// output goes. ReadLine is called by one goroutine, the input reader; the
// other methods by the loop, and may run while ReadLine waits.
type UI interface {
	// ReadLine returns the next line the user typed, without terminator.
	// errInputTooLong reports a line that was skipped; io.EOF the end of
	// input (Ctrl-D); errPageUp that the user asked for earlier messages
	// (PgUp), and a windowKey that the user asked for a room by its number
	// (Alt-1 to Alt-9), the line being typed staying for the next call.
	ReadLine() (string, error)
	// ReadSecret reads a password as ReadLine reads a line, but shows
	// nothing of it and keeps it out of the lines Up recalls;
	// errCancelled reports that the user gave up (Ctrl-C). A UI without a
	// terminal reads the next line.
	ReadSecret() (string, error)
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
	// SetPending sets the lines the user sent that the server has not yet
	// confirmed. A terminal shows them below the chat, above the prompt,
	// until the confirmation replaces them; a UI without a screen to
	// redraw ignores them.
	SetPending(lines []string)
	// Windowed reports whether the UI shows one room at a time: then
	// Redraw replaces the chat shown, and the lines of the other rooms
	// wait for it. A UI without a screen to redraw prints every line.
	Windowed() bool
	// Redraw replaces the chat shown with lines, the chat of the room
	// now shown, oldest first; a terminal shows as many of the newest as
	// fit.
	Redraw(lines []string)
	// SetStatus sets the room bar, shown above the prompt; "" hides it.
	SetStatus(bar string)
}

// errInputTooLong is returned by ReadLine for an input line longer than
// maxInputLine; the line has been skipped.
var errInputTooLong = errors.New("input line too long")

// errPageUp is returned by ReadLine when the user pressed PgUp.
var errPageUp = errors.New("page up")

// errCancelled is returned by ReadSecret when the user pressed Ctrl-C.
var errCancelled = errors.New("cancelled")

// windowKey is returned by ReadLine when the user pressed Alt and a digit,
// 1 to 9: the room of that number in the room bar is wanted.
type windowKey int

func (k windowKey) Error() string { return "Alt-" + strconv.Itoa(int(k)) }

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

// ReadSecret reads the next line: a script gives passwords as lines, or
// in CHAT_PASSWORD (see Config.Password). Nothing of it is written.
func (u *lineUI) ReadSecret() (string, error) { return u.ReadLine() }

func (u *lineUI) Interactive() bool          { return false }
func (u *lineUI) SetPrompt(string)           {}
func (u *lineUI) SetCompletion(func() Names) {}
func (u *lineUI) SetPending([]string)        {}
func (u *lineUI) Windowed() bool             { return false }
func (u *lineUI) Redraw([]string)            {}
func (u *lineUI) SetStatus(string)           {}
func (u *lineUI) Print(line string)          { io.WriteString(u.out, line+"\n") }
func (u *lineUI) Notice(line string)         { io.WriteString(u.diag, line+"\n") }

// termUI is the UI for a person at a terminal in raw mode. Its editor
// edits the input line; chat lines are written above the live area at the
// bottom of the screen, which is then drawn again.
type termUI struct {
	in      io.Reader // keys
	out     io.Writer // the screen
	readBuf []byte    // owned by the goroutine in ReadLine, which reads in without mu

	mu      sync.Mutex // guards what follows; held while writing to out
	e       *editor
	names   func() Names // Tab's names, from SetCompletion
	input   []byte       // read and not yet used: a partial key, or keys after a line
	readErr error        // from the read that last returned, reported once input is used up
	closed  bool         // Close was called: nothing more is written
}

// NewTermUI returns a UI on a terminal already in raw mode: rw reads keys
// and writes to the screen. width and height are the terminal's size.
func NewTermUI(rw io.ReadWriter, width, height int) *termUI {
	u := &termUI{in: rw, out: rw, e: newEditor(width, height), readBuf: make([]byte, 256)}
	u.e.complete = u.complete
	return u
}

// SetSize tells the line editor the terminal's size.
func (u *termUI) SetSize(width, height int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.setSize(width, height)
	u.flush()
}

// complete is the editor's Tab completion; it runs with u.mu held.
func (u *termUI) complete(line string, pos int) (string, int, []string) {
	var names Names
	if u.names != nil {
		names = u.names()
	}
	return Complete(line, pos, names)
}

// ReadLine shows the prompt and edits a line until Enter. Ctrl-D on an
// empty line and Ctrl-C end the input (io.EOF); PgUp returns errPageUp.
func (u *termUI) ReadLine() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.read()
}

// ReadSecret shows the prompt and reads a password until Enter, drawing
// nothing of it. Ctrl-C returns errCancelled.
func (u *termUI) ReadSecret() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.beginSecret()
	defer func() {
		u.e.endSecret()
		u.flush()
	}()
	return u.read()
}

// read edits a line; it runs with u.mu held.
func (u *termUI) read() (string, error) {
	u.e.startLine()
	u.flush()
	for {
		rest, line, ev := u.e.feed(u.input)
		u.input = append(u.input[:0], rest...)
		u.flush()
		switch ev {
		case evLine:
			return line, nil
		case evEOF:
			return "", io.EOF
		case evPageUp:
			return "", errPageUp
		case evWindow:
			return "", windowKey(u.e.window)
		case evCancel:
			return "", errCancelled
		}
		if err := u.readErr; err != nil {
			u.readErr = nil
			return "", err
		}
		u.mu.Unlock()
		n, err := u.in.Read(u.readBuf)
		u.mu.Lock()
		u.input = append(u.input, u.readBuf[:n]...)
		u.readErr = err
	}
}

func (u *termUI) Interactive() bool { return true }

func (u *termUI) SetPrompt(prompt string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.setPrompt(prompt)
	u.flush()
}

func (u *termUI) SetCompletion(names func() Names) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.names = names
}

func (u *termUI) Print(line string)  { u.print(line) }
func (u *termUI) Notice(line string) { u.print(line) }

func (u *termUI) print(text string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.print(text)
	u.flush()
}

func (u *termUI) Windowed() bool { return true }

func (u *termUI) Redraw(lines []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.redraw(lines)
	u.flush()
}

func (u *termUI) SetStatus(bar string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.setStatus(bar)
	u.flush()
}

func (u *termUI) SetPending(lines []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.setPending(lines)
	u.flush()
}

// Close erases the prompt and any unsent input from the screen, so the
// shell's prompt starts on a clean line; lines the server never confirmed
// stay. Nothing is written after it.
func (u *termUI) Close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.e.close()
	u.flush()
	u.closed = true
}

// flush writes what the editor has drawn. Errors are left to the reader:
// a terminal that cannot be written cannot be read either.
func (u *termUI) flush() {
	if !u.closed && len(u.e.out) > 0 {
		u.out.Write(u.e.out)
	}
	u.e.out = u.e.out[:0]
}
