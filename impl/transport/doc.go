// Package transport carries the roomchat protocol over transports other
// than plain lines on TCP (PROTOCOL.md 2.1): TLS (TRANS-1),
// length-prefixed frames (TRANS-2 to TRANS-4) and WebSocket messages
// (TRANS-5, TRANS-6).
//
// Each transport is a net.Listener that wraps a TCP listener. The
// connections it accepts are adapters that present exactly what the
// server's reader and writer expect of a plain connection: reads yield a
// byte stream of LF-terminated lines, and writes take CRLF-terminated
// lines. So the server serves every transport with the same code, and
// knows nothing of any of them. The adapters also keep the promises the
// server relies on:
//
//   - A write that returns at its deadline reports the bytes it got
//     through, and the next write goes on where it stopped, as on a plain
//     socket: the server's writer gives a slow but steady reader more time
//     in slices (LIMIT-4). (A bare tls.Conn cannot do this: a write that
//     times out corrupts its state for good; nor can a bare
//     websocket.Conn, which closes itself when a write's context ends.)
//   - SetLinger(0) followed by Close resets the connection (LIMIT-8); over
//     TLS without a close_notify, which every other close sends first
//     (TRANS-1). CloseWrite ends the output: close_notify, then FIN.
//   - No Close waits for a peer that does not read.
//
// The WebSocket listener serves HTTP on its TCP listener, with
// github.com/coder/websocket: a handshake at /chat opens a chat, every
// other path answers 404, and "/" is reserved for a web client served
// from the same listener. A WebSocket is still a byte stream underneath:
// after SetLinger(0), Close resets it without a close message; every
// other close sends a close message of status 1000 first, and CloseWrite
// sends one, then FIN (TRANS-6). A connection counts against the server's
// MaxClients once its handshake has completed, when Accept returns it.
//
// A listener of this package names its transport with a Transport method
// ("tls", "framed4", "framed8", "ws"), which the server's log shows.
package transport
