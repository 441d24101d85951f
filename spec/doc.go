// Package spec is the roomchat protocol of PROTOCOL.md in Go: the limits, the
// exact OK and ERROR texts, name rules, the grammar of client commands and
// server lines (parse and format in both directions), and a bounded line
// reader for the framing rules.
//
// Everything that must agree on bytes — the model, the reference server, the
// conformance suite and the tools — goes through this package. It imports
// nothing but the standard library.
//
// Requirement identifiers such as FRAME-5 refer to PROTOCOL.md.
package spec
