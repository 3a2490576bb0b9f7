package bench

import (
	"context"
	"testing"
	"time"
)

// TestLectureLeanViewers runs lecture1x8 against a real server: the lean viewers
// (lktest.Viewer) join through the public lecture API, each receives the speaker's low
// layer and sound, and the run reports joins, loss and signal messages per join.
func TestLectureLeanViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and clients")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin, err := Build(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartServer(ctx, ServerConfig{Binary: bin, CPU: -1, Dev: true,
		Args: []string{"--lecture-hls=false"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	sc, ok := lookup("lecture1x8")
	if !ok {
		t.Fatal("no lecture1x8")
	}
	res, err := Run(ctx, srv, sc, RunConfig{Duration: 2 * time.Second, Warmup: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	// 8 viewers x (low layer + Opus) is a few hundred packets a second.
	if res.ForwardedPPS < 200 || res.Loss > 0.05 || res.SeqLoss > 0.05 {
		t.Errorf("forwarded %v pps of %v expected, loss %v, seq loss %v", res.ForwardedPPS, res.ExpectedPPS, res.Loss, res.SeqLoss)
	}
	if res.JoinSamples != 8 || res.JoinMissing != 0 {
		t.Errorf("first frames: %d samples, %d missing", res.JoinSamples, res.JoinMissing)
	}
	if res.SignalPerJoin < 1 || res.LatencySamples == 0 || res.ServerCPUUsPerPacket <= 0 || res.StormS <= 0 {
		t.Errorf("missing measurements: %+v", res)
	}
}
