package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
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
	fs.BoolVar(&c.LogJSON, "log-json", envOr("YIZHAN_LOG_JSON", "") != "", "log JSON lines (env YIZHAN_LOG_JSON)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Dev {
		if c.APIKey == "" {
			c.APIKey = devAPIKey
		}
		if c.APISecret == "" {
			c.APISecret = devAPISecret
		}
	}
	return c, c.validate()
}

func (c serveConfig) validate() error {
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
	return nil
}
