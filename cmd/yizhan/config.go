package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// serveConfig is everything `yizhan serve` is told, from flags with env fallbacks.
type serveConfig struct {
	HTTP      string // listen address for HTTP and websockets
	UDPPort   int    // ICE over one UDP port
	TCPPort   int    // ICE over TCP (0 = off)
	Data      string // SQLite file, case files, signing key
	APIKey    string
	APISecret string
	NodeIP    string // address put into ICE candidates
	Dev       bool   // fixed dev key, demo data, printed link
	LogJSON   bool
	LogLevel  slog.Level

	// Documents (issue 10, documents.go): the sealed PDFs' font, the SMS gateway.
	PDFFont, SMSWebhook string

	// TLS on the HTTP port (HTTPS and WSS), reloaded when the files change. Also the
	// certificate of TURN over TLS.
	TLSCert string
	TLSKey  string

	// Embedded TURN (0 = off). Credentials are derived from the API secret.
	TURNUDPPort int
	TURNTLSPort int
	TURNDomain  string        // host name in the turn:/turns: URLs handed to clients (and the TLS name)
	TURNRealm   string        // TURN realm; default the domain
	TURNTTL     time.Duration // lifetime of the credentials handed out at join

	// External TURN/STUN servers, handed to clients beside or instead of the embedded one.
	// Either a shared secret (TURN REST scheme, like coturn's static-auth-secret) or a
	// static username and credential.
	TURNExternal           []string
	TURNExternalSecret     string
	TURNExternalUsername   string
	TURNExternalCredential string

	Metrics     bool   // serve Prometheus metrics
	MetricsAddr string // separate listener for /metrics (and pprof when loopback); "" = on the HTTP port behind MetricsToken

	hardeningConfig // issue 12: public URL, trusted proxies, dev reach, metrics token, caps

	LectureMaxWebRTC int    // lecture viewers over WebRTC; the next get HLS (issue 15)
	LectureHLS       bool   // publish lectures as HLS (ffmpeg) and keep their archive
	LectureHLSBase   string // where viewers fetch /live/ from (a cache or CDN); "" = here
}

// Dev credentials: fixed and printed so that a newcomer can mint tokens at once.
// They are refused outside --dev.
const (
	devAPIKey    = "devkey"
	devAPISecret = "devsecret-devsecret-devsecret-0123456789"
)

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envIntOr(name string, def int) int {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}

func parseServeConfig(args []string, stderr io.Writer) (serveConfig, error) {
	c, err := parseServeFlags(args, stderr)
	if err != nil {
		return c, err
	}
	return c, c.validate()
}

// parseServeFlags reads the flags and env of serve (and config check), unvalidated.
func parseServeFlags(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.HTTP, "http", envOr("YIZHAN_HTTP", "127.0.0.1:7880"), "HTTP/websocket listen address (env YIZHAN_HTTP)")
	fs.IntVar(&c.UDPPort, "udp-port", envIntOr("YIZHAN_UDP_PORT", 7882), "UDP port for all ICE traffic (env YIZHAN_UDP_PORT)")
	fs.IntVar(&c.TCPPort, "tcp-port", envIntOr("YIZHAN_TCP_PORT", 7881), "TCP port for ICE over TCP, 0 turns it off (env YIZHAN_TCP_PORT)")
	fs.StringVar(&c.Data, "data", envOr("YIZHAN_DATA", "./data"), "data directory: database, case files, signing key (env YIZHAN_DATA)")
	fs.StringVar(&c.APIKey, "api-key", envOr("YIZHAN_API_KEY", ""), "API key for LiveKit tokens (env YIZHAN_API_KEY)")
	fs.StringVar(&c.APISecret, "api-secret", envOr("YIZHAN_API_SECRET", ""), "API secret for LiveKit tokens (env YIZHAN_API_SECRET)")
	fs.StringVar(&c.NodeIP, "node-ip", envOr("YIZHAN_NODE_IP", ""), "IP address announced in ICE candidates (env YIZHAN_NODE_IP)")
	fs.BoolVar(&c.Dev, "dev", false, "development mode: fixed printed key, demo data, a link to open")
	fs.BoolVar(&c.LogJSON, "log-json", envBoolOr("YIZHAN_LOG_JSON", false), "log JSON lines (env YIZHAN_LOG_JSON)")
	fs.BoolVar(&c.LectureHLS, "lecture-hls", envBoolOr("YIZHAN_LECTURE_HLS", true), "publish lectures as HLS at /live/ with ffmpeg, and keep them as an archive (env YIZHAN_LECTURE_HLS)")
	fs.StringVar(&c.LectureHLSBase, "lecture-hls-base", envOr("YIZHAN_LECTURE_HLS_BASE", ""), "public base URL of the HTTP cache or CDN in front of /live/, e.g. https://live.example.cn; empty: this server (env YIZHAN_LECTURE_HLS_BASE)")
	fs.IntVar(&c.LectureMaxWebRTC, "lecture-max-webrtc", envIntOr("YIZHAN_LECTURE_MAX_WEBRTC", 1000), "viewers of a lecture over WebRTC; the next watch the HLS stream (env YIZHAN_LECTURE_MAX_WEBRTC)")
	c.LogLevel = slog.LevelInfo
	if v, ok := os.LookupEnv("YIZHAN_LOG_LEVEL"); ok {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("YIZHAN_LOG_LEVEL: %w", err)
		}
	}
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env YIZHAN_LOG_LEVEL)")
	deployFlags(fs, &c)
	hardeningFlags(fs, &c)
	documentFlags(fs, &c) // documents.go
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	metricsAddrDefault(fs, &c)
	if c.Dev {
		if c.APIKey == "" {
			c.APIKey = devAPIKey
		}
		if c.APISecret == "" {
			c.APISecret = devAPISecret
		}
	}
	return c, nil
}

