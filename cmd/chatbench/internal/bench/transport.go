package bench

import (
	"crypto/tls"
	"time"

	"roomchat.dev/roomchat/conformance/dial"
)

// dialer returns how the load's clients connect: over the run's transport,
// within deadline. A TLS certificate is not checked: the benchmark measures
// a server it started or was pointed at.
func (c *Config) dialer(deadline time.Time) dial.Dialer {
	return dial.Dialer{Transport: c.Transport, TLS: &tls.Config{InsecureSkipVerify: true}, Timeout: time.Until(deadline)}
}
