//go:build unix

package main

import (
	"strings"
	"testing"
)

// TestVersion: -version prints one line naming the program and exits 0
// without connecting.
func TestVersion(t *testing.T) {
	out, err := chatCommand(t, "-version", "-addr", "256.0.0.1:1").Output()
	if err != nil || !strings.HasPrefix(string(out), "chat ") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("chat -version: %v, printed %q", err, out)
	}
}
