package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"roomchat.dev/roomchat/conformance"
)

// serveModelUsage is the usage text of chatconform -serve-model.
const serveModelUsage = `usage: chatconform -serve-model [-addr host:port] [-bug NAME] [-state FILE] [server flags]
       chatconform -serve-model -bugs

Runs the model of PROTOCOL.md (package model) as a TCP server until SIGINT or
SIGTERM, to compare a server with by hand, or, with -bug, a copy of it with
one deliberate bug, to see what a failure of that rule looks like. It prints
one line, "... listening on HOST:PORT", then logs each connection opened and
closed to standard error. It is a reference, not a server for real use: one
client that stops reading holds everyone up. It offers the extensions of
section 13 (CAPS accounts history), and its messages have the times of the
wall clock.

It can be chatconform's own -exec target, with the manifest of what it
implements:

  chatconform -manifest docs/conformance/model.manifest \
      -exec 'chatconform -serve-model -addr 127.0.0.1:{port} -bug rooms-reversed'

With -state FILE it keeps its state across its own restarts (HIST-5):
every event goes to FILE before its effects, and a new process replays
FILE and then restarts, keeping the accounts, the stored messages and the
sequence of IDs. So the durable scripts can run against it:

  chatconform -exec 'chatconform -serve-model -addr {addr} -state {dir}/model.events'

Of the server flags of PROTOCOL.md section 8 it implements -max-clients only,
and those of section 13 (-history-keep, -history-max-age, -login-delay,
-login-delay-max, -login-burst, -login-rate, -max-rooms), and -extensions
as the reference server has it (accounts,history,rooms or none); any other makes it exit
with status 2 and a message, which chatconform reports as a server that
cannot start. The manifest leaves out the limits and ratelimit extensions,
so that their scripts are skipped instead.

SIGINT or SIGTERM shut it down as SHUT-1 says, and it exits 0. Exit status 1:
it cannot listen or open -state; 2: bad flags.

Flags:
`

// serverFlags are the server flags of PROTOCOL.md sections 8 and 13 that
// chatconform -exec may append. They all go to the model server, which
// refuses those it does not implement, with a message.
var serverFlags = []string{"max-clients", "max-queue-bytes", "write-timeout", "stall-budget", "idle-timeout", "line-rate", "line-burst",
	"history-keep", "history-max-age", "login-delay", "login-delay-max", "login-burst", "login-rate", "max-rooms", "extensions"}

// serveModel is chatconform -serve-model: if args (without the program
// name) hold the flag -serve-model, it parses them, serves the model until
// SIGINT or SIGTERM, and returns the exit status and handled=true.
// Otherwise it does nothing and returns handled=false, and run goes on with
// the suite.
func serveModel(args []string, stdout, stderr io.Writer) (status int, handled bool) {
	if !wantsServeModel(args) {
		return 0, false
	}
	// The signals are caught from the start, so that one that arrives as
	// soon as the address is printed shuts the server down properly.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	return runServeModel(args, stdout, stderr, sigs), true
}

// wantsServeModel reports whether args hold -serve-model (or
// -serve-model=true) before the end of the flags. A word of a flag's value,
// such as the command of -exec 'chatconform -serve-model', is never equal
// to it.
func wantsServeModel(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "serve-model" {
			continue
		}
		if !hasValue {
			return true
		}
		on, err := strconv.ParseBool(value)
		return err == nil && on
	}
	return false
}

// runServeModel is serveModel once the mode is chosen: it serves until a
// signal arrives on sigs and returns the exit status.
func runServeModel(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	fl := flag.NewFlagSet("chatconform -serve-model", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() {
		fmt.Fprint(stderr, serveModelUsage)
		fl.PrintDefaults()
	}
	var (
		_        = fl.Bool("serve-model", true, "serve the model of PROTOCOL.md instead of running the suite")
		addr     = fl.String("addr", "127.0.0.1:0", "`host:port` to listen on; port 0 picks a free one, which the first line of output gives")
		bug      = fl.String("bug", "", "build in the deliberate bug `NAME`; list prints the catalogue")
		listBugs = fl.Bool("bugs", false, "print the catalogue of deliberate bugs and exit")
		state    = fl.String("state", "", "keep the model's state in `file` across restarts of this process (the durable scripts)")
	)
	var flags []string
	for _, name := range serverFlags {
		fl.Func(name, "server flag of PROTOCOL.md section 8 or 13 (of section 8 the model implements -max-clients only)", func(v string) error {
			flags = append(flags, "-"+name, v)
			return nil
		})
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "chatconform -serve-model: unexpected arguments %q\n", fl.Args())
		return exitUsage
	}
	if *listBugs || *bug == "list" {
		writeModelBugs(stdout)
		return exitPass
	}

	logger := slog.New(slog.NewTextHandler(stderr, nil))
	srv, err := conformance.StartModelServer(conformance.ModelServerConfig{Addr: *addr, Flags: flags, Bug: *bug, Logger: logger, State: *state})
	if err != nil {
		fmt.Fprintf(stderr, "chatconform -serve-model: %v\n", err)
		var opErr *net.OpError
		var pathErr *os.PathError
		if errors.As(err, &opErr) || errors.As(err, &pathErr) {
			return exitFail // cannot listen, or cannot open -state
		}
		if errors.Is(err, conformance.ErrUnsupported) {
			fmt.Fprintln(stderr, "chatconform -serve-model: the model implements -max-clients only of the flags of PROTOCOL.md section 8;"+
				" run the suite with -manifest docs/conformance/model.manifest to skip the scripts that need the others")
		}
		return exitUsage
	}
	if !isLoopback(srv.Addr()) {
		logger.Warn("the model server is a reference for testing, not a server for real use; listen on loopback", "addr", srv.Addr())
	}
	what := "model server"
	if *bug != "" {
		b := findModelBug(*bug)
		what = fmt.Sprintf("model server with bug %s (breaks %s)", b.Name, strings.Join(b.Rules, " "))
	}
	fmt.Fprintf(stdout, "chatconform: %s listening on %s\n", what, srv.Addr())

	sig := <-sigs
	logger.Info("signal received, shutting down", "signal", sig.String())
	srv.Stop()
	logger.Info("stopped")
	return exitPass
}

// writeModelBugs prints the catalogue of deliberate bugs: a line each, with
// the rules it breaks and what it does.
func writeModelBugs(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BUG\tBREAKS\tWHAT THE SERVER DOES")
	for _, b := range conformance.ModelBugs() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, strings.Join(b.Rules, " "), b.Doc)
	}
	tw.Flush()
}

// findModelBug returns the bug of the catalogue called name, which
// conformance.StartModelServer has already accepted.
func findModelBug(name string) conformance.ModelBug {
	for _, b := range conformance.ModelBugs() {
		if b.Name == name {
			return b
		}
	}
	return conformance.ModelBug{Name: name}
}

// isLoopback reports whether addr, a host:port, is a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
