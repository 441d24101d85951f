package modelserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"roomchat.dev/roomchat/model"
)

// The model keeps no files: a State is a value. So that a model server
// run as a process (chatconform -serve-model -state FILE) survives its own
// restart, as HIST-5 asks of a durable server, it appends every event it
// steps the model with to a file before it performs the event's outputs,
// and a new process replays the file and then steps a Restart event (the
// model keeps what HIST-5 says survives, and nothing else). The file is
// written, not synced: it survives the process being killed, which is what
// the durable scripts do, not a crash of the machine.

// A loggedEvent is one line of the state file.
type loggedEvent struct {
	ID   model.ClientID  `json:"id"`
	Kind model.EventKind `json:"kind"`
	Line string          `json:"line,omitempty"`
	Time string          `json:"time,omitempty"`
}

// openState opens (or creates) the state file at path and replays it into
// s.st. If it held any event, the replayed server is restarted (a Restart
// event, itself logged). A last line cut short, by a process killed while
// it wrote the line, stands for an event that was never stepped and is
// left out.
func (s *Server) openState(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return err
	}
	good, events := 0, 0
	for {
		i := bytes.IndexByte(data[good:], '\n')
		if i < 0 {
			break // nothing more, or a last line cut short
		}
		var e loggedEvent
		if err := json.Unmarshal(data[good:good+i], &e); err != nil {
			break
		}
		s.st, _ = s.st.Step(e.ID, model.Event{Kind: e.Kind, Line: e.Line, Time: e.Time})
		s.next = max(s.next, e.ID)
		good += i + 1
		events++
	}
	if err := f.Truncate(int64(good)); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(int64(good), io.SeekStart); err != nil {
		f.Close()
		return err
	}
	s.state = f
	if events > 0 {
		if err := s.logEvent(0, model.Event{Kind: model.Restart}); err != nil {
			return err
		}
		s.st, _ = s.st.Step(0, model.Event{Kind: model.Restart})
	}
	return nil
}

// logEvent appends an event to the state file, if there is one; s.mu is
// held. A Shutdown is not kept: it ends the process, and the Restart that
// the next process steps shuts down what was left (the model can no
// longer restart once it is shut down).
func (s *Server) logEvent(id model.ClientID, ev model.Event) error {
	if s.state == nil || ev.Kind == model.Shutdown {
		return nil
	}
	b, err := json.Marshal(loggedEvent{ID: id, Kind: ev.Kind, Line: ev.Line, Time: ev.Time})
	if err != nil {
		return err
	}
	if _, err := s.state.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
