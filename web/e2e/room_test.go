package e2e

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
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

// tokenGate stands in for token expiry in the room tests: tokens it was told to refuse get
// an HTTP 401 at /rtc, as an expired token would (the JWT check allows a minute of clock
// leeway, too long to wait for in a test).
type tokenGate struct {
	sig     *signaling.Server // for a test's look at the server's side
	mu      sync.Mutex
	issued  map[string][]string // identity -> tokens handed out
	refused map[string]bool     // tokens answered with 401
}

// expire makes every token issued so far to identity invalid.
func (g *tokenGate) expire(identity string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, tok := range g.issued[identity] {
		g.refused[tok] = true
	}
}

func (g *tokenGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		bad := g.refused[r.URL.Query().Get("access_token")]
		g.mu.Unlock()
		if bad {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			http.Error(w, "invalid or expired token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// roomServer is signaling + media + the web app + a dev token endpoint, like `serve --dev`.
func roomServer(t *testing.T) (*httptest.Server, *tokenGate) {
	t.Helper()
	log := testLogger(t)
	eng, err := media.NewEngine(media.Config{UDPPort: 0, Logger: log})
	if err != nil {
		t.Fatalf("media engine: %v", err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: testKey, APISecret: testSecret, Logger: log}, eng)
	gate := &tokenGate{sig: sig, issued: map[string][]string{}, refused: map[string]bool{}}
	mux := http.NewServeMux()
	rtc := gate.wrap(sig.Handler())
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
		gate.mu.Lock()
		gate.issued[q.Get("identity")] = append(gate.issued[q.Get("identity")], tok)
		gate.mu.Unlock()
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
	return srv, gate
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
	// the fake microphone beeps: bob's tile lights up as the active speaker on alice's page
	alice.waitJS("bob highlighted as speaking", `!!document.querySelector('.tile[data-identity="bob"].speaking')`, 20*time.Second)
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

// TestRoomRejoinAfterTokenExpiry: the join token has expired when the signal connection
// drops, so the server refuses the resume (401); the page fetches a fresh token and comes
// back.
func TestRoomRejoinAfterTokenExpiry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	srv, gate := roomServer(t)

	carol := b.newPage("carol", 1024, 700)
	dave := b.newPage("dave", 1024, 700)
	carol.navigate(srv.URL + "/room?room=expiry&identity=carol&name=Carol")
	dave.navigate(srv.URL + "/room?room=expiry&identity=dave&name=Dave")
	carol.waitVideoFrom("dave", 45*time.Second)
	dave.waitVideoFrom("carol", 45*time.Second)

	gate.expire("carol")
	if err := carol.eval(`window.__yzRoom.simulateScenario('signal-reconnect').then(() => true)`, nil); err != nil {
		t.Fatalf("simulate reconnect: %v", err)
	}
	carol.waitJS("reconnect banner was shown", `Number(document.querySelector('.call').dataset.reconnects || 0) >= 1`, 15*time.Second)
	carol.waitJS("back in the room", `!document.querySelector('.ended') && document.querySelector('.call .banner').classList.contains('hidden')`, 45*time.Second)
	var rejoins int
	if err := carol.eval(`Number(document.querySelector('.call').dataset.rejoins || 0)`, &rejoins); err != nil || rejoins < 1 {
		carol.fatalf("the page did not join again with a fresh token (rejoins %d, %v)", rejoins, err)
	}
	carol.waitVideoFrom("dave", 45*time.Second)
	dave.waitVideoFrom("carol", 45*time.Second)
}
