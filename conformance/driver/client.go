package driver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"roomchat.dev/roomchat/conformance/dial"
	"strings"
	"syscall"
	"time"

	"roomchat.dev/roomchat/model"
	"roomchat.dev/roomchat/spec"
)

// A Client is one connection to the server under test, over the
// Config's transport (a TCP connection unless told otherwise), and its
// identity in the model.
type Client struct {
	label string
	id    model.ClientID
	conn  *dial.Conn
	r     *bufio.Reader
	fr    spec.Framer // what the server has made of the bytes sent so far
	open  bool        // neither dropped nor closed by the server
}

// Label returns the name the transcript and the errors give the client.
func (c *Client) Label() string { return c.label }

// ID returns the client's identity in the model.
func (c *Client) ID() model.ClientID { return c.id }

// Open reports whether the connection is open: the client has not left,
// and the server has not closed it.
func (c *Client) Open() bool { return c.open }

// MidLine reports whether the client has sent the start of a line but not
// its end. A barrier PING cannot be sent then: it would become part of the
// line.
func (c *Client) MidLine() bool { return c.fr.Pending() }

func connect(d dial.Dialer, addr, label string, timeout time.Duration) (*Client, error) {
	d.Timeout = timeout
	c, err := d.Dial(addr, dial.Options{})
	if err != nil {
		return nil, fmt.Errorf("connect %s to %s: %w", label, addr, err)
	}
	c.TCP().SetNoDelay(true)
	return &Client{label: label, conn: c, r: bufio.NewReaderSize(c, 4096), open: true}, nil
}

var (
	// errEOF marks a connection the server closed.
	errEOF = errors.New("connection closed by the server")
	// errReset marks a connection the server closed with bytes of ours
	// unread (a barrier PING sent as it closed, say): the kernel answers
	// them with a reset, which is still the server's close.
	errReset = fmt.Errorf("%w (reset)", errEOF)
	// errTimeout marks a wait for a line that saw no byte of one.
	errTimeout = errors.New("timed out waiting for a line")
)

// readLine reads one server line, which must end in CRLF (FRAME-2).
func (c *Client) readLine(timeout time.Duration) (string, error) {
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
	case isReset(err) && s == "":
		return "", errReset
	case isReset(err):
		return "", fmt.Errorf("connection reset in the middle of the line %q", s)
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
func (c *Client) write(timeout time.Duration, chunks ...[]byte) error {
	for _, ch := range chunks {
		c.conn.SetWriteDeadline(time.Now().Add(timeout))
		if _, err := c.conn.Write(ch); err != nil {
			return fmt.Errorf("%s: write: %w", c.label, err)
		}
	}
	return nil
}

// isReset reports whether err is a connection reset by the peer.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
