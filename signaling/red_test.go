package signaling_test

import (
	"bytes"
	"testing"

	"yizhan/internal/lktest"
)

// TestREDAudio: a publisher sending RED (as Chrome does with livekit-client's
// red: true) is answered with RED; a subscriber that negotiates RED gets it as
// sent, one that does not gets the primary Opus frames, and the track is
// announced as Opus (what it carries, and what a recorder writes).
func TestREDAudio(t *testing.T) {
	ts := startServer(t)
	alice, err := lktest.Connect(ts.url, ts.token(t, "red", "alice", true), lktest.WithRED())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(alice.Close)
	bob, err := lktest.Connect(ts.url, ts.token(t, "red", "bob", false), lktest.WithRED())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bob.Close)
	carol := ts.connect(t, "red", "carol", false)

	mic, err := alice.PublishRED("microphone")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*lktest.Client{bob, carol} {
		waitFor(t, c.Identity+" receives audio", func() bool { r := c.Tracks()[mic.SID]; return r != nil && r.Packets.Load() > 30 })
	}
	redP, redPT := bob.Tracks()[mic.SID].FirstPayloads()
	opusP, opusPT := carol.Tracks()[mic.SID].FirstPayloads()
	if redPT[len(redPT)-1] != 63 || opusPT[len(opusPT)-1] != 111 {
		t.Fatalf("payload types: RED subscriber %d, Opus subscriber %d; want 63 and 111", redPT[len(redPT)-1], opusPT[len(opusPT)-1])
	}
	last := redP[len(redP)-1]
	if last[0] != 0x80|111 || len(last) < 4+1+2*66 {
		t.Errorf("the RED subscriber's payload does not carry a redundant block: % x", last[:8])
	}
	for i, p := range opusP {
		if len(p) != 66 || !bytes.HasPrefix(p, []byte{0xfc, 'P'}) {
			t.Fatalf("Opus subscriber payload %d is not a primary frame (len %d): % x", i, len(p), p[:min(8, len(p))])
		}
	}
	for _, p := range ts.sig.Participants("red") {
		for _, tr := range p.Tracks {
			if tr.SID == mic.SID && tr.MimeType != "audio/opus" {
				t.Errorf("track announced as %q, want audio/opus", tr.MimeType)
			}
		}
	}
}
