//go:build unix

package bench

import (
	"runtime"
	"syscall"
	"time"
)

// The probes are small enough to take well under a second, and each is
// repeated so that the least of its runs, the one the machine disturbed
// least, is what is kept.
const (
	probeRuns     = 5
	probeSyscalls = 100_000
	probeBytes    = 16 << 20 // 4,096 pages
)

// probeMachine measures what a system call and a page fault cost on this
// machine, or returns nil if it cannot.
func probeMachine() *Machine {
	m := &Machine{CPUs: runtime.NumCPU(), SyscallMicros: -1, PageFaultMicros: -1}
	page := syscall.Getpagesize()
	for range probeRuns {
		start := time.Now()
		for range probeSyscalls {
			syscall.Getppid()
		}
		m.SyscallMicros = least(m.SyscallMicros, inMicros(time.Since(start))/probeSyscalls)

		start = time.Now()
		mem, err := syscall.Mmap(-1, 0, probeBytes, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			return nil
		}
		for i := 0; i < len(mem); i += page {
			mem[i] = 1
		}
		elapsed := time.Since(start)
		syscall.Munmap(mem)
		m.PageFaultMicros = least(m.PageFaultMicros, inMicros(elapsed)/float64(probeBytes/page))
	}
	return m
}

// least returns the smaller of x and y, where a negative x means none yet.
func least(x, y float64) float64 {
	if x < 0 || y < x {
		return y
	}
	return x
}

// inMicros returns d in µs.
func inMicros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
