package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// runMainEnv makes the test binary act as benchplot, so that a test can
// run main, which exits, in a process of its own.
const runMainEnv = "BENCHPLOT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestVersion: -version prints one line naming the program and exits 0
// without reading or writing a report.
func TestVersion(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-version", "-in", "/nonexistent")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "GORACE=atexit_sleep_ms=0")
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "benchplot ") || strings.Count(string(out), "\n") != 1 {
		t.Errorf("benchplot -version: %v, printed %q", err, out)
	}
}
