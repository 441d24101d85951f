package modelcheck

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// client is one TCP connection to the server under test.
type client struct {
	label string
	conn  *net.TCPConn
	r     *bufio.Reader
}

func dial(addr, label string, timeout time.Duration) (*client, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, fmt.Errorf("connect %s to %s: %w", label, addr, err)
	}
	tc := c.(*net.TCPConn)
	tc.SetNoDelay(true)
	return &client{label: label, conn: tc, r: bufio.NewReaderSize(tc, 4096)}, nil
}

var (
	// errEOF marks a connection the server closed.
	errEOF = errors.New("connection closed by the server")
	// errTimeout marks a wait for a line that saw no byte of one.
	errTimeout = errors.New("timed out waiting for a line")
)

// readLine reads one server line, which must end in CRLF (FRAME-2).
func (c *client) readLine(timeout time.Duration) (string, error) {
	c.conn.SetReadDeadline(time.Now().Add(timeout))
	s, err := c.r.ReadString('\n')
	switch {
	case err == nil && strings.HasSuffix(s, "\r\n"):
		return s[:len(s)-2], nil
	case err == nil:
		return s[:len(s)-1], fmt.Errorf("line %q ends in a bare LF, not CRLF", s)
	case errors.Is(err, io.EOF) && s == "":
		return "", errEOF
	case errors.Is(err, io.EOF):
		return "", fmt.Errorf("connection closed in the middle of the line %q", s)
	case isTimeout(err):
		if s != "" {
			return "", fmt.Errorf("timed out after %v in the middle of the line %q", timeout, s)
		}
		return "", fmt.Errorf("%w (%v)", errTimeout, timeout)
	default:
		return "", err
	}
}

// write sends each chunk in its own write call.
func (c *client) write(chunks [][]byte) error {
	for _, ch := range chunks {
		c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.conn.Write(ch); err != nil {
			return fmt.Errorf("%s: write: %w", c.label, err)
		}
	}
	return nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
