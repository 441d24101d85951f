// Package commands is the script engine of the conformance suite: the
// commands that testscript runs for the scripts (testscripts/*.txtar), the
// session of one script, and the TCP clients whose every byte it records in
// a transcript for the failure reports.
//
// Every command is a row of one table (table.go): its name, the synopsis of
// its arguments, its ! form if it has one, a summary and the function that
// runs it. The table is the one place where a command's syntax is written:
// the dispatcher refuses ! for a command without a ! form, parses the
// options and counts the arguments by the synopsis (syntax.go), and fails a
// call that does not fit with "usage: " and the synopsis, before the
// command runs; Reference generates from it the command reference in the
// documentation of package conformance, which a test keeps in step.
//
// The files follow the groups of the reference: connect.go and churn.go
// (connections), send.go and flood.go (sending), recv.go and timing.go
// (receiving), server.go (the server and time); session.go holds what they
// share, client.go and transcript.go the clients.
package commands
