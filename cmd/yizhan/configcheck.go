package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// cmdConfig is `yizhan config check [serve flags]`: it validates a configuration as
// serve would see it (same flags, same env), loads the certificate, looks at the data
// directory and the ports, prints the effective configuration with secrets masked, and
// fails with every problem found.
func cmdConfig(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: yizhan config check [serve flags]")
		return errors.New("unknown config subcommand")
	}
	cfg, err := parseServeFlags(args[1:], stderr)
	if err != nil {
		return err // the flag package said why
	}
	var problems []string
	if err := cfg.validate(); err != nil {
		problems = append(problems, strings.Split(err.Error(), "\n")...)
	}
	warnings := cfg.warnings()
	p, w := cfg.checkEnvironment()
	problems = append(problems, p...)
	warnings = append(warnings, w...)

	printEffective(stdout, cfg)
	for _, s := range warnings {
		fmt.Fprintln(stdout, "warning:", s)
	}
	for _, s := range problems {
		fmt.Fprintln(stderr, "problem:", s)
	}
	switch len(problems) {
	case 0:
		fmt.Fprintln(stdout, "configuration OK")
		return nil
	case 1:
		return errors.New("1 problem (above)")
	default:
		return fmt.Errorf("%d problems (above)", len(problems))
	}
}

// checkEnvironment checks what validate cannot without touching the machine: the
// certificate files, the data directory, and whether the ports are free.
func (c serveConfig) checkEnvironment() (problems, warnings []string) {
	if c.TLSCert != "" && c.TLSKey != "" {
		cert, err := loadKeyPair(c.TLSCert, c.TLSKey)
		switch {
		case err != nil:
			problems = append(problems, err.Error())
		case time.Now().After(cert.Leaf.NotAfter):
			problems = append(problems, fmt.Sprintf("TLS certificate %s expired on %s", c.TLSCert, cert.Leaf.NotAfter.UTC().Format(time.DateOnly)))
		default:
			if left := time.Until(cert.Leaf.NotAfter); left < 14*24*time.Hour {
				warnings = append(warnings, fmt.Sprintf("TLS certificate expires in %s (%s); it is reloaded when the files are replaced", left.Round(time.Hour), cert.Leaf.NotAfter.UTC().Format(time.DateOnly)))
			}
			if c.TURNTLSPort > 0 && c.TURNDomain != "" {
				if err := cert.Leaf.VerifyHostname(c.TURNDomain); err != nil {
					problems = append(problems, fmt.Sprintf("--turn-domain %s is not a name of the certificate (%s): browsers will refuse TURN over TLS", c.TURNDomain, strings.Join(cert.Leaf.DNSNames, ", ")))
				}
			}
		}
	}
	if c.Data != "" {
		if err := checkDataDir(c.Data); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if c.NodeIP != "" && net.ParseIP(c.NodeIP) != nil && !isLocalIP(net.ParseIP(c.NodeIP)) {
		warnings = append(warnings, fmt.Sprintf("--node-ip %s is not an address of this host: assuming a 1:1 NAT forwards the ICE and TURN ports to it", c.NodeIP))
	}
	for _, p := range c.listenPorts() {
		if p.port <= 0 {
			continue
		}
		addr := net.JoinHostPort(p.host, strconv.Itoa(p.port))
		var err error
		if p.proto == "udp" {
			var pc net.PacketConn
			if pc, err = net.ListenPacket("udp4", addr); err == nil {
				_ = pc.Close()
			}
		} else {
			var ln net.Listener
			if ln, err = net.Listen("tcp", addr); err == nil {
				_ = ln.Close()
			}
		}
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s %s/%s cannot be opened now (is yizhan already running?): %v", p.what, addr, p.proto, err))
		}
	}
	return problems, warnings
}

