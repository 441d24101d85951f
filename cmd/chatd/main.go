// Command chatd runs the reference roomchat server (PROTOCOL.md).
//
//	chatd [-addr host:port|none] [-p port]
//	      [-tls-addr host:port (-tls-cert file -tls-key file | -tls-self-signed)]
//	      [-framed-addr host:port [-frame-header 4|8]]
//	      [-ws-addr host:port [-ws-origin pattern]...]
//	      [limits] [-coalesce d] [-log-format text|json] [-log-level level] [-log-interval d]
//	      [-extensions accounts,history,rooms|none] [-db file] [extension limits]
//	      [-cluster nats://host:port | -cluster-embedded host:port [-cluster-store dir]]
//	      [-cluster-node id] [-node-timeout d]
//	chatd account reset-password -db file name   (the new password on standard input)
//	chatd account delete -db file name
//	chatd nats [-addr host:port] [-store dir]   (a cluster's NATS server, alone)
//
// It listens for lines on -addr, and, if asked, for the other transports
// of PROTOCOL.md 2.1: TLS on -tls-addr (TRANS-1), with the certificate and
// key of -tls-cert and -tls-key or a new self-signed one, and
// length-prefixed frames with headers of -frame-header bytes on
// -framed-addr (TRANS-2 to TRANS-4), and WebSockets at the path /chat on
// -ws-addr (TRANS-5, TRANS-6). A WebSocket handshake from a web page is
// refused (403) unless the page comes from the listener's own host or
// from an origin that a -ws-origin pattern matches (path.Match patterns,
// against the origin's host:port, or scheme://host:port if the pattern
// has "://"; repeat the flag or separate patterns with commas); one
// without an Origin header, not from a browser, is accepted. Clients of
// every listener share one
// set of users and rooms, and -max-clients counts them all. The default
// -addr, 127.0.0.1:9999, applies only if no other listener is asked for
// (nor -p), so that "chatd -tls-addr 127.0.0.1:{port} -tls-self-signed"
// listens on that port alone; -addr none (or empty) turns it off.
//
// The limits are the flags of PROTOCOL.md section 8: -max-clients,
// -max-queue-bytes, -write-timeout, -stall-budget, -idle-timeout, and the
// optional rate limit -line-rate with -line-burst.
//
// It logs to standard error. One record says where each listener listens,
// which is how a caller that asked for port 0 learns the port:
// msg=listening addr=HOST:PORT for lines (or the JSON equivalent), and
// msg=listening listen=HOST:PORT transport=tls (or framed4, framed8, ws) for
// the others, so that the first addr= is always the line listener's. With
// TLS, a msg="tls certificate" record before them gives the certificate's
// SHA-256 fingerprint (fingerprint=AB:CD:...), for clients to pin. At the
// default level, info, it logs no line per connection: every
// -log-interval (10s), if anything happened, one msg=connections record
// counts the connections accepted, refused and closed, by reason; a slow
// consumer dropped and a stall budget spent are logged one record each.
// -log-level debug adds a record per connection accepted, refused and
// closed, with its reason, and one per line received (package impl,
// log.go). SIGINT or SIGTERM shut it down: every client is told "ERROR
// Server shutting down", the last counts are logged, and the program exits
// 0. Bad flags exit 2; a listener or certificate that cannot be had exits 1.
//
// The extensions of PROTOCOL.md section 13 that clients may enable with
// CAPS are -extensions (default accounts,history,rooms: all of them; none
// makes a core server). Accounts and stored history are kept in memory
// for the life of the process, or, with -db, in that SQLite file, which
// survives restarts and crashes (HIST-5); it is created if missing, and a
// file that cannot be used (not a database, damaged, unwritable, held by
// another chatd) stops chatd at once with status 1 and a message naming
// it. Their limits are the flags of PROTOCOL.md 13: -history-keep,
// -history-max-age, -login-delay, -login-delay-max, -login-burst,
// -login-rate, and -max-rooms, the rooms a user of a connection that
// enabled rooms may be in at once (MULTI-2); and -argon2-memory (KiB) and
// -argon2-time set the cost of new password hashes (default: 19 MiB, 2
// passes).
//
// "chatd account" is for the operator, while no chatd holds the database:
// reset-password reads a new password, one line, from standard input and
// sets it for the account; delete removes the account, whose name is free
// again. Either exits 1 with a message if the account does not exist or
// the database is in use.
//
// -cluster makes chatd a node of a cluster (docs/cluster.md): the nodes
// share one chat through the JetStream of the NATS server at that URL, and
// a client may connect to any of them. -cluster-embedded runs such a NATS
// server inside this chatd, listening on host:port (its JetStream store in
// -cluster-store, or a temporary directory), and joins it; the other nodes
// are given -cluster nats://host:port. A node offers the extension rooms
// only (-extensions defaults to rooms; accounts, history and -db are
// refused, exit 2), never paces a sender, and declares another node gone
// -node-timeout (2s) after its last heartbeat. -cluster-node names this
// node in the log (default: a random ID for each start). "chatd nats" runs
// the same NATS server alone, for nodes that all join it with -cluster
// (the conformance suite stops and starts it: chatconform -cluster-log).
//
// -coalesce is a tuning knob, not a limit of the protocol: output to a client
// written to less than d ago that does not answer its own line waits up to d
// to share one write with what follows (impl.Config.CoalesceDelay; default
// 500µs, a negative d turns it off). BENCHMARKS.md shows what it buys.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"roomchat.dev/roomchat/cmd/internal/buildinfo"
	"roomchat.dev/roomchat/impl"
	"roomchat.dev/roomchat/impl/cluster"
	"roomchat.dev/roomchat/impl/passwd"
	"roomchat.dev/roomchat/impl/transport"
	"roomchat.dev/roomchat/spec"
)

