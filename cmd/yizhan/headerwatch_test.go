package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHeaderBoundsCounted (issue 12): the header bounds that net/http enforces itself
// are counted in yizhan_limit_hits_total like every other bound: a request with too
// many header bytes (net/http's 431), headers that stop half way and a connection that
// never sends a request (cut by ReadHeaderTimeout). Not counted: a keep-alive
// connection closed for idling after its answer, a slow body (its own bound), requests
// that got through.
func TestHeaderBoundsCounted(t *testing.T) {
	a := startLimited(t, testConfig(t), httpLimits{ReadHeaderTimeout: 400 * time.Millisecond, IdleTimeout: 400 * time.Millisecond,
		BodyGrace: 400 * time.Millisecond, BodyMinRate: 100, MaxHeaderBytes: 4096})
	metricsURL := "http://" + a.deploy().metln.Addr().String() + "/metrics"
	hits := func() (slow, large float64) {
		m := scrapeMetrics(t, metricsURL)
		return m["yizhan_limit_hits_total{limit=http_header_seconds}"], m["yizhan_limit_hits_total{limit=http_header_bytes}"]
	}
	expect := func(when string, slow, large float64) {
		t.Helper()
		var s, l float64
		waitUntil(t, 10*time.Second, when, func() bool { s, l = hits(); return s == slow && l == large })
		time.Sleep(600 * time.Millisecond) // and nothing more comes
		if s, l = hits(); s != slow || l != large {
			t.Fatalf("%s: http_header_seconds %v (want %v), http_header_bytes %v (want %v)", when, s, slow, l, large)
		}
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	// Requests that get through, a keep-alive connection left idle, a slow body: none.
	idle := dial()
	br := bufio.NewReader(idle)
	for range 3 {
		fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 3000))
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("a request under the bound: %s", res.Status)
		}
	}
	slowBody := dial()
	fmt.Fprintf(slowBody, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	if !closedWithin(idle, 10*time.Second) || !closedWithin(slowBody, 10*time.Second) {
		t.Fatal("the idle connection or the slow body is still open")
	}
	expect("requests that got through, an idle keep-alive, a slow body", 0, 0)
	if a.guard.slowBodies.Load() != 1 {
		t.Errorf("the slow body: %d counted", a.guard.slowBodies.Load())
	}

	// Too many header bytes: net/http answers 431 itself.
	big := dial()
	fmt.Fprintf(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 40<<10))
	res, err := http.ReadResponse(bufio.NewReader(big), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("40 KiB of headers: %s", res.Status)
	}
	expect("too many header bytes", 0, 1)

	// Headers that stop half way, and a connection that sends nothing.
	half := dial()
	fmt.Fprintf(half, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	silent := dial()
	if !closedWithin(half, 10*time.Second) || !closedWithin(silent, 10*time.Second) {
		t.Fatal("ReadHeaderTimeout did not cut them")
	}
	expect("headers that stop half way, a connection that sends nothing", 2, 1)
}

// TestHeaderBoundsCountedTLS: the same under TLS, where the connection net/http reads
// is the TLS one and ours is beneath it.
func TestHeaderBoundsCountedTLS(t *testing.T) {
	dir := t.TempDir()
	pool, _ := writeCert(t, dir)
	cfg := testConfig(t)
	cfg.TLSCert, cfg.TLSKey = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	cfg.TURNTLSPort, cfg.TURNDomain = -1, "localhost"
	a := startLimited(t, cfg, httpLimits{ReadHeaderTimeout: 400 * time.Millisecond, IdleTimeout: 400 * time.Millisecond, MaxHeaderBytes: 4096})
	dial := func() *tls.Conn {
		c, err := tls.Dial("tcp4", a.addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	ok := dial()
	fmt.Fprintf(ok, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if res, err := http.ReadResponse(bufio.NewReader(ok), nil); err != nil || res.StatusCode != 200 {
		t.Fatalf("a request over TLS: %v %v", res, err)
	}
	big := dial()
	fmt.Fprintf(big, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n", strings.Repeat("a", 40<<10))
	res, err := http.ReadResponse(bufio.NewReader(big), nil)
	if err != nil || res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("40 KiB of headers over TLS: %v %v", res, err)
	}
	half := dial()
	fmt.Fprintf(half, "GET /healthz HTTP/1.1\r\n")
	if !closedWithin(half, 10*time.Second) || !closedWithin(ok, 10*time.Second) {
		t.Fatal("not closed: headers that stop half way, or an idle keep-alive")
	}
	waitUntil(t, 10*time.Second, "both counted", func() bool {
		return a.guard.headersLarge.Load() == 1 && a.guard.headersSlow.Load() == 1
	})
	time.Sleep(600 * time.Millisecond)
	if l, s := a.guard.headersLarge.Load(), a.guard.headersSlow.Load(); l != 1 || s != 1 {
		t.Errorf("over TLS: %d too large (want 1), %d too slow (want 1)", l, s)
	}
}
