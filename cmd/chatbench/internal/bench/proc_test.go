package bench

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	// The command name may hold spaces and parentheses.
	stat := "4242 (chat d) (x)) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 130 0 0 20 0 9 0 100 0 0\n"
	user, sys, err := parseStatCPU([]byte(stat))
	if err != nil || user != 2.5 || sys != 1.3 {
		t.Errorf("parseStatCPU = %v, %v, %v; want 2.5 s user and 1.3 s system (250 and 130 ticks)", user, sys, err)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 x 1"} {
		if _, _, err := parseStatCPU([]byte(bad)); err == nil {
			t.Errorf("parseStatCPU(%q) accepted", bad)
		}
	}
}

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tchatd\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n")
	if got := statusKB(status, "VmRSS:"); got != 10240 {
		t.Errorf("VmRSS = %d", got)
	}
	if got := statusKB(status, "VmHWM:"); got != 20480 {
		t.Errorf("VmHWM = %d", got)
	}
	if got := statusKB(status, "VmSwap:"); got != -1 {
		t.Errorf("VmSwap = %d, want -1", got)
	}
}

func TestSampleSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s := sample(os.Getpid())
	if s == nil || s.rssKB <= 0 || s.hwmKB < s.rssKB || s.cpu < 0 || s.sys < 0 || s.sys > s.cpu {
		t.Errorf("sample(self) = %+v", s)
	}
	if sample(0) != nil {
		t.Error("sample(0) should be nil")
	}
}
