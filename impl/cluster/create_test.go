package cluster

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// failingCreates answers the first fails CreateStream calls with err, and
// passes the rest on.
type failingCreates struct {
	jetstream.JetStream
	fails int
	err   error
	calls int
}

func (f *failingCreates) CreateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	f.calls++
	if f.calls <= f.fails {
		return nil, f.err
	}
	return f.JetStream.CreateStream(ctx, cfg)
}

// storeFailed is the server's answer to a create that raced the cleanup
// of a stream deleted a moment before.
var storeFailed = &jetstream.APIError{Code: 500, ErrorCode: 10049, Description: "error creating store for stream"}

// TestCreateStreamAsksAgain checks which failures of a create are asked
// again: a server error up to storeRetries times, a refusal never.
func TestCreateStreamAsksAgain(t *testing.T) {
	e := startServer(t, "")
	a := link(t, e, "a", hooks{}, nil)
	cases := []struct {
		name      string
		fails     int
		err       error
		wantCalls int
		wantErr   error
	}{
		{"server error, then created", storeRetries, storeFailed, storeRetries + 1, nil},
		{"server error every time", storeRetries + 1, storeFailed, storeRetries + 1, storeFailed},
		{"refused", 1, jetstream.ErrStreamNameAlreadyInUse, 1, jetstream.ErrStreamNameAlreadyInUse},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := &failingCreates{JetStream: a.js, fails: c.fails, err: c.err}
			l := &Link{js: f, log: testLogger()}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			name := "CREATE" + string(rune('A'+i))
			s, err := l.createStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{name + ".>"}})
			if f.calls != c.wantCalls {
				t.Errorf("%d calls, want %d", f.calls, c.wantCalls)
			}
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if got := s.CachedInfo().Config.Name; got != name {
					t.Fatalf("created %q, want %q", got, name)
				}
				return
			}
			if !errors.Is(err, c.wantErr) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
		})
	}
}
