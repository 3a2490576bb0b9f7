package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"yizhan/signaling"
)

// Flags of issue 12 (hardening): where clients reach us, which proxies may tell us who
// the client is, dev mode's reach, and how metrics are kept private.

// defaultMetricsAddr: metrics and pprof on their own loopback listener unless told.
const defaultMetricsAddr = "127.0.0.1:6789"

type hardeningConfig struct {
	PublicURL       string   // https://host[:port] clients use; links, websocket URL, Origin, Secure cookies
	TrustedProxies  []string // IPs/CIDRs whose X-Forwarded-For names the client
	DevPublic       bool     // let --dev listen on a non-loopback address
	MetricsToken    string   // with --metrics-addr "": /metrics on the HTTP port behind this bearer token
	MaxConnsPerAddr int      // open TCP connections per client address
	MaxWSPerAddr    int      // open signal websockets per client address
}

func hardeningFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.PublicURL, "public-url", envOr("YIZHAN_PUBLIC_URL", ""), "URL clients reach the server at, e.g. https://tiaojie.example.cn; invitation links, the websocket URL, the accepted Origin and Secure cookies derive from it, never from a request's Host (env YIZHAN_PUBLIC_URL); default the --http address")
	if v, ok := os.LookupEnv("YIZHAN_TRUSTED_PROXY"); ok {
		c.TrustedProxies = splitList(v)
	}
	fs.Var(listFlag{to: &c.TrustedProxies}, "trusted-proxy", "IP address or CIDR of a reverse proxy whose X-Forwarded-For names the client (rate limits, connection caps); repeatable or comma list (env YIZHAN_TRUSTED_PROXY)")
	fs.BoolVar(&c.DevPublic, "dev-public", false, "let --dev listen on a non-loopback address (dev mode mints tokens without login and prints its key)")
	fs.StringVar(&c.MetricsToken, "metrics-token", envOr("YIZHAN_METRICS_TOKEN", ""), "with --metrics-addr \"\": serve /metrics on the HTTP port to requests with Authorization: Bearer <token> (env YIZHAN_METRICS_TOKEN)")
	fs.IntVar(&c.MaxConnsPerAddr, "max-conns-per-addr", envIntOr("YIZHAN_MAX_CONNS_PER_ADDR", 128), "open HTTP/websocket connections one client address may hold; trusted proxies exempt (env YIZHAN_MAX_CONNS_PER_ADDR)")
	fs.IntVar(&c.MaxWSPerAddr, "max-websockets-per-addr", envIntOr("YIZHAN_MAX_WEBSOCKETS_PER_ADDR", signaling.DefaultLimits().WebsocketsPerAddr), "signal websockets one client address may hold open; raise it where many viewers share a carrier-NAT address (env YIZHAN_MAX_WEBSOCKETS_PER_ADDR)")
}

// metricsAddrDefault settles --metrics-addr when it was not given: loopback port 6789,
// or an ephemeral loopback port when --http has one (tests, several servers at once).
func metricsAddrDefault(fs *flag.FlagSet, c *serveConfig) {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "metrics-addr" })
	if _, ok := os.LookupEnv("YIZHAN_METRICS_ADDR"); ok || given {
		return
	}
	c.MetricsAddr = defaultMetricsAddr
	if _, port, err := net.SplitHostPort(c.HTTP); err == nil && port == "0" {
		c.MetricsAddr = "127.0.0.1:0"
	}
}

func (c serveConfig) validateHardening() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	host, _, _ := net.SplitHostPort(c.HTTP)
	if c.Dev && !isLoopbackHost(host) && !c.DevPublic {
		bad("--dev on %s: dev mode mints tokens without login and prints its API key; listen on 127.0.0.1 or add --dev-public", c.HTTP)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil:
			bad("--public-url %q: %v", c.PublicURL, err)
		case u.Scheme != "http" && u.Scheme != "https":
			bad("--public-url %q: want http:// or https://", c.PublicURL)
		case u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "":
			bad("--public-url %q: want scheme://host[:port] only", c.PublicURL)
		}
	} else if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		bad("--http %s listens on every interface: set --public-url to the address clients use (links and cookies are never taken from a request's Host)", c.HTTP)
	}
	if _, err := parseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if c.Metrics && c.MetricsAddr == "" && c.MetricsToken == "" {
		bad("--metrics-addr \"\" would put /metrics on the public port: give it a listener (default %s) or a --metrics-token", defaultMetricsAddr)
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		bad("--metrics-token must be at least 16 characters")
	}
	if c.MaxConnsPerAddr < 1 {
		bad("--max-conns-per-addr must be at least 1")
	}
	if c.MaxWSPerAddr < 1 {
		bad("--max-websockets-per-addr must be at least 1")
	}
	return errors.Join(errs...)
}

// publicURLFor is the URL clients reach us at: --public-url, else the listening address.
func (c serveConfig) publicURLFor(listen net.Addr, scheme string) string {
	if c.PublicURL != "" {
		return strings.TrimSuffix(c.PublicURL, "/")
	}
	return scheme + "://" + listen.String()
}
