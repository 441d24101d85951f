package impl_test

import (
	"testing"

	"roomchat.dev/roomchat/conformance/modelcheck"
	"roomchat.dev/roomchat/impl"
)

// TestModelCheck drives the reference server and the model of PROTOCOL.md
// side by side with random multi-client sequences, exactly as a third party
// would check its own server (chatconform -model). -rapid.checks=N runs more.
func TestModelCheck(t *testing.T) {
	ts := startServer(t, impl.Config{})
	modelcheck.Check(t, modelcheck.Target{Addr: ts.addr}, modelcheck.Options{Checks: 300, Steps: 40})
}
