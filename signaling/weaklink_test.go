package signaling_test

import (
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"yizhan/internal/lktest"
)

// remotePub finds the subscriber's publication of a track.
func remotePub(t *testing.T, c *lktest.Client, from, sid string) *lksdk.RemoteTrackPublication {
	t.Helper()
	var pub *lksdk.RemoteTrackPublication
	waitFor(t, "the publication of "+sid, func() bool {
		rp := c.Room.GetParticipantByIdentity(from)
		if rp == nil {
			return false
		}
		for _, tp := range rp.TrackPublications() {
			if p, ok := tp.(*lksdk.RemoteTrackPublication); ok && p.SID() == sid {
				pub = p
				return true
			}
		}
		return false
	})
	return pub
}

// kbps measures a received track's rate over one second.
func kbps(r *lktest.Received) float64 {
	b0, t0 := r.Bytes.Load(), time.Now()
	time.Sleep(time.Second)
	return float64(r.Bytes.Load()-b0) * 8 / time.Since(t0).Seconds() / 1000
}

// TestAdaptiveStream: the subscriber's track settings pick the layer: a small
// tile the low one, a big tile the high one, a disabled track nothing.
func TestAdaptiveStream(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "adapt", "alice", true)
	bob := ts.connect(t, "adapt", "bob", false)
	sp, err := alice.PublishSimulcastVP8("camera", [3]int{150, 400, 1200})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob receives the track", func() bool { r := bob.Tracks()[sp.SID]; return r != nil && r.Packets.Load() > 30 })
	r := bob.Tracks()[sp.SID]
	waitFor(t, "bob on the high layer", func() bool { return kbps(r) > 800 })
	pub := remotePub(t, bob, "alice", sp.SID)
	waitFor(t, "the metrics count one subscriber on the high layer", func() bool {
		l := ts.sig.Stats().Links
		return l.Layers[3] == 1 && len(l.Estimates) == 1 && l.Quality["excellent"] == 2
	})

	pub.SetVideoDimensions(160, 90)
	waitFor(t, "a 160x90 tile on the low layer", func() bool { k := kbps(r); return k > 80 && k < 250 })
	pub.SetVideoDimensions(640, 360)
	waitFor(t, "a 640x360 tile on the medium layer", func() bool { k := kbps(r); return k > 250 && k < 700 })
	pub.SetVideoDimensions(1280, 720)
	waitFor(t, "a 1280x720 tile on the high layer", func() bool { return kbps(r) > 800 })

	pub.SetEnabled(false)
	waitFor(t, "a disabled track gets nothing", func() bool { return kbps(r) < 5 })
	if l := ts.sig.Stats().Links; l.Layers != [4]int{} {
		t.Errorf("a hidden track counts in the layer metrics: %v", l.Layers)
	}
	pub.SetEnabled(true)
	waitFor(t, "an enabled track flows again", func() bool { return kbps(r) > 800 })
	if j := r.SeqJumps.Load(); j > 12 {
		t.Errorf("%d sequence jumps across layer switches and a pause; the stream should stay continuous", j)
	}
}

// TestDynacast: the publisher is told to stop layers nobody takes, within 3 s,
// and to start them again when someone does.
func TestDynacast(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "dyna", "alice", true)
	bob := ts.connect(t, "dyna", "bob", false)
	sp, err := alice.PublishSimulcastSamples("camera", [3]int{150, 400, 1200})
	if err != nil {
		t.Fatal(err)
	}
	flowing := func() uint32 { return ts.sig.LayersFlowingForTest("dyna", sp.SID) }
	waitFor(t, "three layers flowing", func() bool { return flowing() == 0b111 })
	waitFor(t, "bob receives the track", func() bool { r := bob.Tracks()[sp.SID]; return r != nil && r.Packets.Load() > 30 })
	pub := remotePub(t, bob, "alice", sp.SID)

	pub.SetVideoDimensions(160, 90)
	start := time.Now()
	// Flowing notices a stopped layer one second after its last packet.
	if !lktest.Eventually(5*time.Second, func() bool { return flowing() == 0b001 }) {
		t.Fatalf("layers flowing %03b 5 s after the only tile shrank; want only the low one", flowing())
	}
	t.Logf("publisher stopped the unwatched layers %.1f s after the tile shrank (layer stop detection adds up to 1 s)", time.Since(start).Seconds())

	pub.SetVideoDimensions(1280, 720)
	start = time.Now()
	waitFor(t, "all layers back", func() bool { return flowing() == 0b111 })
	t.Logf("layers back %.1f s after the tile grew", time.Since(start).Seconds())
	r := bob.Tracks()[sp.SID]
	waitFor(t, "bob on the high layer again", func() bool { return kbps(r) > 800 })

	pub.SetEnabled(false)
	if !lktest.Eventually(5*time.Second, func() bool { return flowing() == 0 }) {
		t.Fatalf("layers flowing %03b with the only subscriber's tile hidden; want none", flowing())
	}
}

// TestConnectionQuality: everyone hears everyone's quality; a publisher whose
// media stops is lost to the others, but never to itself.
func TestConnectionQuality(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "cq", "alice", true)
	bob := ts.connect(t, "cq", "bob", true)
	aSID := string(alice.Room.LocalParticipant.SID())
	bSID := string(bob.Room.LocalParticipant.SID())
	mic, err := bob.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who *lktest.Client
		sid string
	}{{alice, aSID}, {alice, bSID}, {bob, aSID}, {bob, bSID}} {
		waitFor(t, c.who.Identity+" hears quality of "+c.sid, func() bool {
			q, ok := c.who.Quality(c.sid)
			return ok && q == livekit.ConnectionQuality_EXCELLENT
		})
	}
	waitFor(t, "alice receives bob's audio", func() bool { return alice.PacketsFrom("bob", "audio") > 20 })

	mic.Stop() // published and unmuted, but nothing arrives: a dead uplink
	waitFor(t, "alice sees bob lost", func() bool {
		q, _ := alice.Quality(bSID)
		return q == livekit.ConnectionQuality_LOST
	})
	if q, _ := bob.Quality(bSID); q == livekit.ConnectionQuality_LOST {
		t.Fatal("bob was told his own link is lost; livekit-client would reconnect")
	}
	var lost bool
	for _, p := range ts.sig.Participants("cq") {
		if p.Identity == "bob" {
			lost = p.Link.Quality == "lost"
		}
	}
	if !lost {
		t.Error("the participant snapshot does not say bob is lost")
	}
}
