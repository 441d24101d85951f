// Package model is PROTOCOL.md as a pure state machine: a value of State, an
// event from one client, and Step returns the next State and every line the
// server must send, to whom, in order. It has no I/O, no goroutines and no
// clock, so it can judge any server: the conformance checker drives a real
// server and the model side by side and compares what each client receives.
//
// It is written to be read beside PROTOCOL.md, not to be fast: slices and
// linear scans, and comments citing the rule each step implements.
package model
