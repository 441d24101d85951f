package bench

import (
	"os/exec"
	"syscall"
)

// The system calls chatbench makes that differ between unix and Windows.
// chatbench builds on Windows, but its measures of a server's memory come
// from /proc, and -exec runs /bin/sh: it is meant for Linux.

// selfCPU returns the CPU time this process has used, in seconds.
func selfCPU() float64 {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0
	}
	var creation, exit, kernel, user syscall.Filetime
	if syscall.GetProcessTimes(h, &creation, &exit, &kernel, &user) != nil {
		return 0
	}
	ticks := func(t syscall.Filetime) int64 { return int64(t.HighDateTime)<<32 | int64(t.LowDateTime) }
	return float64(ticks(kernel)+ticks(user)) * 100 / 1e9 // 100 ns ticks
}

// raiseNoFile reports no limit: Windows has none on open sockets to raise.
func raiseNoFile() (uint64, error) { return 0, nil }

// ownGroup starts cmd's process in a console process group of its own: a
// ^C meant for chatbench does not reach the server.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

// soError is Winsock's SO_ERROR, which package syscall does not name.
const soError = 0x1007

// sockErrno returns the pending error number of the socket fd (SO_ERROR).
func sockErrno(fd uintptr) (int, error) {
	return syscall.GetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, soError)
}
