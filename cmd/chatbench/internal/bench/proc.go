package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of a process's counters from /proc.
type procSample struct {
	cpu   float64 // utime + stime, seconds
	sys   float64 // stime alone: the kernel's part
	rssKB int64   // VmRSS
	hwmKB int64   // VmHWM, the peak RSS
}

// sample reads the counters of process pid, or returns nil if pid is 0 or
// they cannot be read (not Linux, process gone).
func sample(pid int) *procSample {
	if pid == 0 {
		return nil
	}
	user, sys, err := readCPU(pid)
	if err != nil {
		return nil
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil
	}
	return &procSample{cpu: user + sys, sys: sys, rssKB: statusKB(status, "VmRSS:"), hwmKB: statusKB(status, "VmHWM:")}
}

// readCPU returns utime and stime of pid in seconds, from /proc/PID/stat.
func readCPU(pid int) (user, sys float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU extracts utime and stime, fields 14 and 15 of
// /proc/PID/stat. The second field, the command name in parentheses, may
// hold spaces and parentheses itself, so the count starts after its last ')'.
func parseStatCPU(b []byte) (user, sys float64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed /proc stat %q", b)
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short /proc stat %q", b)
	}
	utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("malformed /proc stat %q", b)
	}
	return float64(utime) / clockTicks, float64(stime) / clockTicks, nil
}

// statusKB returns the value in kB of a line "Key:   1234 kB" of
// /proc/PID/status, or -1.
func statusKB(status []byte, key string) int64 {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte(key)); ok {
			f := bytes.Fields(rest)
			if len(f) >= 1 {
				if n, err := strconv.ParseInt(string(f[0]), 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return -1
}

// Usage is what the server used over a measured phase.
type Usage struct {
	CPUSeconds float64 `json:"cpu_seconds"` // utime + stime, 10 ms resolution
	// SystemSeconds is the kernel's part of CPUSeconds (stime): system
	// calls, the network stack, page faults. It tells how much of a
	// server's cost depends on what the machine charges for these
	// (Machine).
	SystemSeconds    float64 `json:"system_seconds"`
	CPUPerDeliveryUS float64 `json:"cpu_us_per_delivery"`
	RSSBeforeKB      int64   `json:"rss_before_kb"`
	RSSAfterKB       int64   `json:"rss_after_kb"`
	PeakRSSKB        int64   `json:"peak_rss_kb"`
}

func usage(before, after *procSample, deliveries int64) *Usage {
	u := &Usage{
		CPUSeconds: after.cpu - before.cpu, SystemSeconds: after.sys - before.sys,
		RSSBeforeKB: before.rssKB, RSSAfterKB: after.rssKB, PeakRSSKB: after.hwmKB,
	}
	if deliveries > 0 {
		u.CPUPerDeliveryUS = u.CPUSeconds * 1e6 / float64(deliveries)
	}
	return u
}

// settledSample waits, at most limit, for the RSS of process pid to stop
// falling, and returns its last sample (nil if pid is 0 or unreadable). A
// Go server returns the memory it used while starting (chatd's dummy
// password hash: ~19 MiB) to the system over its first seconds, which,
// sampled too early, would be counted against the idle connections as a
// saving. Settled is no fall of 256 KiB or more over the last second.
func settledSample(ctx context.Context, pid int, limit time.Duration) *procSample {
	const poll, window, fall = 250 * time.Millisecond, 4, 256
	var rss []int64
	end := time.Now().Add(limit)
	for {
		s := sample(pid)
		if s == nil {
			return nil
		}
		rss = append(rss, s.rssKB)
		if n := len(rss); n > window && rss[n-1] > rss[n-1-window]-fall || time.Now().After(end) {
			return s
		}
		select {
		case <-time.After(poll):
		case <-ctx.Done():
			return s
		}
	}
}
