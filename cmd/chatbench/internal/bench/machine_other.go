//go:build !unix

package bench

// probeMachine measures nothing where there are no POSIX system calls.
func probeMachine() *Machine { return nil }