func (c serveConfig) validate() error {
	if err := c.validateDocuments(); err != nil {
		return err
	}
	if c.APIKey == "" || c.APISecret == "" {
		return fmt.Errorf("--api-key and --api-secret are required (or run with --dev)")
	}
	if !c.Dev && (c.APIKey == devAPIKey || c.APISecret == devAPISecret) {
		return fmt.Errorf("the dev API key/secret may only be used with --dev")
	}
	if len(c.APISecret) < 32 {
		return fmt.Errorf("--api-secret must be at least 32 characters")
	}
	if c.UDPPort < 0 || c.UDPPort > 65535 || c.TCPPort < 0 || c.TCPPort > 65535 {
		return fmt.Errorf("ports must be between 0 and 65535")
	}
	if c.Data == "" {
		return fmt.Errorf("--data must name a directory")
	}
	return errors.Join(c.validateDeploy(), c.validateHardening())
}

// envBoolOr reads a boolean env variable ("1", "true", "0", "false", ...); anything
// else non-empty counts as true, as YIZHAN_LOG_JSON always did.
func envBoolOr(name string, def bool) bool {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return def
	}
	if b, err := strconv.ParseBool(v); err == nil {
		return b
	}
	return true
}

func envDurationOr(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// listFlag is a repeatable flag that also takes comma-separated lists.
type listFlag struct{ to *[]string }

func (l listFlag) String() string {
	if l.to == nil {
		return ""
	}
	return strings.Join(*l.to, ",")
}

func (l listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l.to = append(*l.to, s)
		}
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	_ = listFlag{to: &out}.Set(v)
	return out
}

