package media

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestFollowPair: several followers of one connection's selected ICE pair
// all hear of it when a real connection selects one (Pion keeps a single
// handler: a second follower used to replace the first).
func TestFollowPair(t *testing.T) {
	e := newTestEngine(t)
	defer e.Close()
	pc, err := e.NewPeerConnection(nil) // the fast receive path follows it already
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	it := pc.SCTP().Transport().ICETransport()
	var a, b atomic.Int32
	e.followPair(it, func(p *webrtc.ICECandidatePair) { a.Add(1) })
	e.followPair(it, func(p *webrtc.ICECandidatePair) { b.Add(1) })
	client, err := clientAPI(t).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	signal(t, client, pc)
	waitFor(t, 10*time.Second, "both followers told of the pair", func() bool { return a.Load() > 0 && b.Load() > 0 })
	waitFor(t, 10*time.Second, "the fast path's follower too", func() bool { return e.fast.size() == 1 })
}
