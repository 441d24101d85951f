package bench

import "fmt"

// Machine is what two of the machine's basic operations cost, measured
// once at the start of a comparison (machine_unix.go). A relay's CPU time
// per delivered line is mostly system calls and, when output piles up,
// fresh memory; machines differ in these by an order of magnitude (a
// virtual machine may take ten times as long for a page fault as the
// hardware below it), and a server and the floor that spend them in
// different proportions see their ratio move from one machine to another.
// The report carries the figures so that ratios measured on different
// machines can be told apart (BENCHMARKS.md, "Close to the floor").
type Machine struct {
	// SyscallMicros is the CPU time of the cheapest system call
	// (getppid), in µs: the least any read or write costs.
	SyscallMicros float64 `json:"syscall_us"`
	// PageFaultMicros is the time to touch a page of fresh anonymous
	// memory the first time, in µs: what a buffer that grows costs.
	PageFaultMicros float64 `json:"page_fault_us"`
	// CPUs is the number of CPUs the Go runtime sees.
	CPUs int `json:"cpus"`
}

// String describes m on one line.
func (m *Machine) String() string {
	return fmt.Sprintf("%d CPUs; a system call costs %.2f µs, a page fault %.2f µs", m.CPUs, m.SyscallMicros, m.PageFaultMicros)
}
