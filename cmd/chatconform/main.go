// Command chatconform checks a roomchat server against PROTOCOL.md: it runs
// the conformance scripts (built in) against a running server (-addr) or a
// fresh server per script (-exec), and optionally the model-based checker
// (-model). Run it with -h for the flags; package conformance documents the
// script commands.
package main

import (
	"os"

	"roomchat.dev/roomchat/conformance"
	"roomchat.dev/roomchat/testscripts"
)

func main() {
	os.Exit(conformance.Main(os.Args[1:], os.Stdout, os.Stderr, conformance.MainOptions{
		Scripts: testscripts.FS,
		Model:   runModel,
	}))
}
