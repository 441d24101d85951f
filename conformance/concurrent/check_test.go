package concurrent

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/internal/modelserver"
)

func startModel(t testing.TB) string {
	t.Helper()
	s, err := modelserver.Start(nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s.Addr()
}

// TestModelServerIsLinearizable: the model served over TCP, which
// processes one item at a time, passes every concurrent history.
func TestModelServerIsLinearizable(t *testing.T) {
	addr := startModel(t)
	for i := range 20 {
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		p := Generate(rng, GenConfig{Clients: 4, Actions: 25, Suffix: suffix(rng)})
		h, err := Run(addr, p, 5*time.Second)
		if err != nil {
			t.Fatalf("history %d: %v\n%s", i, err, p)
		}
		if r := Check(h, 10*time.Second); r.Verdict != Ok {
			t.Fatalf("history %d: %s\n%s", i, r.Report(h), p)
		}
	}
}

// TestCheckerFindsTwoWelcomes: a hand-made history in which two
// connections were both welcomed with one name has no serialization, and
// the explanation names the line no order explains.
func TestCheckerFindsTwoWelcomes(t *testing.T) {
	ms := time.Millisecond
	h := &History{
		Conns: []Conn{
			{Lane: 0, Label: "c1", Received: []Arrival{{Line: "OK Welcome, ann!", At: 3 * ms}}},
			{Lane: 1, Label: "c2", Received: []Arrival{{Line: "OK Welcome, ann!", At: 4 * ms}}},
		},
		Ops: []Op{
			{Conn: 0, Kind: OpConnect, Call: 0, Return: 5 * ms},
			{Conn: 1, Kind: OpConnect, Call: 0, Return: 5 * ms},
			{Conn: 0, Kind: OpLine, Line: "USERNAME ann", Call: 1 * ms, Return: 5 * ms},
			{Conn: 1, Kind: OpLine, Line: "USERNAME ann", Call: 1 * ms, Return: 5 * ms},
		},
		End: 6 * ms,
	}
	r := Check(h, time.Second)
	if r.Verdict != Illegal {
		t.Fatalf("verdict %s, want Illegal", r.Verdict)
	}
	rep := r.Report(h)
	if !strings.Contains(rep, `"ERROR Username taken", but`) || !strings.Contains(rep, `received "OK Welcome, ann!" next`) {
		t.Errorf("the report does not say what the model expected:\n%s", rep)
	}
	t.Log(rep)
}

// suffix returns a random suffix for a program's names.
func suffix(rng *rand.Rand) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 4)
	for i := range b {
		b[i] = letters[rng.IntN(len(letters))]
	}
	return string(b)
}
