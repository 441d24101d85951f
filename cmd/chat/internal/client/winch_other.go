//go:build !unix

package client

// watchSize does nothing where there is no SIGWINCH.
func watchSize(fd int, ui *termUI) (stop func()) { return func() {} }