// shutdownTimeout bounds the graceful shutdown after a signal.
const shutdownTimeout = 5 * time.Second

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() { cancel(signalCause{<-sigs}) }()
	if len(os.Args) > 1 && os.Args[1] == "account" {
		os.Exit(runAccount(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "nats" {
		os.Exit(runNATS(ctx, os.Args[2:], os.Stderr))
	}
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// signalCause is why main's context ends: a signal, named in the log.
type signalCause struct{ sig os.Signal }

var signalNames = map[os.Signal]string{os.Interrupt: "SIGINT", syscall.SIGTERM: "SIGTERM"}

func (c signalCause) Error() string {
	if name, ok := signalNames[c.sig]; ok {
		return name
	}
	return c.sig.String()
}

// options are the parsed command line.
type options struct {
	addr          string // lines; "" for none
	tlsAddr       string // "" for none
	tlsCert       string
	tlsKey        string
	tlsSelfSigned bool
	framedAddr    string // "" for none
	frameHeader   int
	wsAddr        string   // "" for none
	wsOrigins     []string // -ws-origin patterns
	cfg           impl.Config
	extensions    string
	cluster       string // -cluster: the NATS URL
	embedded      string // -cluster-embedded: where the NATS server listens
	clusterStore  string
	logFormat     string
	logLevel      slog.Level
	version       bool
	pprof         pprofAddr // -pprof (pprof.go): "" for none
}

// parseFlags parses args; errors are usage errors, already reported on
// stderr by the flag package or to be reported by the caller.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("chatd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	var port string
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9999", "`host:port` to listen on for lines; none (or empty): no listener for lines. "+
		"The default applies only if none of -tls-addr, -framed-addr and -ws-addr is given")
	fs.StringVar(&o.tlsAddr, "tls-addr", "", "`host:port` to listen on for lines inside TLS (TRANS-1); needs -tls-cert and -tls-key, or -tls-self-signed")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM `file` of the TLS certificate (chain)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM `file` of the TLS certificate's private key")
	fs.BoolVar(&o.tlsSelfSigned, "tls-self-signed", false, "present a new self-signed TLS certificate, whose fingerprint is logged")
	fs.StringVar(&o.framedAddr, "framed-addr", "", "`host:port` to listen on for length-prefixed frames (TRANS-2)")
	fs.IntVar(&o.frameHeader, "frame-header", 4, "`bytes` of a frame's length header on -framed-addr: 4 or 8")
	fs.StringVar(&o.wsAddr, "ws-addr", "", "`host:port` to listen on for WebSockets at /chat (TRANS-5)")
	fs.Func("ws-origin", "origin `pattern` (path.Match, of host:port or scheme://host:port) whose web pages may open a WebSocket on -ws-addr, "+
		"besides the listener's own host (TRANS-6); repeatable, or comma-separated", func(s string) error {
		for p := range strings.SplitSeq(s, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if _, err := path.Match(strings.ToLower(p), ""); err != nil {
				return fmt.Errorf("pattern %q: %v", p, err)
			}
			o.wsOrigins = append(o.wsOrigins, p)
		}
		return nil
	})
	fs.Func("p", "`port` to listen on for lines; overrides the port of -addr", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 65535 {
			return errors.New("not a port number (0 to 65535)")
		}
		port = s
		return nil
	})
	fs.IntVar(&o.cfg.MaxClients, "max-clients", spec.MaxClients, "simultaneous connections (LIMIT-1)")
	fs.IntVar(&o.cfg.MaxQueueBytes, "max-queue-bytes", spec.MaxQueueBytes, "output queue per client, in bytes (LIMIT-4)")
	fs.DurationVar(&o.cfg.WriteTimeout, "write-timeout", spec.WriteTimeout, "write stall before a slow consumer is dropped (LIMIT-4)")
	fs.DurationVar(&o.cfg.StallBudget, "stall-budget", spec.StallBudget, "longest time, in all, that senders are held back for one client that reads slowly (LIMIT-9); 0: never")
	fs.DurationVar(&o.cfg.IdleTimeout, "idle-timeout", spec.IdleTimeout, "time without a line before a connection is closed (LIMIT-7)")
	fs.Float64Var(&o.cfg.LineRate, "line-rate", 0, "lines read per second from each client, at most (LIMIT-11); 0: no limit")
	fs.IntVar(&o.cfg.LineBurst, "line-burst", spec.RateBurst, "lines a client may send at once under -line-rate (LIMIT-11)")
	fs.DurationVar(&o.cfg.CoalesceDelay, "coalesce", impl.DefaultCoalesceDelay, "longest wait of output to a client written to less than this ago, to share one write; negative: none")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "log `level`: debug (a record per connection and per line received), info, warn or error")
	fs.DurationVar(&o.cfg.LogInterval, "log-interval", impl.DefaultLogInterval, "how often to log, at the info level, the counts of connections accepted, refused and closed, if any")
	fs.StringVar(&o.extensions, "extensions", strings.Join(spec.AllExt.Names(), ","), "`list` of the extensions of PROTOCOL.md 13 that clients may enable with CAPS, comma-separated: "+
		strings.Join(spec.AllExt.Names(), ", ")+"; none: a core server")
	fs.StringVar(&o.cfg.DB, "db", "", "SQLite `file` that keeps accounts and history across restarts (HIST-5); created if missing. Default: memory only")
	fs.IntVar(&o.cfg.HistoryKeep, "history-keep", impl.DefaultHistoryKeep, "stored messages kept per room (HIST-4)")
	fs.DurationVar(&o.cfg.HistoryMaxAge, "history-max-age", 0, "age beyond which a stored message is no longer returned (HIST-4); 0: none")
	fs.DurationVar(&o.cfg.LoginDelay, "login-delay", impl.DefaultLoginDelay, "pause after a connection's first failed login, doubled after each further one (ACCT-5)")
	fs.DurationVar(&o.cfg.LoginDelayMax, "login-delay-max", impl.DefaultLoginDelayMax, "longest pause after a failed login (ACCT-5)")
	fs.IntVar(&o.cfg.LoginBurst, "login-burst", impl.DefaultLoginBurst, "failed logins from one source address at once (ACCT-5)")
	fs.Float64Var(&o.cfg.LoginRate, "login-rate", impl.DefaultLoginRate, "failed logins from one source address a second, sustained (ACCT-5)")
	fs.IntVar(&o.cfg.MaxRooms, "max-rooms", spec.MaxRoomsPerUser, "rooms a user of a connection that enabled rooms may be in at once (MULTI-2)")
	argonMemory := fs.Uint("argon2-memory", uint(passwd.Default.Memory), "memory of a new password hash, in `KiB` (ACCT-6)")
	argonTime := fs.Uint("argon2-time", uint(passwd.Default.Time), "passes of a new password hash (ACCT-6)")
	fs.StringVar(&o.cluster, "cluster", "", "join the cluster whose NATS server is at `url` (nats://host:port; docs/cluster.md)")
	fs.StringVar(&o.embedded, "cluster-embedded", "", "run a NATS server with JetStream in this process, listening on `host:port`, and join its cluster")
	fs.StringVar(&o.clusterStore, "cluster-store", "", "`dir` of the JetStream store of -cluster-embedded; default: a temporary directory")
	clusterNode := fs.String("cluster-node", "", "this node's `id` in the cluster; default: random, new at each start")
	nodeTimeout := fs.Duration("node-timeout", 2*time.Second, "time after a node's last heartbeat when it is declared gone (docs/cluster.md)")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.Var(&o.pprof, "pprof", pprofUsage)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) (*options, error) {
		err := fmt.Errorf(format, args...)
		fmt.Fprintf(stderr, "chatd: %v\n", err)
		fs.Usage()
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.addr == "none" || !set["addr"] && !set["p"] && (o.tlsAddr != "" || o.framedAddr != "" || o.wsAddr != "") {
		o.addr = "" // only the listeners asked for
	}
	switch {
	case o.addr == "" && o.tlsAddr == "" && o.framedAddr == "" && o.wsAddr == "":
		return bad("nothing to listen on: give -addr, -tls-addr, -framed-addr or -ws-addr")
	case o.addr == "" && port != "":
		return bad("-p needs -addr")
	case o.tlsAddr == "" && (set["tls-cert"] || set["tls-key"] || set["tls-self-signed"]):
		return bad("-tls-cert, -tls-key and -tls-self-signed need -tls-addr")
	case o.tlsAddr != "" && o.tlsSelfSigned && (o.tlsCert != "" || o.tlsKey != ""):
		return bad("-tls-self-signed or -tls-cert and -tls-key, not both")
	case o.tlsAddr != "" && !o.tlsSelfSigned && (o.tlsCert == "" || o.tlsKey == ""):
		return bad("-tls-addr needs -tls-cert and -tls-key, or -tls-self-signed")
	case o.framedAddr == "" && set["frame-header"]:
		return bad("-frame-header needs -framed-addr")
	case !spec.ValidFrameHeader(o.frameHeader):
		return bad("-frame-header must be 4 or 8")
	case o.wsAddr == "" && set["ws-origin"]:
		return bad("-ws-origin needs -ws-addr")
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected argument %q", fs.Arg(0))
	case o.cfg.MaxClients <= 0:
		return bad("-max-clients must be positive")
	case o.cfg.MaxQueueBytes < spec.MinQueueBytes:
		return bad("-max-queue-bytes %d is too small: a client that reads would be dropped for the reply to one JOIN, "+
			"which takes up to %d bytes without its roster (LIMIT-4); give at least that", o.cfg.MaxQueueBytes, spec.MinQueueBytes)
	case o.cfg.WriteTimeout <= 0:
		return bad("-write-timeout must be positive")
	case o.cfg.IdleTimeout <= 0:
		return bad("-idle-timeout must be positive")
	case o.cfg.LogInterval <= 0:
		return bad("-log-interval must be positive")
	case o.cfg.LineRate < 0:
		return bad("-line-rate must not be negative")
	case o.cfg.LineBurst <= 0:
		return bad("-line-burst must be positive")
	case o.logFormat != "text" && o.logFormat != "json":
		return bad("-log-format must be text or json")
	case o.cfg.HistoryKeep <= 0:
		return bad("-history-keep must be positive")
	case o.cfg.HistoryMaxAge < 0:
		return bad("-history-max-age must not be negative")
	case o.cfg.LoginDelay <= 0 || o.cfg.LoginDelayMax <= 0:
		return bad("-login-delay and -login-delay-max must be positive")
	case o.cfg.LoginDelayMax < o.cfg.LoginDelay:
		return bad("-login-delay-max must be at least -login-delay")
	case o.cfg.LoginBurst <= 0:
		return bad("-login-burst must be positive")
	case o.cfg.LoginRate <= 0:
		return bad("-login-rate must be positive")
	case o.cfg.MaxRooms <= 0:
		return bad("-max-rooms must be positive")
	}
	clustered := o.cluster != "" || o.embedded != ""
	switch {
	case o.cluster != "" && o.embedded != "":
		return bad("-cluster or -cluster-embedded, not both")
	case o.embedded == "" && set["cluster-store"]:
		return bad("-cluster-store needs -cluster-embedded")
	case !clustered && (set["cluster-node"] || set["node-timeout"]):
		return bad("-cluster-node and -node-timeout need -cluster or -cluster-embedded")
	case clustered && o.cfg.DB != "":
		return bad("-db: a cluster node keeps no database (docs/cluster.md)")
	case *nodeTimeout <= 0:
		return bad("-node-timeout must be positive")
	}
	if clustered && !set["extensions"] {
		o.extensions = "rooms"
	}
	offer, err := parseExtensions(o.extensions)
	if err != nil {
		return bad("-extensions: %v", err)
	}
	if clustered && offer&^spec.ExtRooms != 0 {
		return bad("-extensions: a cluster node offers rooms at most, not %s (docs/cluster.md)", strings.Join((offer&^spec.ExtRooms).Names(), ","))
	}
	o.cfg.Offer = offer
	if clustered {
		o.cfg.Cluster = &impl.ClusterConfig{URL: o.cluster, Node: *clusterNode, NodeTimeout: *nodeTimeout}
	}
	o.cfg.Argon2 = passwd.Params{Memory: uint32(min(*argonMemory, 1<<32-1)), Time: uint32(min(*argonTime, 1<<32-1)), Threads: passwd.Default.Threads}
	if err := o.cfg.Argon2.Validate(); err != nil {
		return bad("-argon2-memory, -argon2-time: %v", err)
	}
	if o.cfg.StallBudget <= 0 {
		o.cfg.StallBudget = -1 // impl.Config: negative turns pacing off
	}
	if o.addr != "" {
		addr, err := listenAddr(o.addr, port)
		if err != nil {
			return bad("%v", err)
		}
		o.addr = addr
	}
	return o, nil
}

