package bench

import (
	"runtime"
	"strings"
	"testing"
)

// TestProbeMachine: on a unix machine the probe measures both costs, as
// positive figures, and the report names them.
func TestProbeMachine(t *testing.T) {
	m := probeMachine()
	if m == nil {
		if runtime.GOOS == "linux" {
			t.Fatal("probeMachine returned nil on linux")
		}
		t.Skip("no probe on", runtime.GOOS)
	}
	if m.SyscallMicros <= 0 || m.PageFaultMicros <= 0 || m.CPUs != runtime.NumCPU() {
		t.Errorf("probe: %+v", m)
	}
	if s := m.String(); !strings.Contains(s, "system call") || !strings.Contains(s, "page fault") {
		t.Errorf("String() = %q", s)
	}
}
