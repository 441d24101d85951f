package client

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TLSConfig returns the TLS client configuration for PROTOCOL.md TRANS-1:
// the server's certificate is verified against the system's roots, or
// against the PEM certificates of caFile, or, given fingerprint (the
// SHA-256 of the certificate as chatd -tls-self-signed logs it, hex with
// or without colons), accepted only if it is that certificate.
func TLSConfig(caFile, fingerprint string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" && fingerprint != "" {
		return nil, errors.New("give a CA file or a fingerprint, not both")
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	if fingerprint != "" {
		want := strings.ToLower(strings.ReplaceAll(fingerprint, ":", ""))
		if len(want) != 64 {
			return nil, fmt.Errorf("fingerprint %q: want 64 hex digits (SHA-256)", fingerprint)
		}
		// The pinned certificate is the trust: it replaces the chain check.
		cfg.InsecureSkipVerify = true
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("the server presented no certificate")
			}
			got := fmt.Sprintf("%x", sha256.Sum256(raw[0]))
			if got != want {
				return fmt.Errorf("the server's certificate has fingerprint %s, not the one given", got)
			}
			return nil
		}
	}
	return cfg, nil
}
