package concurrent

import (
	"os"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/internal/racyserver"
)

// TestTimelineOfARace writes the timeline of a real race, found and
// shrunk, to the file CHAT_TIMELINE_EXAMPLE names: that is how
// docs/concurrent/timeline.html is made. It does nothing otherwise.
func TestTimelineOfARace(t *testing.T) {
	file := os.Getenv("CHAT_TIMELINE_EXAMPLE")
	if file == "" {
		t.Skip("CHAT_TIMELINE_EXAMPLE names the file to write")
	}
	_, err := Search(Target{Addr: startRacy(t, racyserver.Races{FanOutDuringLeave: true})},
		Options{Clients: 6, Histories: 200, Seed: 1, ShrinkBudget: 45 * time.Second})
	f, ok := err.(*Failure)
	if !ok {
		t.Fatalf("no race found: %v", err)
	}
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := WriteTimeline(out, f.History, f.Result, "A fan-out while the members of the room change (racyserver FanOutDuringLeave)"); err != nil {
		t.Fatal(err)
	}
	t.Log(f.Report())
}