// deployFlags adds the flags of issue 6: TLS, TURN, metrics.
func deployFlags(fs *flag.FlagSet, c *serveConfig) {
	fs.StringVar(&c.TLSCert, "tls-cert", envOr("YIZHAN_TLS_CERT", ""), "TLS certificate chain (PEM) for HTTPS/WSS and TURN over TLS; reloaded when the file changes (env YIZHAN_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", envOr("YIZHAN_TLS_KEY", ""), "TLS private key (PEM) (env YIZHAN_TLS_KEY)")
	fs.IntVar(&c.TURNUDPPort, "turn-udp-port", envIntOr("YIZHAN_TURN_UDP_PORT", 0), "embedded TURN over UDP port, e.g. 3478; 0 = off (env YIZHAN_TURN_UDP_PORT)")
	fs.IntVar(&c.TURNTLSPort, "turn-tls-port", envIntOr("YIZHAN_TURN_TLS_PORT", 0), "embedded TURN over TLS port, e.g. 5349 or 443; needs --tls-cert; 0 = off (env YIZHAN_TURN_TLS_PORT)")
	fs.StringVar(&c.TURNDomain, "turn-domain", envOr("YIZHAN_TURN_DOMAIN", ""), "host name clients use to reach the embedded TURN (must match the certificate for TURN over TLS); default --node-ip (env YIZHAN_TURN_DOMAIN)")
	fs.StringVar(&c.TURNRealm, "turn-realm", envOr("YIZHAN_TURN_REALM", ""), "TURN realm; default the TURN domain (env YIZHAN_TURN_REALM)")
	fs.DurationVar(&c.TURNTTL, "turn-ttl", envDurationOr("YIZHAN_TURN_TTL", 12*time.Hour), "lifetime of the TURN credentials handed out at join; longer than the longest session (env YIZHAN_TURN_TTL)")
	if v, ok := os.LookupEnv("YIZHAN_TURN_EXTERNAL"); ok {
		c.TURNExternal = splitList(v)
	}
	fs.Var(listFlag{to: &c.TURNExternal}, "turn-external", "external STUN/TURN server URL (turn:host:3478?transport=udp, turns:host:5349); repeatable or comma list (env YIZHAN_TURN_EXTERNAL)")
	fs.StringVar(&c.TURNExternalSecret, "turn-external-secret", envOr("YIZHAN_TURN_EXTERNAL_SECRET", ""), "shared secret of the external TURN servers (time-limited credentials, coturn use-auth-secret) (env YIZHAN_TURN_EXTERNAL_SECRET)")
	fs.StringVar(&c.TURNExternalUsername, "turn-external-username", envOr("YIZHAN_TURN_EXTERNAL_USERNAME", ""), "static username for the external TURN servers (env YIZHAN_TURN_EXTERNAL_USERNAME)")
	fs.StringVar(&c.TURNExternalCredential, "turn-external-credential", envOr("YIZHAN_TURN_EXTERNAL_CREDENTIAL", ""), "static credential for the external TURN servers (env YIZHAN_TURN_EXTERNAL_CREDENTIAL)")
	fs.BoolVar(&c.Metrics, "metrics", envBoolOr("YIZHAN_METRICS", true), "serve Prometheus metrics at /metrics (env YIZHAN_METRICS)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", envOr("YIZHAN_METRICS_ADDR", ""), "listener for /metrics and, when loopback, /debug/pprof; default "+defaultMetricsAddr+"; \"\" puts /metrics on the HTTP port, which needs --metrics-token (env YIZHAN_METRICS_ADDR)")
}

// turnEnabled is true when the embedded TURN server runs.
func (c serveConfig) turnEnabled() bool { return c.TURNUDPPort != 0 || c.TURNTLSPort != 0 } // -1: ephemeral (tests)

// turnHost is the host put into the embedded TURN's URLs: the domain, else the node IP,
// else the HTTP host when it is a concrete address.
func (c serveConfig) turnHost() string {
	if c.TURNDomain != "" {
		return c.TURNDomain
	}
	if c.NodeIP != "" {
		return c.NodeIP
	}
	if host, _, err := net.SplitHostPort(c.HTTP); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			return host
		}
		if ip := net.ParseIP(host); ip == nil && host != "" {
			return host // a name
		}
	}
	return ""
}

func (c serveConfig) turnRealm() string {
	if c.TURNRealm != "" {
		return c.TURNRealm
	}
	if h := c.turnHost(); h != "" {
		return h
	}
	return "yizhan"
}

// validateDeploy checks the TLS, TURN, ICE and metrics settings without touching files
// (config check also loads the certificate).
func (c serveConfig) validateDeploy() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("--tls-cert and --tls-key go together")
	}
	if c.NodeIP != "" {
		ip := net.ParseIP(c.NodeIP)
		switch {
		case ip == nil:
			bad("--node-ip %q is not an IP address", c.NodeIP)
		case ip.To4() == nil:
			bad("--node-ip %q: media listens on IPv4 only; give the IPv4 address", c.NodeIP)
		case ip.IsUnspecified() || ip.IsMulticast():
			bad("--node-ip %q cannot be announced to clients", c.NodeIP)
		}
	}
	for _, p := range []struct {
		name string
		v    int
	}{{"--turn-udp-port", c.TURNUDPPort}, {"--turn-tls-port", c.TURNTLSPort}} {
		if p.v < 0 || p.v > 65535 {
			bad("%s %d: ports must be between 0 and 65535", p.name, p.v)
		}
	}
	if c.TURNTLSPort > 0 && c.TLSCert == "" {
		bad("--turn-tls-port needs --tls-cert and --tls-key")
	}
	if c.turnEnabled() {
		if c.turnHost() == "" {
			bad("embedded TURN needs an address clients can reach: set --turn-domain or --node-ip")
		}
		if c.TURNTTL < time.Minute {
			bad("--turn-ttl %s is too short: credentials must outlive a session", c.TURNTTL)
		}
	}
	if err := c.validateExternal(); err != nil {
		errs = append(errs, err)
	}
	if c.MetricsAddr != "" {
		if !c.Metrics {
			bad("--metrics-addr given with --metrics=false")
		}
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("--metrics-addr %q: %v", c.MetricsAddr, err)
		}
	}
	if err := c.portClash(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c serveConfig) validateExternal() error {
	if len(c.TURNExternal) == 0 {
		if c.TURNExternalSecret != "" || c.TURNExternalUsername != "" || c.TURNExternalCredential != "" {
			return errors.New("--turn-external-secret/--turn-external-username given without --turn-external")
		}
		return nil
	}
	needsAuth := false
	for _, u := range c.TURNExternal {
		scheme, _, ok := strings.Cut(u, ":")
		switch {
		case !ok:
			return fmt.Errorf("--turn-external %q: want stun:, turn: or turns: URL", u)
		case scheme == "turn" || scheme == "turns":
			needsAuth = true
		case scheme == "stun" || scheme == "stuns":
		default:
			return fmt.Errorf("--turn-external %q: want stun:, turn: or turns: URL", u)
		}
		if _, err := url.Parse(u); err != nil {
			return fmt.Errorf("--turn-external %q: %w", u, err)
		}
	}
	static := c.TURNExternalUsername != "" || c.TURNExternalCredential != ""
	switch {
	case c.TURNExternalSecret != "" && static:
		return errors.New("--turn-external-secret and a static --turn-external-username/--turn-external-credential exclude each other")
	case static && (c.TURNExternalUsername == "" || c.TURNExternalCredential == ""):
		return errors.New("--turn-external-username and --turn-external-credential go together")
	case needsAuth && c.TURNExternalSecret == "" && !static:
		return errors.New("--turn-external TURN servers need --turn-external-secret or --turn-external-username/--turn-external-credential")
	}
	return nil
}