// parseExtensions parses the value of -extensions.
func parseExtensions(list string) (spec.Ext, error) {
	if list == "none" || list == "" {
		return 0, nil
	}
	var offer spec.Ext
	for name := range strings.SplitSeq(list, ",") {
		e, ok := spec.ParseExt(strings.TrimSpace(name))
		if !ok {
			return 0, fmt.Errorf("unknown extension %q (known: %s, or none)", name, strings.Join(spec.AllExt.Names(), ", "))
		}
		offer |= e
	}
	return offer, nil
}

// listenAddr returns addr with its port replaced by port, if port is set.
func listenAddr(addr, port string) (string, error) {
	if port == "" {
		return addr, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr: %v", err)
	}
	return net.JoinHostPort(host, port), nil
}

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	if o.version {
		fmt.Fprintln(stdout, buildinfo.String("chatd"))
		return 0
	}
	hopts := &slog.HandlerOptions{Level: o.logLevel}
	var h slog.Handler = slog.NewTextHandler(stderr, hopts)
	if o.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, hopts)
	}
	logger := slog.New(h)
	o.cfg.Logger = logger
	if o.addr != "" {
		logger.Info("starting", "listen", o.addr, "version", buildinfo.String("chatd"))
	} else {
		logger.Info("starting", "version", buildinfo.String("chatd"))
	}
	defer o.pprof.serve(logger)()
	if need := spec.JoinReplyBytes(o.cfg.MaxClients - 1); o.cfg.MaxQueueBytes < need {
		logger.Warn("-max-queue-bytes is smaller than the reply to a JOIN into a room of -max-clients members; "+
			"a client joining so large a room would be dropped (LIMIT-4)", "max-queue-bytes", o.cfg.MaxQueueBytes, "needed", need)
	}

	if o.embedded != "" {
		nats, err := cluster.StartEmbedded(cluster.EmbeddedConfig{Addr: o.embedded, StoreDir: o.clusterStore, Logger: logger.With("part", "nats")})
		if err != nil {
			logger.Error("cannot start the embedded NATS server", "addr", o.embedded, "err", err)
			return 1
		}
		defer nats.Shutdown()
		o.cfg.Cluster.URL = nats.URL()
		logger.Info("nats listening", "url", nats.URL(), "store", nats.StoreDir())
	}
	srv, err := impl.Open(o.cfg) // the database or the cluster first: either stops chatd before it listens
	switch {
	case err != nil && o.cfg.Cluster != nil:
		logger.Error("cannot join the cluster", "nats", o.cfg.Cluster.URL, "err", err)
		return 1
	case err != nil:
		logger.Error("cannot open the database", "db", o.cfg.DB, "err", err)
		return 1
	}
	lns, err := listen(o, logger)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		srv.Shutdown(context.Background()) // closes the database
		return 1
	}
	served := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { served <- srv.Serve(ln) }() // logs msg=listening
	}

	status := 0
	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("signal received", "signal", context.Cause(ctx).Error())
	case serveErr = <-served:
		logger.Error("serve failed", "err", serveErr)
		status = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown incomplete", "err", err)
	}
	pending := len(lns)
	if serveErr != nil {
		pending--
	}
	for range pending {
		<-served // ErrServerClosed
	}
	logger.Info("stopped")
	return status
}

