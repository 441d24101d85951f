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

// runTranscript plays tr through the model and returns the first step at
// which the model's lines differ from the document's.
func runTranscript(tr transcript.Transcript) error {
	s := model.New(model.Config{MaxClients: tr.MaxClients})
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
			return fmt.Errorf("PROTOCOL.md:%d: output before any step", st.Line)
		case "connect":
			id = connect(st.Who)
			events = []model.Event{{Kind: model.Connect}}
		case ">":
			if !seen {
				id = connect(st.Who)
				events = append(events, model.Event{Kind: model.Connect})
			}
			events = append(events, frame(st.Data+"\r\n")...)
		default:
			events = []model.Event{{Kind: map[string]model.EventKind{
				"disconnect": model.Disconnect, "overflow": model.Overflow,
				"idle": model.Idle, "shutdown": model.Shutdown,
			}[st.Op]}}
		}
		var got []string
		for _, ev := range events {
			var outs []model.Output
			s, outs = s.Step(id, ev)
			if err := s.Check(); err != nil {
				return fmt.Errorf("PROTOCOL.md:%d: invariant broken: %v", st.Line, err)
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
			return fmt.Errorf("PROTOCOL.md:%d: %s\nthe document says:\n\t%s\nthe model says:\n\t%s",
				st.Line, st.Src, strings.Join(want, "\n\t"), strings.Join(got, "\n\t"))
		}
	}
	return nil
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
// model, so that the document and the model cannot drift apart.
func TestProtocolTranscripts(t *testing.T) {
	trs := readProtocol(t)
	if len(trs) < 15 {
		t.Fatalf("found only %d transcripts in PROTOCOL.md", len(trs))
	}
	for _, tr := range trs {
		t.Run(fmt.Sprintf("line%d", tr.Line), func(t *testing.T) {
			if err := runTranscript(tr); err != nil {
				t.Error(err)
			}
		})
	}
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
