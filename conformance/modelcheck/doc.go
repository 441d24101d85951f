// Package modelcheck drives a real chat server and the model of PROTOCOL.md
// side by side with random multi-client sequences, one step at a time, and
// fails as soon as any client receives anything other than exactly the lines
// the model predicts.
//
// Each step is drawn by rapid, whole and whatever the state (steps.go): a
// client sends one or more lines (whole, split into small writes,
// coalesced, with CRLF or bare LF), connecting first if it has no
// connection; sends an overlong line; sends a burst of messages; drops its
// connection (close, reset, half-close, or in the middle of a line); or
// clients gather in one room. The model says which lines every client must
// receive; the checker reads exactly those, then proves that nothing else
// arrived with a PING/PONG barrier on every open client (PING-2).
//
// A failure is shrunk by rapid to the few steps that still fail, blamed on
// the rule its first differing line belongs to (blame.go), and reported
// once: the rule, the difference, and the transcript of every client. It
// can be saved as a conformance script, and run again by its seed.
//
// With a server that implements the extensions of PROTOCOL.md section 13
// (Options.Ext), clients also say hello with CAPS, register, log in with
// the right password, a wrong one or an unknown name, change passwords,
// fetch history, and share rooms with core clients (ext.go); with a
// durable server and a way to restart it (Options.Durable,
// Target.Restart), sequences restart it now and then. A server's message
// IDs and times are its own: the driver compares them through a mapping of
// the model's IDs to the server's (driver/ids.go). Failed logins are few,
// as a server slows them (ACCT-5). With no extension declared, the
// sequences are drawn exactly as for a core server.
//
// The checker counts, for each rule, the steps that reached the situation
// the rule is about (a history that overflowed, a roster of three, room
// names that sort otherwise folded to upper case, look-alike names...):
// see Coverage. Its generator is weighted to reach every one in most runs
// of a few hundred sequences.
//
// The steps themselves, the barriers and the wait for a disconnect are
// package driver's, which the reference server's fuzz test shares.
//
// The checker knows a server only by its address, or by a function that
// starts a fresh one, so it can judge any implementation.
package modelcheck
