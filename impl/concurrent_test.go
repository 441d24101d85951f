package impl_test

import (
	"testing"

	"roomchat.dev/roomchat/conformance/concurrent"
	"roomchat.dev/roomchat/impl"
)

// TestConcurrentHistories runs random concurrent histories of 8 clients
// against the reference server, with no barrier between steps, and checks
// that each has a serialization the model accepts (chatconform
// -concurrent 8). 20 histories by default; 1,000 under CHAT_SOAK=1.
func TestConcurrentHistories(t *testing.T) {
	ts := startServer(t, impl.Config{})
	n := size(20, 1000)
	st, err := concurrent.Search(concurrent.Target{Addr: ts.addr}, concurrent.Options{Clients: 8, Histories: n, Seed: 1})
	if f, ok := err.(*concurrent.Failure); ok {
		t.Fatal(f.Report())
	}
	if err != nil {
		t.Fatal(err)
	}
	// A history the checker cannot decide within its time is no fault of
	// the server, and a loaded machine leaves a few undecided; the test
	// asks that most are decided, so that it still checks something.
	if st.Unknown > st.Histories/4 {
		t.Errorf("%d of %d histories could not be decided in time", st.Unknown, st.Histories)
	} else if st.Unknown > 0 {
		t.Logf("%d of %d histories could not be decided in time", st.Unknown, st.Histories)
	}
	t.Logf("%d histories, %d operations, %d lines received; run %v, check %v (longest %v)",
		st.Histories, st.Ops, st.Received, st.RunTime, st.CheckTime, st.MaxCheckTime)
}
