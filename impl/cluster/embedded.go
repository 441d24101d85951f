package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// embeddedReady is how long StartEmbedded and Start wait for the server to
// accept connections.
const embeddedReady = 10 * time.Second

// EmbeddedConfig configures an [Embedded] NATS server.
type EmbeddedConfig struct {
	// Addr is the host and port to listen on; default "127.0.0.1:0" (a
	// free port, kept for the server's restarts).
	Addr string
	// StoreDir is where JetStream keeps its streams. If empty, a temporary
	// directory is made, and removed by Shutdown.
	StoreDir string
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
}

// Embedded is a NATS server with JetStream running inside this process, for
// chatd's -cluster-embedded and for tests. It listens on TCP like any NATS
// server, so that the nodes of a cluster can be told its [Embedded.URL].
// It can be stopped and started again on the same port and store
// ([Embedded.Stop], [Embedded.Start]), which tests use to restart NATS under
// the nodes.
//
// JetStream writes what it stores to its files at once but syncs them to
// disk only every two minutes (the server's default): a stop, or a crash of
// the process, loses nothing; a crash of the machine may lose what was
// stored last.
type Embedded struct {
	host    string // immutable
	dir     string // immutable: the store
	tempDir bool   // immutable: dir was made by StartEmbedded
	log     *slog.Logger

	mu   sync.Mutex
	port int            // the port, fixed by the first start
	srv  *server.Server // nil while stopped
}

// StartEmbedded starts a NATS server with JetStream, and returns when it
// accepts connections.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	host, portText, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("cluster: embedded NATS address %q: %w", cfg.Addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("cluster: embedded NATS address %q: bad port", cfg.Addr)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	e := &Embedded{host: host, dir: cfg.StoreDir, port: port, log: cfg.Logger}
	if e.dir == "" {
		if e.dir, err = os.MkdirTemp("", "roomchat-nats-"); err != nil {
			return nil, fmt.Errorf("cluster: embedded NATS store: %w", err)
		}
		e.tempDir = true
	}
	if err := e.Start(); err != nil {
		if e.tempDir {
			os.RemoveAll(e.dir)
		}
		return nil, err
	}
	return e, nil
}

// URL returns the server's client URL, nats://host:port. It stays the same
// across Stop and Start.
func (e *Embedded) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return "nats://" + net.JoinHostPort(e.host, strconv.Itoa(e.port))
}

// StoreDir returns the directory of JetStream's store.
func (e *Embedded) StoreDir() string { return e.dir }

// Start starts the server again after Stop, on the same port and store. It
// does nothing if the server is running.
func (e *Embedded) Start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return nil
	}
	opts := &server.Options{
		ServerName: "roomchat-embedded",
		Host:       e.host,
		Port:       e.port,
		JetStream:  true,
		StoreDir:   e.dir,
		NoSigs:     true,
		NoLog:      e.log == nil,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("cluster: embedded NATS: %w", err)
	}
	if e.log != nil {
		debug := e.log.Enabled(context.Background(), slog.LevelDebug)
		srv.SetLoggerV2(serverLog{e.log}, debug, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(embeddedReady) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("cluster: embedded NATS on %s: not ready after %v", net.JoinHostPort(e.host, strconv.Itoa(e.port)), embeddedReady)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return errors.New("cluster: embedded NATS: JetStream did not start (see the server's log)")
	}
	if a, ok := srv.Addr().(*net.TCPAddr); ok {
		e.port = a.Port
	}
	e.srv = srv
	return nil
}

// Stop stops the server and waits until it has stopped, keeping its store
// and port for Start. Clients see the connection drop. It does nothing if
// the server is stopped.
func (e *Embedded) Stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv == nil {
		return
	}
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	e.srv = nil
}

// Shutdown stops the server for good, and removes the store if
// StartEmbedded made it. It may be called more than once.
func (e *Embedded) Shutdown() {
	e.Stop()
	if e.tempDir {
		os.RemoveAll(e.dir)
	}
}

// serverLog passes the server's log to a slog.Logger.
type serverLog struct{ l *slog.Logger }

func (s serverLog) Noticef(format string, v ...any) { s.l.Info(fmt.Sprintf(format, v...)) }
func (s serverLog) Warnf(format string, v ...any)   { s.l.Warn(fmt.Sprintf(format, v...)) }
func (s serverLog) Fatalf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLog) Errorf(format string, v ...any)  { s.l.Error(fmt.Sprintf(format, v...)) }
func (s serverLog) Debugf(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
func (s serverLog) Tracef(format string, v ...any)  { s.l.Debug(fmt.Sprintf(format, v...)) }
