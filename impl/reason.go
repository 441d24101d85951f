package impl

// CloseReason says why the server ended a connection. It goes to the logs
// with every disconnect; clients never see it. It also decides how the
// connection ends, gracefully or with a reset (closeRules in lifecycle.go).
type CloseReason uint8

// The reasons a connection ends.
const (
	// Quit: the client sent QUIT (QUIT-1).
	Quit CloseReason = iota + 1
	// Disconnected: the connection ended without QUIT — end of stream, reset,
	// or a read or write error (DISC-1).
	Disconnected
	// SlowConsumer: the client's pending output passed MaxQueueBytes, or its
	// socket accepted no byte for WriteTimeout (LIMIT-4).
	SlowConsumer
	// IdleTimeout: no line arrived for IdleTimeout (LIMIT-7).
	IdleTimeout
	// Shutdown: the server is shutting down (SHUT-1).
	Shutdown
	// ServerFull: the connection was refused at MaxClients (LIMIT-2).
	ServerFull
)

var reasonNames = [...]string{
	Quit:         "quit",
	Disconnected: "disconnected",
	SlowConsumer: "slow-consumer",
	IdleTimeout:  "idle-timeout",
	Shutdown:     "shutdown",
	ServerFull:   "server-full",
}

// String returns the reason as it appears in logs, e.g. "slow-consumer".
func (r CloseReason) String() string {
	if int(r) < len(reasonNames) && reasonNames[r] != "" {
		return reasonNames[r]
	}
	return "CloseReason(?)"
}