// checkDataDir: the directory exists and is writable, or can be created.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(filepath.Clean(dir))
		if pfi, perr := os.Stat(parent); perr != nil || !pfi.IsDir() {
			return fmt.Errorf("--data %s does not exist and %s is not a directory to create it in", dir, parent)
		}
		return nil // serve creates it
	case err != nil:
		return fmt.Errorf("--data %s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("--data %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, ".config-check-*")
	if err != nil {
		return fmt.Errorf("--data %s is not writable: %w", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return nil
}

func isLocalIP(ip net.IP) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// localIPv4s lists this host's IPv4 addresses: what ICE announces without --node-ip.
func localIPv4s() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// mask shows that a secret is set, and how long it is, never what it is.
func mask(s string) string {
	if s == "" {
		return "(not set)"
	}
	return fmt.Sprintf("******** (%d characters)", len(s))
}

// printEffective prints the configuration serve would run with.
func printEffective(w io.Writer, c serveConfig) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k string, format string, args ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", k, fmt.Sprintf(format, args...))
	}
	host, _, _ := net.SplitHostPort(c.HTTP)
	bind := bindIP(host)
	scheme := "http, ws"
	if c.TLSCert != "" {
		scheme = "https, wss"
	}
	line("http", "%s (%s)", c.HTTP, scheme)
	line("tls-cert", "%s", orNone(c.TLSCert))
	line("tls-key", "%s", orNone(c.TLSKey))
	line("udp-port", "%d/udp on %s (ICE, one port for all)", c.UDPPort, bind)
	if c.TCPPort > 0 {
		line("tcp-port", "%d/tcp on %s (ICE over TCP)", c.TCPPort, bind)
	} else {
		line("tcp-port", "off")
	}
	if c.NodeIP != "" {
		line("node-ip", "%s (announced in ICE candidates and as the TURN relay address)", c.NodeIP)
	} else {
		line("node-ip", "(none: ICE announces %s)", strings.Join(localIPv4s(), ", "))
	}
	line("data", "%s", c.Data)
	line("api-key", "%s", orNone(c.APIKey))
	line("api-secret", "%s", mask(c.APISecret))
	if c.turnEnabled() {
		th := c.turnHost()
		if th == "" {
			th = "<no host: set --turn-domain>"
		}
		var ports []string
		if c.TURNUDPPort > 0 {
			ports = append(ports, "turn:"+net.JoinHostPort(th, strconv.Itoa(c.TURNUDPPort))+"?transport=udp")
		}
		if c.TURNTLSPort > 0 {
			ports = append(ports, "turns:"+net.JoinHostPort(th, strconv.Itoa(c.TURNTLSPort))+"?transport=tcp")
		}
		line("turn", "%s", strings.Join(ports, " "))
		line("turn-realm", "%s", c.turnRealm())
		line("turn-credentials", "time-limited (expiry:identity, HMAC-SHA1), valid %s, key derived from --api-secret", c.TURNTTL)
	} else {
		line("turn", "embedded TURN off")
	}
	if len(c.TURNExternal) > 0 {
		line("turn-external", "%s", strings.Join(c.TURNExternal, " "))
		switch {
		case c.TURNExternalSecret != "":
			line("turn-external-secret", "%s (time-limited credentials, valid %s)", mask(c.TURNExternalSecret), c.TURNTTL)
		case c.TURNExternalUsername != "":
			line("turn-external-username", "%s", c.TURNExternalUsername)
			line("turn-external-credential", "%s", mask(c.TURNExternalCredential))
		}
	}
	switch {
	case !c.Metrics:
		line("metrics", "off")
	case c.MetricsAddr != "":
		line("metrics", "http://%s/metrics", c.MetricsAddr)
	default:
		line("metrics", "/metrics on the HTTP port")
	}
	format := "text"
	if c.LogJSON {
		format = "json"
	}
	line("log", "%s, level %s", format, c.LogLevel)
	line("dev", "%v", c.Dev)
	line("public-url", "%s", orNone(c.PublicURL))
	line("trusted-proxy", "%s", orNone(strings.Join(c.TrustedProxies, ", ")))
	_ = tw.Flush()
	fmt.Fprintln(w, "bounds (counted in yizhan_limit_hits_total{limit=...} when hit):")
	for _, b := range c.bounds() {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", b.Name, b.Value, b.What)
	}
	_ = tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
