package media

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// goroutinesIn counts the goroutines whose stack mentions pkg.
func goroutinesIn(pkg string) int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, pkg) {
			n++
		}
	}
	return n
}

// TestSubscriberPeerConnectionGoroutines (issue 12's soak: ~40 goroutines per
// participant at the peak, and the runtime never frees a goroutine's structure): a
// subscriber peer connection only sends, so it runs none of the up path's interceptor
// goroutines (NACK generator, receiver reports, TWCC feedback); a publisher one runs
// them. And OnDone spends no goroutine while the track lives.
func TestSubscriberPeerConnectionGoroutines(t *testing.T) {
	eng, err := NewEngine(Config{TCPPort: -1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	const interceptors = "github.com/pion/interceptor/pkg/"
	base := goroutinesIn(interceptors)
	sub, err := eng.NewSubscriberPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if n := goroutinesIn(interceptors) - base; n != 0 {
		t.Errorf("a subscriber peer connection runs %d interceptor goroutines, want 0", n)
	}
	pub, err := eng.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if n := goroutinesIn(interceptors) - base; n != 3 {
		t.Errorf("a publisher peer connection runs %d interceptor goroutines, want 3 (NACK, reports, TWCC)", n)
	}

	up := eng.NewUpTrack(UpTrackConfig{ID: "TR_x", StreamID: "s"})
	before := runtime.NumGoroutine()
	ran := make(chan struct{})
	up.OnDone(func() { close(ran) })
	if n := runtime.NumGoroutine() - before; n > 0 {
		t.Errorf("OnDone started %d goroutines while the track lives", n)
	}
	up.Close()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("OnDone's function did not run after the track ended")
	}
	late := make(chan struct{})
	up.OnDone(func() { close(late) })
	select {
	case <-late:
	case <-time.After(10 * time.Second):
		t.Fatal("OnDone on an ended track did not run")
	}
}
