package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"yizhan/media"
	"yizhan/signaling"
	"yizhan/web"
)

const (
	testKey    = "devkey"
	testSecret = "devsecret-devsecret-devsecret-0123"
)

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("E2E_VERBOSE") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// roomServer is signaling + media + the web app + a dev token endpoint, like `serve --dev`.
func roomServer(t *testing.T) (*httptest.Server, *signaling.Server) {
	t.Helper()
	log := testLogger(t)
	eng, err := media.NewEngine(media.Config{UDPPort: 0, Logger: log})
	if err != nil {
		t.Fatalf("media engine: %v", err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: testKey, APISecret: testSecret, Logger: log}, eng)
	mux := http.NewServeMux()
	rtc := sig.Handler()
	mux.Handle("/rtc", rtc)
	mux.Handle("/rtc/", rtc)
	mux.HandleFunc("GET /dev/token", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		tok, err := sig.MintToken(signaling.TokenSpec{
			Room: q.Get("room"), Identity: q.Get("identity"), Name: q.Get("name"),
			TTL: time.Hour, CanPublish: true, CanSubscribe: true, CanPublishData: true,
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"url": "ws://" + r.Host + "/", "token": tok})
	})
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		sig.Close()
		_ = eng.Close()
	})
	return srv, sig
}

// TestRoomPageTwoBrowsers: two pages join one room through /room and each renders the
// other's video (issue 2's browser test).
func TestRoomPageTwoBrowsers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	srv, _ := roomServer(t)

	alice := b.newPage("alice", 1280, 800)
	bob := b.newPage("bob", 390, 844) // a phone
	alice.navigate(srv.URL + "/room?room=e2e&identity=alice&name=Alice")
	bob.navigate(srv.URL + "/room?room=e2e&identity=bob&name=Bob")

	va := alice.waitVideoFrom("bob", 45*time.Second)
	vb := bob.waitVideoFrom("alice", 45*time.Second)
	t.Logf("alice sees bob: %dpx wide, %d frames; bob sees alice: %dpx wide, %d frames", va.Width, va.Frames, vb.Width, vb.Frames)
	alice.screenshot("room-desktop")
	bob.screenshot("room-phone")

	// A dropped signal connection: alice sees the reconnecting banner, then video again.
	if err := alice.eval(`window.__yzRoom.simulateScenario('signal-reconnect').then(() => true)`, nil); err != nil {
		t.Fatalf("simulate reconnect: %v", err)
	}
	alice.waitJS("reconnect banner was shown", `Number(document.querySelector('.call').dataset.reconnects || 0) >= 1`, 15*time.Second)
	alice.waitJS("banner gone", `document.querySelector('.call .banner').classList.contains('hidden')`, 30*time.Second)
	alice.waitVideoFrom("bob", 45*time.Second)
	bob.waitVideoFrom("alice", 45*time.Second)

	// Bob switches to audio only: his camera stops, so alice shows his avatar; bob renders no video.
	bob.click(`button[data-ctl="audio_only"]`)
	alice.waitNoVideoFrom("bob", 20*time.Second)
	bob.waitNoVideoFrom("alice", 20*time.Second)
	bob.screenshot("room-phone-audio-only")
	bob.waitJS("audio-only pressed", `document.querySelector('button[data-ctl="audio_only"]').getAttribute('aria-pressed') === 'true'`, 5*time.Second)
	bob.click(`button[data-ctl="audio_only"]`)
	alice.waitVideoFrom("bob", 45*time.Second)
	bob.waitVideoFrom("alice", 45*time.Second)

	// Bob mutes his microphone: alice's tile for bob shows the muted icon.
	bob.click(`button[data-ctl="mute"]`)
	alice.waitJS("bob's muted mic", `!!document.querySelector('.tile[data-identity="bob"] .tile-mic.off')`, 15*time.Second)

	// Bob leaves: his tile goes from alice's page, and bob sees the "left" card.
	bob.click(`button[data-ctl="leave"]`)
	bob.waitJS("left card", `!!document.querySelector('.ended')`, 15*time.Second)
	alice.waitJS("bob's tile gone", `!document.querySelector('.tile[data-identity="bob"]')`, 20*time.Second)
}
