// Package modelcheck drives a real chat server and the model of PROTOCOL.md
// side by side with random multi-client sequences, one step at a time, and
// fails as soon as any client receives anything other than exactly the lines
// the model predicts.
//
// Each step is drawn by rapid: a client connects, sends one or more lines
// (whole, split into small writes, coalesced, with CRLF or bare LF), sends an
// overlong line, or drops its connection (close, reset, half-close, or in the
// middle of a line). The model says which lines every client must receive;
// the checker reads exactly those, then proves that nothing else arrived with
// a PING/PONG barrier on every open client (PING-2). A failure is shrunk by
// rapid and reported as a transcript of every client, and can be saved as a
// conformance script.
//
// The steps themselves, the barriers and the wait for a disconnect are
// package driver's, which the reference server's fuzz test shares.
//
// The checker knows a server only by its address, or by a function that
// starts a fresh one, so it can judge any implementation.
package modelcheck
