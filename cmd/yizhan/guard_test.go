package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// startLimited is startApp with the HTTP bounds changed before serving.
func startLimited(t *testing.T, cfg serveConfig, lim httpLimits) *runningApp {
	t.Helper()
	a, err := newApp(cfg, testLog())
	if err != nil {
		t.Fatal(err)
	}
	a.limits = lim.withDefaults()
	ln, err := a.listen()
	if err != nil {
		a.shutdown()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln, io.Discard) }() // ends when the test cancels ctx
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not return")
		}
	})
	return &runningApp{app: a, addr: ln.Addr().String()}
}

// closedWithin reports whether the server closes c within d (reads EOF or reset).
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		return !(errorAs(err, &ne) && ne.Timeout())
	}
}

func errorAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// TestSlowAndIdleConnectionsCut (row 2): a body trickling in is cut, an idle keep-alive
// connection is closed, and one address cannot hold more than its share of connections.
// Before: only headers had a timeout, and there was no cap.
func TestSlowAndIdleConnectionsCut(t *testing.T) {
	a := startLimited(t, testConfig(t), httpLimits{BodyGrace: 300 * time.Millisecond, BodyMinRate: 100, IdleTimeout: 300 * time.Millisecond, MaxConnsPerAddr: 4})

	// A POST whose body comes one byte every 200 ms (5 bytes/s, the bound is 100).
	slow, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
	cut := make(chan bool, 1)
	go func() { cut <- closedWithin(slow, 20*time.Second) }()
	for i := 0; i < 100; i++ {
		if _, err := slow.Write([]byte{' '}); err != nil {
			break // the server is gone: good
		}
		select {
		case ok := <-cut:
			if !ok {
				t.Fatal("slow body still open after 20 s")
			}
			goto idle
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !<-cut {
		t.Fatal("slow body not cut")
	}
idle:
	if a.guard.slowBodies.Load() == 0 {
		t.Error("slow body not counted")
	}

	// An idle keep-alive connection after one request.
	idle, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	fmt.Fprintf(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !closedWithin(idle, 20*time.Second) {
		t.Fatal("idle keep-alive connection still open after 20 s")
	}

	// The cap: four connections from 127.0.0.1 are served, the fifth is closed at once.
	var held []net.Conn
	for i := 0; i < 4; i++ {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	waitUntil(t, 10*time.Second, "four connections accepted", func() bool { return a.capListener().open(lo) == 4 })
	extra, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if !closedWithin(extra, 10*time.Second) {
		t.Fatal("fifth connection from one address not closed")
	}
	if a.guard.connsRefused.Load() == 0 {
		t.Error("refused connection not counted")
	}
	for _, c := range held {
		c.Close()
	}
	waitUntil(t, 10*time.Second, "the address's connections released", func() bool { return a.capListener().open(lo) == 0 })
	c, err := net.DialTimeout("tcp", a.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if res, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || res.StatusCode != 200 {
		t.Fatalf("after the others closed: %v %v", res, err)
	}
}

// TestTrustedProxyClientAddr (row 3): X-Forwarded-For names the client only when the
// request comes from a --trusted-proxy; the right-most untrusted hop is the client.
func TestTrustedProxyClientAddr(t *testing.T) {
	tp, err := parseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	h := tp.clientAddr(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.RemoteAddr + " " + r.Header.Get("X-Forwarded-For")
	}))
	for _, tc := range []struct{ peer, xff, want string }{
		{"203.0.113.5:4000", "1.2.3.4", "203.0.113.5:4000 "}, // not a proxy: header dropped
		{"192.0.2.7:4000", "1.2.3.4", "1.2.3.4:0 1.2.3.4"},
		{"10.1.1.1:4000", "6.6.6.6, 1.2.3.4, 10.2.2.2", "1.2.3.4:0 6.6.6.6, 1.2.3.4, 10.2.2.2"}, // the client cannot push its own entry past the proxies
		{"10.1.1.1:4000", "", "10.1.1.1:4000 "},
		{"10.1.1.1:4000", "garbage", "10.1.1.1:4000 garbage"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != tc.want {
			t.Errorf("peer %s XFF %q: %q, want %q", tc.peer, tc.xff, got, tc.want)
		}
	}
	if _, err := parseTrustedProxies([]string{"not-an-ip"}); err == nil {
		t.Error("bad --trusted-proxy accepted")
	}
}

// TestDevRefusesPublicAddress (row 10): --dev on a non-loopback address is a problem
// unless --dev-public. Before: "configuration OK".
func TestDevRefusesPublicAddress(t *testing.T) {
	check := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := cmdConfig(append([]string{"check", "--data", t.TempDir(), "--udp-port", "0", "--tcp-port", "0"}, args...), nil, &out, &errb)
		return out.String() + errb.String(), err
	}
	out, err := check("--dev", "--http", "0.0.0.0:0")
	if err == nil || !strings.Contains(out, "--dev-public") {
		t.Errorf("--dev on 0.0.0.0: %v\n%s", err, out)
	}
	out, err = check("--dev", "--http", "0.0.0.0:0", "--dev-public", "--public-url", "http://192.0.2.1:7880")
	if err != nil || !strings.Contains(out, "configuration OK") {
		t.Errorf("--dev --dev-public: %v\n%s", err, out)
	}
	if out, err := check("--dev", "--http", "127.0.0.1:0"); err != nil {
		t.Errorf("--dev on loopback: %v\n%s", err, out)
	}
	out, err = check("--api-key", "k", "--api-secret", strings.Repeat("s", 32), "--http", "0.0.0.0:0")
	if err == nil || !strings.Contains(out, "--public-url") {
		t.Errorf("every interface without --public-url: %v\n%s", err, out)
	}
}

// TestConfigCheckNamesEveryCountedBound: every bound counted in /metrics is named by
// config check.
func TestConfigCheckNamesEveryCountedBound(t *testing.T) {
	var out, errb bytes.Buffer
	if err := cmdConfig([]string{"check", "--dev", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0"}, nil, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	a := startApp(t, testConfig(t))
	m := scrapeMetrics(t, "http://"+a.deploy().metln.Addr().String()+"/metrics")
	n := 0
	for k := range m {
		name, ok := strings.CutPrefix(k, "yizhan_limit_hits_total{limit=")
		if !ok {
			continue
		}
		n++
		name = strings.TrimSuffix(name, "}")
		if !strings.Contains(out.String(), "\n  "+name+" ") {
			t.Errorf("bound %s counted in /metrics but not named by config check", name)
		}
	}
	if n < 10 {
		t.Errorf("only %d bounds counted in /metrics", n)
	}
}
