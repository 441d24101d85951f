package main

import (
	"io"
	"testing"
	"time"

	"roomchat.dev/roomchat/impl"
)

// TestCoalesceFlag: -coalesce sets impl.Config.CoalesceDelay; its default is
// impl.DefaultCoalesceDelay and a negative value is kept (it turns
// coalescing off).
func TestCoalesceFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, impl.DefaultCoalesceDelay},
		{[]string{"-coalesce", "2ms"}, 2 * time.Millisecond},
		{[]string{"-coalesce", "-1ns"}, -1},
	} {
		o, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if o.cfg.CoalesceDelay != tc.want {
			t.Errorf("%q: CoalesceDelay = %v, want %v", tc.args, o.cfg.CoalesceDelay, tc.want)
		}
	}
	if _, err := parseFlags([]string{"-coalesce", "soon"}, io.Discard); err == nil {
		t.Error("-coalesce soon was accepted")
	}
}
