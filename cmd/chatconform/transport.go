package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"roomchat.dev/roomchat/conformance/dial"
)

// dialer returns how the suite reaches the server: -transport, and for
// TLS whom to trust (-tls-ca, -tls-insecure).
func (o options) dialer() (dial.Dialer, error) {
	t, err := dial.Parse(o.transport)
	if err != nil {
		return dial.Dialer{}, fmt.Errorf("-transport: %v", err)
	}
	d := dial.Dialer{Transport: t}
	if t != dial.TLS {
		if o.tlsCA != "" || o.tlsInsecure {
			return d, errors.New("-tls-ca and -tls-insecure go with -transport tls")
		}
		return d, nil
	}
	d.TLS = &tls.Config{InsecureSkipVerify: o.tlsInsecure}
	if o.tlsCA != "" {
		pem, err := os.ReadFile(o.tlsCA)
		if err != nil {
			return d, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return d, fmt.Errorf("-tls-ca %s: no PEM certificate in it", o.tlsCA)
		}
		d.TLS.RootCAs = pool
	}
	return d, nil
}
