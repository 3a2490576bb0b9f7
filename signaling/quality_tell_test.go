package signaling_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"

	"yizhan/internal/lktest"
	"yizhan/signaling"
)

// TestQualityToHiddenAudience: hidden viewers (a lecture's audience) hear the speaker's
// quality, from the shared update, and a viewer who comes later the state as it is; they
// never hear about each other; the speaker hears nothing about them and is never told
// its own link is lost.
func TestQualityToHiddenAudience(t *testing.T) {
	ts := startServer(t)
	spk := ts.connect(t, "aud", "speaker", true)
	sSID := string(spk.Room.LocalParticipant.SID())
	mic, err := spk.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	viewer := func(i int) *lktest.Client {
		tok, err := ts.sig.MintToken(signaling.TokenSpec{Room: "aud", Identity: fmt.Sprintf("viewer-%d", i), CanSubscribe: true, Hidden: true, TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		c, err := lktest.Connect(ts.url, tok)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	var vs []*lktest.Client
	for i := range 6 {
		vs = append(vs, viewer(i))
	}
	hears := func(c *lktest.Client, sid string, want livekit.ConnectionQuality) bool {
		q, ok := c.Quality(sid)
		return ok && q == want
	}
	waitFor(t, "every viewer hears the speaker's quality, and its own", func() bool {
		for _, v := range vs {
			if q, ok := v.Quality(sSID); !ok || q == livekit.ConnectionQuality_LOST {
				return false
			}
			if _, ok := v.Quality(string(v.Room.LocalParticipant.SID())); !ok {
				return false
			}
		}
		return true
	})

	mic.Stop() // the speaker's uplink dies
	waitFor(t, "every viewer hears the speaker lost", func() bool {
		for _, v := range vs {
			if !hears(v, sSID, livekit.ConnectionQuality_LOST) {
				return false
			}
		}
		return true
	})
	late := viewer(99)
	waitFor(t, "a viewer arriving after the change hears the speaker lost", func() bool { return hears(late, sSID, livekit.ConnectionQuality_LOST) })
	if hears(spk, sSID, livekit.ConnectionQuality_LOST) {
		t.Error("the speaker was told its own link is lost")
	}
	for i, v := range append(vs, late) {
		for j, o := range append(vs, late) {
			if i == j {
				continue
			}
			if _, ok := v.Quality(string(o.Room.LocalParticipant.SID())); ok {
				t.Fatalf("viewer %d heard about viewer %d", i, j)
			}
			if _, ok := spk.Quality(string(o.Room.LocalParticipant.SID())); ok {
				t.Fatalf("the speaker heard about viewer %d", j)
			}
		}
	}
}
