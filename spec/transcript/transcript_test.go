package transcript

import (
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	doc := "text\n```transcript max-clients=2\n# comment\nalice> USERNAME \\x41\\x{3}\nalice>\nalice< OK Welcome, Axxx!\n\nbob: disconnect\n```\nmore\n"
	trs, err := Read(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(trs) != 1 || trs[0].Line != 2 || trs[0].MaxClients != 2 {
		t.Fatalf("got %+v", trs)
	}
	want := []Step{
		{Line: 4, Who: "alice", Op: ">", Data: "USERNAME Axxx"},
		{Line: 5, Who: "alice", Op: ">", Data: ""},
		{Line: 6, Who: "alice", Op: "<", Data: "OK Welcome, Axxx!"},
		{Line: 8, Who: "bob", Op: "disconnect"},
	}
	got := trs[0].Steps
	if len(got) != len(want) {
		t.Fatalf("got %d steps: %+v", len(got), got)
	}
	for i := range want {
		got[i].Src = ""
		if got[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadErrors(t *testing.T) {
	for _, doc := range []string{
		"```transcript\nalice says hi\n```\n",
		"```transcript\nalice: explodes\n```\n",
		"```transcript colour=red\n```\n",
		"```transcript\nalice> hi\n",
	} {
		if _, err := Read(strings.NewReader(doc)); err == nil {
			t.Errorf("Read(%q) succeeded", doc)
		}
	}
}
