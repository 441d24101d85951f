package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// ownGroup starts cmd's process in a console process group of its own, so
// that signalGroup can ask it alone to stop.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}

var generateConsoleCtrlEvent = syscall.NewLazyDLL("kernel32.dll").NewProc("GenerateConsoleCtrlEvent")

// signalGroup stands in for the signals of unix: SIGKILL kills p (not its
// children: "go run" leaves the server behind), and SIGTERM sends p's
// process group a CTRL_BREAK, which a Go server receives as os.Interrupt.
func signalGroup(p *os.Process, sig syscall.Signal) error {
	if sig == syscall.SIGKILL {
		return p.Kill()
	}
	if r, _, err := generateConsoleCtrlEvent.Call(syscall.CTRL_BREAK_EVENT, uintptr(p.Pid)); r == 0 {
		return fmt.Errorf("GenerateConsoleCtrlEvent: %w", err)
	}
	return nil
}
