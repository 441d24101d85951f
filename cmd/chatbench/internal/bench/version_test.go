package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestVersion: -version prints one line naming the program and exits 0,
// without a server to measure.
func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"-version"}, &stdout, &stderr)
	if code != 0 || !strings.HasPrefix(stdout.String(), "chatbench ") || strings.Count(stdout.String(), "\n") != 1 {
		t.Errorf("chatbench -version = %d, printed %q; stderr %q", code, stdout.String(), stderr.String())
	}
}
