//go:build unix

package bench

import (
	"os/exec"
	"syscall"
)

// The system calls chatbench makes that differ between unix and Windows.

// selfCPU returns the CPU time this process has used, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// raiseNoFile raises the soft limit on open files to the hard limit, so
// that many connections fit, and returns it. It calls Setrlimit even when
// the Go runtime has already raised the limit: only an explicit call makes
// a server started by -exec inherit the raised limit instead of the
// original one.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

// ownGroup makes cmd's process the leader of a process group of its own:
// a ^C meant for chatbench does not reach the server, which chatbench
// stops itself.
func ownGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// sockErrno returns the pending error number of the socket fd (SO_ERROR).
func sockErrno(fd uintptr) (int, error) {
	return syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
}
