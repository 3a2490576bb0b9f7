package main

import (
	"crypto/tls"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// servedSerial handshakes with addr and returns the serial of the certificate served.
func servedSerial(t *testing.T, addr string) *big.Int {
	t.Helper()
	c, err := tls.Dial("tcp4", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // we read the certificate, we do not trust it
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber
}

// TestCertificateReload: replacing the certificate files changes what the next
// handshakes serve, on the HTTPS port and on TURN over TLS, without a restart; files
// that do not load keep the last good certificate.
func TestCertificateReload(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	pool, first := writeCert(t, dir)
	cfg := testConfig(t)
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cfg.TURNTLSPort, cfg.TURNDomain = -1, "localhost"
	a := startApp(t, cfg)
	turnAddr := a.deploy().turn.TLSAddr().String()

	// A verified handshake: HTTPS serves the configured certificate.
	c, err := tls.Dial("tcp4", a.addr, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ConnectionState().PeerCertificates[0].SerialNumber; got.Cmp(first) != 0 {
		t.Fatalf("serial %v, want %v", got, first)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
		t.Errorf("ALPN %q: websockets need HTTP/1.1", p)
	}
	_ = c.Close()
	// A TURN client offering the TURN ALPN id (RFC 7443) is not refused.
	tc, err := tls.Dial("tcp4", turnAddr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"stun.turn"}})
	if err != nil {
		t.Fatalf("TURN over TLS with ALPN stun.turn: %v", err)
	}
	_ = tc.Close()

	_, second := writeCert(t, dir)
	start := time.Now()
	for _, addr := range []string{a.addr, turnAddr} {
		waitUntil(t, 5*time.Second, "the new certificate on "+addr, func() bool { return servedSerial(t, addr).Cmp(second) == 0 })
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("reload took %v", d)
	}

	// A half-written pair (garbage) keeps the last good certificate.
	if err := os.WriteFile(cfg.TLSCert, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if got := servedSerial(t, a.addr); got.Cmp(second) != 0 {
		t.Errorf("after a broken file: serial %v, want %v", got, second)
	}
}

func TestWarnings(t *testing.T) {
	has := func(ws []string, sub string) bool {
		for _, w := range ws {
			if strings.Contains(w, sub) {
				return true
			}
		}
		return false
	}
	c := serveConfig{HTTP: "0.0.0.0:7880", TCPPort: 7881}
	if !has(c.warnings(), "without TLS") {
		t.Errorf("no TLS warning for %s: %v", c.HTTP, c.warnings())
	}
	c.TLSCert, c.TLSKey = "c", "k"
	if has(c.warnings(), "without TLS") {
		t.Error("TLS warning with TLS")
	}
	for _, host := range []string{"127.0.0.1:7880", "localhost:7880"} {
		c := serveConfig{HTTP: host, TCPPort: 7881}
		if len(c.warnings()) != 0 {
			t.Errorf("%s: %v", host, c.warnings())
		}
	}
}
