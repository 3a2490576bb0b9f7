package signaling_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/media"
	"yizhan/signaling"
)

const (
	testKey    = "testkey"
	testSecret = "testsecret-testsecret-testsecret-0123"
)

// testServer is an in-process yizhan SFU on loopback.
type testServer struct {
	sig  *signaling.Server
	eng  *media.Engine
	http *httptest.Server
	url  string // ws://127.0.0.1:port
}

func testLogger() *slog.Logger {
	switch os.Getenv("YIZHAN_TEST_LOG") {
	case "":
	case "debug":
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	default:
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	log := testLogger()
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1", UDPPort: 0, Logger: log})
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: testKey, APISecret: testSecret, Logger: log, RoomEmptyTimeout: 500 * time.Millisecond,
		TokenRefresh: time.Second}, eng)
	hs := httptest.NewServer(sig.Handler())
	ts := &testServer{sig: sig, eng: eng, http: hs, url: "ws://" + strings.TrimPrefix(hs.URL, "http://")}
	t.Cleanup(func() {
		sig.Close()
		hs.Close()
		_ = eng.Close()
	})
	return ts
}

func (ts *testServer) token(t *testing.T, room, identity string, publish bool) string {
	t.Helper()
	tok, err := ts.sig.MintToken(signaling.TokenSpec{Room: room, Identity: identity, Name: strings.ToUpper(identity),
		CanPublish: publish, CanSubscribe: true, CanPublishData: true, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (ts *testServer) connect(t *testing.T, room, identity string, publish bool) *lktest.Client {
	t.Helper()
	c, err := lktest.Connect(ts.url, ts.token(t, room, identity, publish))
	if err != nil {
		t.Fatalf("%s: %v", identity, err)
	}
	t.Cleanup(c.Close)
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !lktest.Eventually(10*time.Second, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestThreeParticipants: two publish Opus and VP8, every one receives the others'
// tracks with the right SIDs and real RTP; mute, unpublish and leave are seen.
func TestThreeParticipants(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "r1", "alice", true)
	bob := ts.connect(t, "r1", "bob", true)
	carol := ts.connect(t, "r1", "carol", false)

	aV, err := alice.PublishVP8(lktest.VideoOptions{BitrateKbps: 300})
	if err != nil {
		t.Fatal(err)
	}
	aA, err := alice.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	bV, err := bob.PublishVP8(lktest.VideoOptions{BitrateKbps: 300})
	if err != nil {
		t.Fatal(err)
	}
	bA, err := bob.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}

	type expect struct {
		c        *lktest.Client
		from     *lktest.Client
		trackSID string
	}
	cases := []expect{
		{bob, alice, aV.SID}, {bob, alice, aA.SID},
		{alice, bob, bV.SID}, {alice, bob, bA.SID},
		{carol, alice, aV.SID}, {carol, alice, aA.SID},
		{carol, bob, bV.SID}, {carol, bob, bA.SID},
	}
	for _, e := range cases {
		waitFor(t, e.c.Identity+" receiving "+e.trackSID, func() bool {
			r := e.c.Tracks()[e.trackSID]
			return r != nil && r.Packets.Load() > 20
		})
		r := e.c.Tracks()[e.trackSID]
		if r.Participant != e.from.Identity || r.SID != string(e.from.Room.LocalParticipant.SID()) {
			t.Errorf("%s: track %s attributed to %s/%s, want %s/%s", e.c.Identity, e.trackSID, r.Participant, r.SID,
				e.from.Identity, e.from.Room.LocalParticipant.SID())
		}
	}
	// A participant never receives its own tracks.
	if n := alice.PacketsFrom("alice", ""); n != 0 {
		t.Errorf("alice received %d packets of her own", n)
	}
	if aV.PLIs.Load() == 0 {
		t.Errorf("publisher got no PLI when subscribers were added")
	}

	// Mute is seen by the others.
	aA.Pub.SetMuted(true)
	waitFor(t, "bob sees alice's audio muted", func() bool { m, ok := bob.MutedSeen(aA.SID); return ok && m })
	waitFor(t, "carol sees alice's audio muted", func() bool { m, ok := carol.MutedSeen(aA.SID); return ok && m })

	// Unpublish is seen by the others.
	if err := bob.Room.LocalParticipant.UnpublishTrack(bV.SID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice sees bob's video unpublished", func() bool { return alice.SawUnpublish(bV.SID) })
	waitFor(t, "carol sees bob's video unpublished", func() bool { return carol.SawUnpublish(bV.SID) })

	// Leave is seen by the others.
	bob.Close()
	waitFor(t, "alice sees bob leave", func() bool { return alice.SawLeave("bob") })
	waitFor(t, "carol sees bob leave", func() bool { return carol.SawLeave("bob") })

	// Alice's media still flows to carol after all that.
	before := carol.PacketsFrom("alice", "video")
	waitFor(t, "alice's video keeps flowing", func() bool { return carol.PacketsFrom("alice", "video") > before+30 })
}