// listen opens the listeners the options ask for: lines, TLS, frames,
// WebSockets, in that order. If one fails, those opened are closed.
func listen(o *options, logger *slog.Logger) (lns []net.Listener, err error) {
	defer func() {
		if err != nil {
			for _, ln := range lns {
				ln.Close()
			}
			lns = nil
		}
	}()
	open := func(addr string, wrap func(net.Listener) net.Listener) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		lns = append(lns, wrap(ln))
		return nil
	}
	if o.addr != "" {
		if err := open(o.addr, func(ln net.Listener) net.Listener { return ln }); err != nil {
			return lns, err
		}
	}
	if o.tlsAddr != "" {
		cert, err := certificate(o, logger)
		if err != nil {
			return lns, err
		}
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		if err := open(o.tlsAddr, func(ln net.Listener) net.Listener { return transport.TLS(ln, cfg) }); err != nil {
			return lns, err
		}
	}
	if o.framedAddr != "" {
		if err := open(o.framedAddr, func(ln net.Listener) net.Listener { return transport.Framed(ln, o.frameHeader) }); err != nil {
			return lns, err
		}
	}
	if o.wsAddr != "" {
		opts := transport.WSOptions{AllowedOrigins: o.wsOrigins}
		if err := open(o.wsAddr, func(ln net.Listener) net.Listener { return transport.WebSocket(ln, opts) }); err != nil {
			return lns, err
		}
	}
	return lns, nil
}

