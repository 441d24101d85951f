package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// pprofUsage is the help text of -pprof.
const pprofUsage = "serve net/http/pprof (/debug/pprof/: CPU, heap, allocation and other profiles of chatd) on this loopback `host:port`, " +
	"e.g. 127.0.0.1:6060; off by default. Not a limit of the protocol: a tool for measuring (BENCHMARKS.md)"

// pprofAddr is the value of -pprof: where to serve net/http/pprof, or ""
// for nowhere. Only a loopback address is accepted: profiles show the
// program's memory, which holds what clients said.
type pprofAddr string

func (a *pprofAddr) String() string { return string(*a) }

// Set accepts a host:port whose host is a loopback IP address or
// "localhost"; port 0 picks a free port, which the log gives.
func (a *pprofAddr) Set(s string) error {
	host, _, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q is not a loopback address: profiles must not be served to the network", s)
	}
	*a = pprofAddr(s)
	return nil
}

// serve starts serving the profiles on a, if set, logging where (key
// pprof=, never addr=, which names the line listener), and returns a
// function that stops it. A listener that cannot be had is logged as an
// error and chatd goes on without it: the profiles are a tool, not a
// service.
func (a pprofAddr) serve(logger *slog.Logger) (stop func()) {
	if a == "" {
		return func() {}
	}
	ln, err := net.Listen("tcp", string(a))
	if err != nil {
		logger.Error("cannot listen for pprof; going on without it", "pprof", string(a), "err", err)
		return func() {}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and every named profile under it: heap, allocs, goroutine, ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) // returns http.ErrServerClosed once stopped
	logger.Info("pprof listening", "pprof", ln.Addr().String())
	return func() { srv.Close() }
}