// listenPort is one socket serve opens, for the clash check.
type listenPort struct {
	what  string
	proto string // tcp or udp
	host  string
	port  int
}

// listenPorts lists the fixed ports serve opens (0 = ephemeral or off: never a clash).
func (c serveConfig) listenPorts() []listenPort {
	host, portStr, _ := net.SplitHostPort(c.HTTP)
	bind := bindIP(host)
	httpPort, _ := strconv.Atoi(portStr)
	ps := []listenPort{
		{"--http", "tcp", bind, httpPort},
		{"--udp-port (ICE UDP)", "udp", bind, c.UDPPort},
		{"--tcp-port (ICE TCP)", "tcp", bind, c.TCPPort},
		{"--turn-udp-port", "udp", bind, c.TURNUDPPort},
		{"--turn-tls-port", "tcp", bind, c.TURNTLSPort},
	}
	if c.Metrics && c.MetricsAddr != "" {
		if h, p, err := net.SplitHostPort(c.MetricsAddr); err == nil {
			n, _ := strconv.Atoi(p)
			ps = append(ps, listenPort{"--metrics-addr", "tcp", bindIP(h), n})
		}
	}
	return ps
}

func (c serveConfig) portClash() error {
	ps := c.listenPorts()
	for i, a := range ps {
		for _, b := range ps[i+1:] {
			if a.port == 0 || a.proto != b.proto || a.port != b.port {
				continue
			}
			if a.host == b.host || a.host == "0.0.0.0" || b.host == "0.0.0.0" {
				return fmt.Errorf("port clash: %s and %s both want %s port %d", a.what, b.what, a.proto, a.port)
			}
		}
	}
	return nil
}

// warnings are what an operator should know but that does not stop the server.
func (c serveConfig) warnings() []string {
	var w []string
	host, _, _ := net.SplitHostPort(c.HTTP)
	if c.TLSCert == "" && !isLoopbackHost(host) {
		w = append(w, fmt.Sprintf("HTTP on %s without TLS: browsers open cameras and microphones only on https:// pages (or localhost); set --tls-cert/--tls-key or put a TLS proxy in front", c.HTTP))
	}
	if c.NodeIP == "" && !isLoopbackHost(host) {
		w = append(w, "no --node-ip: clients get this host's interface addresses as ICE candidates; behind NAT set --node-ip to the public address")
	}
	if c.turnEnabled() && c.TURNTLSPort == 0 {
		w = append(w, "embedded TURN without --turn-tls-port: clients behind firewalls that allow only TLS/443 cannot relay")
	}
	if c.TURNTLSPort > 0 && c.TURNDomain == "" {
		w = append(w, "TURN over TLS without --turn-domain: clients check the certificate against the URL host, which is then an IP address")
	}
	if c.TCPPort == 0 {
		w = append(w, "ICE over TCP is off (--tcp-port 0): clients whose UDP is blocked need TURN")
	}
	return w
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
