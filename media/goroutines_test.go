package media

import (
	"github.com/pion/webrtc/v4"
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
// goroutines (NACK generator, receiver reports, TWCC feedback); since issue 14 a
// publisher one runs none either. And OnDone spends no goroutine while the track lives.
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
	if n := goroutinesIn(interceptors) - base; n != 0 {
		t.Errorf("a publisher peer connection runs %d interceptor goroutines, want 0 (its up tracks' layers NACK, report and send TWCC feedback themselves, upfeedback.go)", n)
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

// TestDownTrackCloseBeforeConnected (found by issue 12's soak): a subscriber that
// leaves before its subscriber connection is up. Pion's SetReadDeadline on a sender
// waits for SRTP (or for the sender to stop), so a Close that called it directly
// blocked for good — and with it the participant's leave, which closes the connection
// only afterwards: both peer connections, ~40 goroutines, stayed for the life of the
// process. Close returns at once; closing the connection afterwards ends everything.
func TestDownTrackCloseBeforeConnected(t *testing.T) {
	eng, err := NewEngine(Config{TCPPort: -1, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	defer checkGoroutines(t)()
	up := eng.NewUpTrack(UpTrackConfig{ID: "TR_a", StreamID: "PA_p|TR_a", Kind: webrtc.RTPCodecTypeAudio})
	up.codec = webrtc.RTPCodecParameters{PayloadType: ptOpus, RTPCodecCapability: opusCap()} // as AddLayer would
	pc, err := eng.NewSubscriberPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	dt := up.NewDownTrack("TR_a", "PA_p|TR_a")
	sender, err := pc.AddTrack(dt)
	if err != nil {
		t.Fatal(err)
	}
	dt.Attach(sender)
	// negotiated, but the subscriber is gone before ICE could connect: SRTP never starts
	client, err := webrtc.NewAPI().NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-g
	if err := client.SetRemoteDescription(*pc.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := client.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	_ = client.Close()
	if err := pc.SetRemoteDescription(answer); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the sender's RTCP loop is waiting for SRTP now
	closed := make(chan struct{})
	go func() { dt.Close(); close(closed) }() // ends with Close
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("DownTrack.Close waits for a subscriber connection that never came up")
	}
	_ = pc.Close()
	up.Close()
	<-closed
}
