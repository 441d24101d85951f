package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned starts a TLS listener on 127.0.0.1 with a new self-signed
// certificate that completes handshakes, and returns its address, the
// certificate's PEM and its fingerprint as chatd logs it.
func selfSigned(t *testing.T) (addr string, certPEM []byte, fingerprint string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	sum := sha256.Sum256(der)
	var parts []string
	for _, b := range sum {
		parts = append(parts, fmt.Sprintf("%02X", b))
	}
	return ln.Addr().String(), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), strings.Join(parts, ":")
}

// TestTLSConfig: a self-signed certificate is refused by default, and
// trusted by its CA file or by its fingerprint; a wrong fingerprint is
// refused.
func TestTLSConfig(t *testing.T) {
	addr, certPEM, fp := selfSigned(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(caFile, certPEM, 0o644)
	wrong := strings.Repeat("00:", 31) + "00"
	for _, tc := range []struct {
		ca, pin string
		ok      bool
	}{{"", "", false}, {caFile, "", true}, {"", fp, true}, {"", strings.ToLower(strings.ReplaceAll(fp, ":", "")), true}, {"", wrong, false}} {
		cfg, err := TLSConfig(tc.ca, tc.pin)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ServerName = "127.0.0.1"
		c, err := tls.Dial("tcp", addr, cfg)
		if c != nil {
			c.Close()
		}
		if (err == nil) != tc.ok {
			t.Errorf("ca %q pin %q: handshake error %v, want ok=%v", tc.ca, tc.pin, err, tc.ok)
		}
	}
	if _, err := TLSConfig(caFile, fp); err == nil {
		t.Errorf("both a CA file and a fingerprint: no error")
	}
	if _, err := TLSConfig("", "AB:CD"); err == nil {
		t.Errorf("a short fingerprint: no error")
	}
}
