package impl_test

import (
	"context"
	"net"
	"testing"
	"time"

	"roomchat.dev/roomchat/conformance/modelcheck"
	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/spec"
)

// TestModelCheckExtensions drives the reference server offering every
// extension of section 13, in memory, and the model side by side, with
// clients that enable them and core clients in the same rooms (chatconform
// -model with the tags caps, accounts and history). 100 sequences by
// default; 2,000 under CHAT_SOAK=1.
func TestModelCheckExtensions(t *testing.T) {
	ts := startServer(t, extConfig())
	modelcheck.Check(t, modelcheck.Target{Addr: ts.addr}, modelcheck.Options{Checks: size(100, 2000), Steps: 40, Ext: spec.AllExt})
}

// TestModelCheckDurable does the same with a database, restarting the
// server now and then on it: accounts, stored messages and IDs must
// survive (HIST-5). 40 sequences by default, each restarting the server a
// few times; 1,000 under CHAT_SOAK=1.
func TestModelCheckDurable(t *testing.T) {
	cfg := withDB(t, extConfig())
	var srv *impl.Server
	start := func(addr string) (string, error) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return "", err
		}
		s, err := impl.Open(cfg)
		if err != nil {
			ln.Close()
			return "", err
		}
		srv = s
		go s.Serve(ln)
		return ln.Addr().String(), nil
	}
	stop := func() {
		if srv != nil {
			// SHUT-1 lingers for clients that do not close; the notices
			// are written long before this.
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			srv.Shutdown(ctx)
			srv = nil
		}
	}
	addr, err := start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	// The restarted server listens where the first did.
	target := modelcheck.Target{Addr: addr, Restart: func(old string) (string, error) {
		stop()
		return start(old)
	}}
	modelcheck.Check(t, target, modelcheck.Options{Checks: size(40, 1000), Steps: 40, Ext: spec.AllExt, Durable: true})
}
