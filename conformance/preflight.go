package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"roomchat.dev/roomchat/conformance/dial"
	"slices"
	"strconv"
	"syscall"
	"time"

	"roomchat.dev/roomchat/spec"
)

// Preflight checks, before any script runs, that the target can be tested
// at all, so that a wrong address or a server that does not start is
// reported once instead of by every script. With Config.Start it starts one
// server, without extra flags, which must listen (ExecServer reports one
// that exits or never listens, with its output). Then, on one connection, it
// sends PING x, or USERNAME with a throwaway name if the ping extension is
// not tested, and waits at most Config.Timeout for the answer, which must be
// a server line of PROTOCOL.md 3.2. It leaves with QUIT and stops the server
// it started.
func (r *Runner) Preflight() error {
	ping := slices.Contains(r.tags, "ping")
	name := "preflight" + r.suffix("(preflight)")
	if r.cfg.Start == nil {
		return handshake(r.cfg.Dialer, r.cfg.Addr, r.cfg.Timeout, ping, name)
	}
	srv, err := r.cfg.Start(nil)
	if err != nil {
		return fmt.Errorf("cannot start the server: %w", err)
	}
	defer srv.Stop()
	if err := handshake(r.cfg.Dialer, srv.Addr(), r.cfg.Timeout, ping, name); err != nil {
		if log := srv.Log(); log != "" {
			return fmt.Errorf("%w\nserver output:\n%s", err, indent(log))
		}
		return err
	}
	return nil
}

// checkAddr checks that addr is host:port with a numeric port, the form
// Config.Addr takes.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			err = errors.New(ae.Err)
		}
		return fmt.Errorf("address %q: %v; want host:port, such as 127.0.0.1:9999", addr, err)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("address %q: port %q is not a number from 1 to 65535", addr, port)
	}
	return nil
}

// handshake connects to addr, sends PING x (or, without ping, USERNAME
// name), and checks that the first line of the answer, within timeout, is a
// server line. Then it sends QUIT and waits a moment for the server to
// close, so that the connection no longer counts against its limits.
func handshake(d dial.Dialer, addr string, timeout time.Duration, ping bool, name string) error {
	d.Timeout = timeout
	conn, err := d.Dial(addr, dial.Options{})
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.ECONNREFUSED) {
			hint = " (is the server running, and listening there?)"
		}
		return fmt.Errorf("cannot connect to %s: %v%s", addr, err, hint)
	}
	defer conn.Close()
	req := "PING x"
	if !ping {
		req = "USERNAME " + name
	}
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(req + "\r\n")); err != nil {
		return fmt.Errorf("%s: sending %q: %v", addr, req, err)
	}
	br := bufio.NewReaderSize(conn, spec.MaxShortLine)
	data, err := br.ReadSlice('\n')
	if err != nil {
		return noAnswer(addr, req, data, err, timeout, ping)
	}
	line := string(bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r")))
	if _, err := spec.ParseServerLine(line); err != nil {
		reason := err.Error()
		var se *spec.SyntaxError
		if errors.As(err, &se) {
			reason = se.Reason
		}
		return fmt.Errorf("%s does not answer as a roomchat server: to %q it answered %s, not a server line of PROTOCOL.md (%s)",
			addr, req, spec.Quote(line), reason)
	}
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("QUIT\r\n")); err == nil {
		io.Copy(io.Discard, br)
	}
	return nil
}

// noAnswer explains why no line answered req: data is what arrived, err why
// the reading stopped.
func noAnswer(addr, req string, data []byte, err error, timeout time.Duration, ping bool) error {
	got := ""
	if len(data) > 0 {
		got = " after " + spec.Quote(string(data))
	}
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return fmt.Errorf("%s does not answer as a roomchat server: to %q it answered %d bytes without a line end, starting %s",
			addr, req, len(data), spec.Quote(string(data)))
	case errors.Is(err, os.ErrDeadlineExceeded):
		hint := ""
		if ping {
			hint = " (a server without the ping extension must say so: leave ping out of -tags, or out of the manifest's implements line)"
		}
		return fmt.Errorf("%s does not answer: no line within %v of sending %q%s%s", addr, timeout, req, got, hint)
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s closed the connection%s without answering %q with a line", addr, got, req)
	default:
		return fmt.Errorf("%s: reading the answer to %q%s: %v", addr, req, got, err)
	}
}
