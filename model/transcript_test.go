package model_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
	"roomchat.dev/roomchat/spec/transcript"
)

// readProtocol extracts every transcript of PROTOCOL.md.
func readProtocol(t *testing.T) []transcript.Transcript {
	t.Helper()
	trs, err := transcript.ReadFile("../PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	return trs
}

// runTranscript plays tr through a model with cfg (whose MaxClients and MaxRooms the
// transcript's fence overrides) and returns the first step at which the
// model's lines differ from those written, citing file:line. It returns
// the state after the last step.
func runTranscript(cfg model.Config, file string, tr transcript.Transcript) (model.State, error) {
	if tr.MaxClients != 0 {
		cfg.MaxClients = tr.MaxClients
	}
	if tr.MaxRooms != 0 {
		cfg.MaxRooms = tr.MaxRooms
	}
	s := model.New(cfg)
	ids := map[string]model.ClientID{}
	labels := map[model.ClientID]string{}
	next := model.ClientID(1)
	connect := func(label string) model.ClientID {
		ids[label], labels[next] = next, label
		next++
		return next - 1
	}
	for i := 0; i < len(tr.Steps); {
		st := tr.Steps[i]
		var want []string // the "<" and "closed" lines that follow the step
		for i++; i < len(tr.Steps) && (tr.Steps[i].Op == "<" || tr.Steps[i].Op == "closed"); i++ {
			want = append(want, outputString(tr.Steps[i].Who, tr.Steps[i].Op, tr.Steps[i].Data))
		}
		var events []model.Event
		id, seen := ids[st.Who]
		switch st.Op {
		case "<", "closed":
			return s, fmt.Errorf("%s:%d: output before any step", file, st.Line)
		case "connect":
			id = connect(st.Who)
			events = []model.Event{{Kind: model.Connect}}
		case ">":
			if !seen {
				id = connect(st.Who)
				events = append(events, model.Event{Kind: model.Connect})
			}
			events = append(events, frame(st.Data+"\r\n")...)
		case "time":
			if !spec.ValidMsgTime(st.Data) {
				return s, fmt.Errorf("%s:%d: %q is not a msg-time", file, st.Line, st.Data)
			}
			events = []model.Event{{Kind: model.Time, Time: st.Data}}
		default:
			kind, ok := map[string]model.EventKind{
				"disconnect": model.Disconnect, "overflow": model.Overflow,
				"idle": model.Idle, "shutdown": model.Shutdown, "restart": model.Restart,
			}[st.Op]
			if !ok {
				return s, fmt.Errorf("%s:%d: the model has no event %q", file, st.Line, st.Op)
			}
			events = []model.Event{{Kind: kind}}
		}
		var got []string
		for _, ev := range events {
			var outs []model.Output
			s, outs = s.Step(id, ev)
			if err := s.Check(); err != nil {
				return s, fmt.Errorf("%s:%d: invariant broken: %v", file, st.Line, err)
			}
			for _, o := range outs {
				if o.Close {
					got = append(got, outputString(labels[o.To], "closed", ""))
				} else {
					got = append(got, outputString(labels[o.To], "<", o.Line))
				}
			}
		}
		if !samePerClient(got, want) {
			return s, fmt.Errorf("%s:%d: %s\nthe transcript says:\n\t%s\nthe model says:\n\t%s",
				file, st.Line, st.Src, strings.Join(want, "\n\t"), strings.Join(got, "\n\t"))
		}
	}
	return s, nil
}

func outputString(who, op, data string) string {
	if op == "closed" {
		return who + ": closed"
	}
	return who + "< " + data
}

// frame splits bytes into line events exactly as a server's reader would.
func frame(data string) []model.Event {
	var evs []model.Event
	var fr spec.Framer
	for _, f := range fr.Feed([]byte(data)) {
		ev := model.Event{Kind: model.Line, Line: f.Line}
		if f.TooLong {
			ev = model.Event{Kind: model.LineTooLong}
		}
		evs = append(evs, ev)
	}
	return evs
}

// samePerClient compares two lists of "label< line" / "label: closed"
// entries, keeping each client's order but ignoring the interleaving between
// clients (ORDER-2: only a client's own order is observable).
func samePerClient(a, b []string) bool {
	group := func(xs []string) map[string][]string {
		m := map[string][]string{}
		for _, x := range xs {
			label := x[:strings.IndexAny(x, "<:")]
			m[label] = append(m[label], x)
		}
		return m
	}
	ga, gb := group(a), group(b)
	if len(ga) != len(gb) {
		return false
	}
	for k, v := range ga {
		if !slices.Equal(v, gb[k]) {
			return false
		}
	}
	return true
}

// TestProtocolTranscripts runs every transcript of PROTOCOL.md through the
// model, so that the document and the model cannot drift apart. The model
// offers every extension, as the transcripts of section 13 need; a
// transcript in which no client sends CAPS enables none, and must read the
// same on a core server (CAPS-3: a connection that enables nothing is
// served the core protocol).
func TestProtocolTranscripts(t *testing.T) {
	trs := readProtocol(t)
	if len(trs) < 19 {
		t.Fatalf("found only %d transcripts in PROTOCOL.md", len(trs))
	}
	for _, tr := range trs {
		t.Run(fmt.Sprintf("line%d", tr.Line), func(t *testing.T) {
			if _, err := runTranscript(model.Config{Offer: spec.AllExt}, "PROTOCOL.md", tr); err != nil {
				t.Error(err)
			}
			if !sendsCaps(tr) {
				if _, err := runTranscript(model.Config{}, "PROTOCOL.md", tr); err != nil {
					t.Errorf("on a core server: %v", err)
				}
			}
		})
	}
}

// sendsCaps reports whether a client in tr sends a line that begins with
// the word CAPS.
func sendsCaps(tr transcript.Transcript) bool {
	return slices.ContainsFunc(tr.Steps, func(st transcript.Step) bool {
		return st.Op == ">" && (st.Data == "CAPS" || strings.HasPrefix(st.Data, "CAPS "))
	})
}

// TestProtocolServerLinesParse checks that every line a transcript shows a
// client receiving fits the grammar of PROTOCOL.md 3.2.
func TestProtocolServerLinesParse(t *testing.T) {
	for _, tr := range readProtocol(t) {
		for _, st := range tr.Steps {
			if st.Op != "<" {
				continue
			}
			if _, err := spec.ParseServerLine(st.Data); err != nil {
				t.Errorf("PROTOCOL.md:%d: %v", st.Line, err)
			}
		}
	}
}

// play runs a transcript written in a test, in the notation of PROTOCOL.md
// 1.2 (leading tabs are dropped from each line), through a model with cfg,
// and returns the state after it.
func play(t *testing.T, cfg model.Config, body string) model.State {
	t.Helper()
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	steps, err := transcript.ParseSteps(strings.Join(lines, "\n"), 1)
	if err != nil {
		t.Fatal(err)
	}
	s, err := runTranscript(cfg, t.Name(), transcript.Transcript{Line: 1, Steps: steps})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
