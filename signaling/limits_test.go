package signaling_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"

	"yizhan/internal/lktest"
	"yizhan/media"
	"yizhan/signaling"
)

func startLimitedServer(t *testing.T, lim signaling.Limits) *testServer {
	t.Helper()
	log := testLogger()
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1", UDPPort: 0, Logger: log})
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: testKey, APISecret: testSecret, Logger: log, RoomEmptyTimeout: 300 * time.Millisecond,
		TokenRefresh: time.Minute, Limits: lim}, eng)
	hs := httptest.NewServer(sig.Handler())
	ts := &testServer{sig: sig, eng: eng, http: hs, url: "ws://" + strings.TrimPrefix(hs.URL, "http://")}
	t.Cleanup(func() {
		sig.Close()
		hs.Close()
		_ = eng.Close()
	})
	return ts
}

// TestMadeUpSubscriptionsCostNothing (row 1): UpdateSubscription naming thousands of
// made-up tracks is not remembered; a real track is; after the party leaves the server
// holds nothing of it. Before: every id stayed in a map for the participant's life.
func TestMadeUpSubscriptionsCostNothing(t *testing.T) {
	ts := startLimitedServer(t, signaling.Limits{SubscriptionOverrides: 8})
	alice := ts.connect(t, "sub", "alice", true)
	pub, err := alice.PublishVP8(lktest.VideoOptions{Name: "camera"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Stop)
	var real string
	waitFor(t, "alice's track published", func() bool {
		for _, p := range ts.sig.Participants("sub") {
			if p.Identity == "alice" && len(p.Tracks) > 0 {
				real = p.Tracks[0].SID
				return true
			}
		}
		return false
	})

	m := dialRaw(t, ts, "sub", "mallory", "")
	m.waitFor(func(r *livekit.SignalResponse) bool { return r.GetJoin() != nil })
	ids := make([]string, 12000)
	for i := range ids {
		ids[i] = fmt.Sprintf("TR_madeup%06d", i)
	}
	for i := 0; i < 20; i++ {
		m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Subscription{Subscription: &livekit.UpdateSubscription{
			TrackSids: ids, Subscribe: i%2 == 0,
			ParticipantTracks: []*livekit.ParticipantTracks{{ParticipantSid: "PA_x", TrackSids: ids[:1000]}},
		}}})
	}
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Subscription{Subscription: &livekit.UpdateSubscription{
		TrackSids: []string{real}, Subscribe: false}}})
	// ping after: when the pong comes, every request before it was handled
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Ping{Ping: 1}})
	m.waitFor(func(r *livekit.SignalResponse) bool { return r.GetPong() != 0 })
	h := ts.sig.HeldForTest()
	if h.SubscriptionOverrides != 1 {
		t.Errorf("subscription overrides held: %d, want 1 (the real track only)", h.SubscriptionOverrides)
	}
	if ts.sig.LimitHits()["signal_subscription_overrides"] == 0 {
		t.Error("the bound was not counted")
	}

	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Leave{Leave: &livekit.LeaveRequest{}}})
	waitFor(t, "mallory gone", func() bool { return ts.sig.HeldForTest().Participants == 1 })
	alice.Close()
	waitFor(t, "nothing held", func() bool { return ts.sig.HeldForTest() == signaling.Held{} })
}

// TestWebsocketsPerAddress: one address may hold a bounded number of signal
// connections; the next is refused before the upgrade, and closing one frees a place.
func TestWebsocketsPerAddress(t *testing.T) {
	ts := startLimitedServer(t, signaling.Limits{WebsocketsPerAddr: 2})
	a := dialRaw(t, ts, "w", "a", "")
	a.waitFor(func(r *livekit.SignalResponse) bool { return r.GetJoin() != nil })
	b := dialRaw(t, ts, "w", "b", "")
	b.waitFor(func(r *livekit.SignalResponse) bool { return r.GetJoin() != nil })
	_, resp, err := websocket.DefaultDialer.Dial(ts.url+"/rtc?protocol=17&access_token="+ts.token(t, "w", "c", true), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third connection from one address: err %v resp %v, want 429", err, resp)
	}
	if ts.sig.LimitHits()["signal_websockets_per_addr"] != 1 {
		t.Error("refusal not counted")
	}
	a.ws.Close()
	waitFor(t, "a's place freed", func() bool {
		ws, _, err := websocket.DefaultDialer.Dial(ts.url+"/rtc?protocol=17&access_token="+ts.token(t, "w", "c", true), nil)
		if err == nil {
			ws.Close()
		}
		return err == nil
	})
}

// TestTooManyTracksAnnounced: add_track beyond the bound is refused.
func TestTooManyTracksAnnounced(t *testing.T) {
	ts := startLimitedServer(t, signaling.Limits{PendingTracks: 3})
	c := dialRaw(t, ts, "tr", "a", "")
	c.waitFor(func(r *livekit.SignalResponse) bool { return r.GetJoin() != nil })
	for i := 0; i < 10; i++ {
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{
			Cid: fmt.Sprint("cid", i), Type: livekit.TrackType_AUDIO, Source: livekit.TrackSource_MICROPHONE}}})
	}
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Ping{Ping: 1}})
	c.waitFor(func(r *livekit.SignalResponse) bool { return r.GetPong() != 0 })
	if h := ts.sig.HeldForTest(); h.PendingTracks != 3 {
		t.Errorf("pending tracks held: %d, want 3", h.PendingTracks)
	}
	if ts.sig.LimitHits()["signal_pending_tracks"] != 7 {
		t.Errorf("hits %v", ts.sig.LimitHits())
	}
}
