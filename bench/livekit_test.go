package bench

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLiveKitConfig(t *testing.T) {
	conf := string(liveKitConfig(7880, 7882, "k", "s-0123456789"))
	for _, want := range []string{"port: 7880\n", "  udp_port: 7882\n", "  tcp_port: 0\n", "  - 127.0.0.1\n",
		"  k: s-0123456789\n", "  level: warn\n", "  use_external_ip: false\n", "  enable_loopback_candidate: true\n"} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "\t") {
		t.Error("tab in YAML")
	}
	if _, err := StartServer(context.Background(), ServerConfig{Binary: "/nonexistent", LiveKit: true, Dev: true}); err == nil {
		t.Error("a livekit-server in --dev mode started")
	}
}

// TestLiveKitSmoke runs the tiny scenario against a livekit-server built by hand
// (YIZHAN_LIVEKIT_SERVER=/path/to/livekit-server); the repository never fetches one.
func TestLiveKitSmoke(t *testing.T) {
	bin := os.Getenv("YIZHAN_LIVEKIT_SERVER")
	if bin == "" {
		t.Skip("YIZHAN_LIVEKIT_SERVER not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := StartServer(ctx, ServerConfig{Binary: bin, LiveKit: true, CPU: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	sc, _ := lookup("tiny")
	res, err := Run(ctx, srv, sc, RunConfig{Duration: 2 * time.Second, Warmup: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.ForwardedPPS < 100 || res.Loss > 0.05 || res.JoinSamples != 2 {
		t.Errorf("livekit-server run: %+v", res)
	}
}
