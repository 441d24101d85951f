// Package model is PROTOCOL.md as a pure state machine: a value of State, an
// event from one client, and Step returns the next State and every line the
// server must send, to whom, in order. It has no I/O, no goroutines and no
// clock, so it can judge any server: the conformance checker drives a real
// server and the model side by side and compares what each client receives.
//
// Time enters only as events, as it does in PROTOCOL.md's transcripts: a
// Time event sets the clock that dates room messages (HIST-1) and ages
// stored ones (HIST-4), and the rules that depend on how long something
// takes are the caller's, which turns them into events or leaves them out:
// a slow consumer (LIMIT-4) and an idle timeout (LIMIT-7) are events; the
// pacing of LIMIT-9 and LIMIT-11, the slowdown of failed logins (ACCT-5),
// and a durable server's wait for its storage before a room message is
// processed, with its reply "ERROR Storage failed" when storing fails (HIST-5),
// change when lines are processed or whether a store works, never what a
// processed line does, and are not modelled. The model stores a message
// the moment it is processed, never fails to, and keeps its accounts and
// stored messages across a Restart event as a durable server does.
//
// It is written to be read beside PROTOCOL.md, not to be fast: slices and
// linear scans, and comments citing the rule each step implements. It uses
// package time for durations and for the age of a message (HIST-4) only;
// it never reads a clock.
package model
