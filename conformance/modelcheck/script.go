package modelcheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"roomchat.dev/roomchat/conformance/driver"
	"roomchat.dev/roomchat/spec"
)

// scriptWriter turns a test case into a conformance script (the commands of
// package conformance), so that a failure found at random can be replayed
// with the plain suite and kept as a regression test. Expected lines are the
// model's, not what the server sent.
type scriptWriter struct {
	sfx   string // replaced by $U, the script's unique suffix
	lines []string
	rule  string // the rule the failure shows broken
	note  string
	// With extensions: the server implements ext; MESSAGE and HISTORY
	// lines are matched with recvmsg, which sets a variable to each
	// message's ID the first time (set) and checks it after; restarts says
	// the sequence restarted the server.
	ext      spec.Ext
	set      map[uint64]bool
	maxID    uint64 // the largest model ID in set
	restarts bool
}

// Markers hold, in the text of a line a script sends, the name of the
// variable that holds a message's ID (see resolve), which word writes as
// $NAME outside the quotes.
const (
	varOpen  = "\ue002"
	varClose = "\ue003"
)

func (w *scriptWriter) add(format string, args ...any) {
	w.lines = append(w.lines, fmt.Sprintf(format, args...))
}

// word quotes s as one testscript word, with the case's suffix as $U and
// the variables of markers as $NAME.
func (w *scriptWriter) word(s string) string {
	if strings.Contains(s, varOpen) {
		var b strings.Builder
		for {
			before, rest, ok := strings.Cut(s, varOpen)
			name, after, ok2 := strings.Cut(rest, varClose)
			if !ok || !ok2 {
				break
			}
			if before != "" {
				b.WriteString(w.word(before))
			}
			b.WriteString("$" + name)
			s = after
		}
		if s != "" {
			b.WriteString(w.word(s))
		}
		return b.String()
	}
	if w.sfx == "" || s == "" {
		return quote(s)
	}
	parts := strings.Split(s, w.sfx)
	for i, p := range parts {
		if p != "" {
			parts[i] = quote(p)
		}
	}
	return strings.Join(parts, "$U")
}

// quote quotes s as one testscript word. The suite's commands expand
// variables in their arguments, so a $ is written $$.
func quote(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "'", "''"), "$", "$$") + "'"
}

func (w *scriptWriter) connect(lbl string) { w.add("connect %s", lbl) }

// maxSplit is the longest line written as sendsplit, which sends one byte
// per write with a pause after each: a longer one is sent whole, or it could
// outlast the script's timeout.
const maxSplit = 64

func (w *scriptWriter) send(lbl string, data []byte, how string) {
	text := string(data)
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	// A script word may hold any text a line may hold; anything else is
	// written with escapes.
	plain := spec.CheckLine([]byte(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", ""), "\n", ""))) == ""
	switch {
	case len(data) > 512 && len(lines) == 1 && strings.HasSuffix(text, "\r\n"):
		w.add("sendlong %s %d", lbl, len(data)-2)
	case !plain:
		escaped := strings.Trim(strconv.Quote(text), `"`)
		escaped = strings.NewReplacer(`\ue002`, varOpen, `\ue003`, varClose).Replace(escaped)
		w.add("sendraw %s %s", lbl, w.word(escaped))
	default:
		long := false
		for i, l := range lines {
			l = strings.TrimRight(l, "\r\n")
			long = long || len(l) > maxSplit
			lines[i] = w.word(l)
		}
		switch {
		case how == "lf":
			for _, l := range lines {
				w.add("sendlf %s %s", lbl, l)
			}
		case how == "split" && !long:
			for _, l := range lines {
				w.add("sendsplit %s %s", lbl, l)
			}
		case how == "coalesced":
			w.add("sendmany %s %s", lbl, strings.Join(lines, " "))
		default:
			for _, l := range lines {
				w.add("send %s %s", lbl, l)
			}
		}
	}
}

// recv writes a line lbl must receive: with recv, or, for a MESSAGE or
// HISTORY line, whose ID and time are the server's, with recvmsg, which
// sets the variable of the message's ID the first time (idVar) and checks
// that it is the same after.
func (w *scriptWriter) recv(lbl, line string) {
	l, err := spec.ParseServerLine(line)
	if w.ext == 0 || err != nil || l.Kind != spec.Message && l.Kind != spec.Stored {
		w.add("recv %s %s", lbl, w.word(line))
		return
	}
	opts := ""
	if l.Kind == spec.Stored {
		opts = "-stored "
	}
	if w.set == nil {
		w.set = map[uint64]bool{}
	}
	switch {
	case w.set[l.ID]:
		opts += "-id $" + idVar(l.ID)
	case l.ID > w.maxID:
		// Newer than every message the script has seen: so is its ID
		// (HIST-1; HIST-5 across a restart).
		opts += "-new -set " + idVar(l.ID)
	default:
		opts += "-set " + idVar(l.ID)
	}
	w.set[l.ID] = true
	w.maxID = max(w.maxID, l.ID)
	w.add("recvmsg %s %s %s %s %s", opts, lbl, w.word(l.Room), w.word(l.User), w.word(l.Text))
}

// restart restarts the server, as the checker did.
func (w *scriptWriter) restart() {
	w.restarts = true
	w.add("restart")
}
func (w *scriptWriter) closed(lbl string) { w.add("closed %s", lbl) }

func (w *scriptWriter) quiet(lbls []string) {
	if len(lbls) > 0 {
		w.add("quiet %s", strings.Join(lbls, " "))
	}
}

func (w *scriptWriter) drop(lbl string, how driver.DropHow) {
	switch how {
	case driver.DropReset:
		w.add("reset %s", lbl)
	case driver.DropHalfClose:
		w.add("halfclose %s", lbl)
		w.add("closed %s", lbl)
	case driver.DropMidLine:
		w.add("sendraw %s %s", lbl, quote(driver.UnfinishedLine))
		w.add("disconnect %s", lbl)
	default:
		w.add("disconnect %s", lbl)
	}
}

// await waits, as the checker did, until the server has forgotten a user
// who left without QUIT: the watcher asks after it until it is gone.
func (w *scriptWriter) await(watcher, name string) {
	probe, gone := driver.Probe(name)
	w.add("await %s %s %s", watcher, w.word(probe), w.word(gone))
}

// failure records the rule a failure shows broken and its message.
func (w *scriptWriter) failure(rule, msg string) { w.rule, w.note = rule, msg }

// save writes the script into dir and returns its path.
func (w *scriptWriter) save(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// One file per run, rewritten at each failure: rapid runs the shrunk
	// case last, so the file ends up holding the smallest sequence.
	path := filepath.Join(dir, "model_failure.txtar")
	var b strings.Builder
	b.WriteString("# A sequence found by the model-based checker. The expected lines are the\n")
	b.WriteString("# model's (PROTOCOL.md); the server under test answered otherwise:\n")
	for _, l := range strings.Split(w.note, "\n") {
		b.WriteString("#   " + l + "\n")
	}
	rule := w.rule
	if rule == "" {
		rule = "ORDER-1"
	}
	tags := "core, ping, input"
	if w.ext != 0 {
		tags += ", caps, " + strings.Join(w.ext.Names(), ", ")
	}
	if w.restarts {
		tags += ", shutdown, durable"
	}
	fmt.Fprintf(&b, "# tags: %s\n# rules: %s\n", tags, rule)
	if w.restarts {
		b.WriteString("# server:\n")
	}
	b.WriteString("\n")
	for _, l := range w.lines {
		b.WriteString(l + "\n")
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