// certificate loads the TLS certificate of -tls-cert and -tls-key, or
// makes a self-signed one for the host of -tls-addr, and logs its
// fingerprint.
func certificate(o *options, logger *slog.Logger) (tls.Certificate, error) {
	if o.tlsSelfSigned {
		var hosts []string
		if host, _, err := net.SplitHostPort(o.tlsAddr); err == nil {
			if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
				hosts = append(hosts, host)
			}
		}
		cert, fp, err := transport.SelfSigned(hosts)
		if err != nil {
			return tls.Certificate{}, err
		}
		logCertificate(logger, cert.Leaf, fp, true)
		return cert, nil
	}
	cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
	if err == nil && cert.Leaf == nil {
		cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0])
	}
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("-tls-cert, -tls-key: %w", err)
	}
	logCertificate(logger, cert.Leaf, transport.Fingerprint(cert.Certificate[0]), false)
	return cert, nil
}

// logCertificate logs what a client needs to know of the certificate: its
// fingerprint, to pin it, and the names and addresses it is valid for.
func logCertificate(logger *slog.Logger, leaf *x509.Certificate, fingerprint string, selfSigned bool) {
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	logger.Info("tls certificate", "fingerprint", fingerprint, "self-signed", selfSigned,
		"names", strings.Join(names, ","), "not-after", leaf.NotAfter.UTC().Format(time.RFC3339))
}
