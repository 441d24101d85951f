// Command chat is a terminal client for the roomchat protocol (PROTOCOL.md).
//
//	chat [-addr host:port] [-name NAME | -login NAME] [-keepalive DURATION] [-version]
//
// Type /help once connected. With stdin not a terminal it reads lines and
// prints the chat, so it can be scripted. It exits with status 0 when the
// user quits (/quit or Ctrl-D), 1 when the connection fails or the server
// closes it, or when -name is refused or -login fails and there is no one
// to ask for another name, and 2 on a usage error.
//
// On a server that offers them (PROTOCOL.md section 13), it enables
// accounts and history. Then /register protects the name in use with a
// password, /password changes it, and /login NAME, before a name is
// chosen, or -login NAME logs in to a registered name. Passwords are read
// without echo and never shown. For scripts, -login takes the password
// from the environment variable CHAT_PASSWORD if it is set (an argument
// would show in the process list); otherwise it is read from the terminal
// or, with stdin not a terminal, as the next line of input, as are those
// of /register and /password. With history, PgUp (or /history [N]) shows
// the messages of the room before the oldest one shown.
//
// On a server that offers rooms, the user may be in several rooms at once
// (up to the server's limit, 10 by default). /join #room adds a room and
// shows it; /win #room, /win N or Alt-1 to Alt-9 show another of them;
// /part leaves the room shown and /part #room another. Text typed, /users
// and /history go to the room shown. On a terminal each room keeps its own
// chat, and the room bar above the prompt lists the rooms by number, with
// the count of unread messages of those not shown; with stdin not a
// terminal every line is printed, with its room. On a server without
// rooms, /join moves the user from the room it is in, as it always did.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"roomchat.dev/roomchat/cmd/chat/internal/client"
	"roomchat.dev/roomchat/cmd/internal/buildinfo"
)

func main() { os.Exit(run(os.Args[1:])) }

// passwordEnv names the environment variable with the password of -login.
const passwordEnv = "CHAT_PASSWORD"

func run(args []string) int {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:9999", "server address `host:port`")
	name := fs.String("name", "", "username to use (asked for if empty)")
	login := fs.String("login", "", "log in to the registered `name` (password from $CHAT_PASSWORD, or asked for)")
	keepalive := fs.Duration("keepalive", time.Minute, "send PING after this much silence (0: never)")
	useTLS := fs.Bool("tls", false, "connect over TLS (PROTOCOL.md TRANS-1), verifying the server's certificate")
	tlsCA := fs.String("tls-ca", "", "with -tls, trust the certificates signed by the PEM `file`")
	tlsPin := fs.String("tls-fingerprint", "", "with -tls, trust only the certificate of this SHA-256 `fingerprint` (as chatd -tls-self-signed logs it)")
	useWS := fs.Bool("ws", false, "connect over WebSocket (ws://ADDR/chat, PROTOCOL.md TRANS-5), for chatd -ws-addr")
	version := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: chat [-addr host:port] [-tls [-tls-ca FILE | -tls-fingerprint FP] | -ws] [-name NAME | -login NAME] [-keepalive DURATION] [-version]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err == flag.ErrHelp {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "chat: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *version {
		fmt.Println(buildinfo.String("chat"))
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if *name != "" && *login != "" {
		fmt.Fprintln(os.Stderr, "chat: -name or -login, not both")
		return 2
	}
	cfg := client.Config{Addr: *addr, Name: *name, Login: *login, Keepalive: *keepalive, WebSocket: *useWS}
	if *login != "" {
		cfg.Password = os.Getenv(passwordEnv)
	}
	if *useWS && *useTLS {
		fmt.Fprintln(os.Stderr, "chat: -ws is WebSocket over plain TCP: not with -tls")
		return 2
	}
	if *useTLS {
		var err error
		if cfg.TLS, err = client.TLSConfig(*tlsCA, *tlsPin); err != nil {
			fmt.Fprintf(os.Stderr, "chat: %v\n", err)
			return 2
		}
	} else if *tlsCA != "" || *tlsPin != "" {
		fmt.Fprintln(os.Stderr, "chat: -tls-ca and -tls-fingerprint go with -tls")
		return 2
	}
	return client.Main(ctx, cfg, os.Stdin, os.Stdout, os.Stderr)
}
