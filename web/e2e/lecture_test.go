package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yizhan/media"
	"yizhan/mediation"
	"yizhan/signaling"
	"yizhan/store"
	"yizhan/web"
)

// lectureServer is the server as `serve` wires lectures: the program under data/live
// served at /live/, and at most maxWebRTC viewers over WebRTC.
func lectureServer(t *testing.T, maxWebRTC int) (*httptest.Server, mediation.DemoInfo) {
	t.Helper()
	log := testLogger(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "yizhan.db"), log)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	demo, err := mediation.SeedDemo(ctx, st)
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	eng, err := media.NewEngine(media.Config{UDPPort: 0, Logger: log})
	if err != nil {
		t.Fatalf("media engine: %v", err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: testKey, APISecret: testSecret, Logger: log}, eng)
	liveDir := filepath.Join(t.TempDir(), "live")
	prog := mediation.NewLectureProgram(mediation.LectureProgramConfig{Dir: liveDir, Rooms: sig, Logger: log})
	t.Cleanup(func() {
		if t.Failed() { // what ffmpeg said, and what it made
			logs, _ := filepath.Glob(filepath.Join(liveDir, "*", "*"))
			for _, f := range logs {
				if b, err := os.ReadFile(f); err == nil && (strings.HasSuffix(f, ".log") || strings.HasSuffix(f, ".m3u8") || strings.HasSuffix(f, ".sdp")) {
					t.Logf("%s:\n%s", f, b)
				} else {
					t.Logf("%s", f)
				}
			}
		}
	})
	svc := mediation.New(mediation.Config{Lectures: mediation.LectureConfig{MaxWebRTC: maxWebRTC, Program: prog}}, st, sig, log)
	sig.SetHooks(svc)
	mux := http.NewServeMux()
	rtc := sig.Handler()
	mux.Handle("/rtc", rtc)
	mux.Handle("/rtc/", rtc)
	mux.Handle("/api/", svc.Handler())
	mux.Handle("/live/", prog.Handler())
	mux.Handle("/", web.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		prog.Close()
		svc.Close()
		sig.Close()
		_ = eng.Close()
		_ = st.Close()
	})
	return srv, demo
}

func demoPassword(t *testing.T, demo mediation.DemoInfo, user string) string {
	for _, u := range demo.Users {
		if u.Username == user {
			return u.Password
		}
	}
	t.Fatalf("no demo user %s", user)
	return ""
}

// playingJS: the page's lecture video shows a picture and its frames keep coming.
const playingJS = `(() => { const v = document.querySelector('.lecture-main video'); if (!v) return false;
  const q = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
  const ok = v.videoWidth > 0 && q > (v.__q || 0) && q > 10; v.__q = q; return ok; })()`

// TestLecturePages: a mediator schedules a lecture in the console, starts it and goes on
// stage with the browser's camera; a phone watches over WebRTC, sees the count, asks a
// question; the moderator sees it and brings the phone on stage; a second phone, past the
// WebRTC seats, gets the HLS stream and plays it with hls.js; after the end the lecture
// page replays the archive. Screenshots of each step.
func TestLecturePages(t *testing.T) {
	srv, demo := lectureServer(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b := newBrowser(t, ctx)
	base := srv.URL

	mod := b.newPerson("moderator", 1280, 860)
	staffLogin(mod, base, "east-mediator", demoPassword(t, demo, "east-mediator"))
	mod.navigate(base + "/console/lectures")
	mod.waitJS("lecture form", `!!document.querySelector('[data-action=create-lecture]')`, 20*time.Second)
	mod.setValue(`input[name=title]`, "婚姻家庭法律知识讲座")
	mod.screenshot("lecture-1-console-new")
	mod.click(`[data-action=create-lecture]`)
	mod.waitJS("the lecture page", `!!document.querySelector('[data-action=start]')`, 20*time.Second)
	var publicURL string
	if err := mod.eval(`document.querySelector('.public-url').href`, &publicURL); err != nil || !strings.Contains(publicURL, "/l/") {
		mod.fatalf("public link %q: %v", publicURL, err)
	}
	mod.click(`[data-action=start]`)
	mod.waitJS("live", `!!document.querySelector('[data-action=end]')`, 20*time.Second)
	mod.click(`[data-action=go-on-stage]`)
	mod.waitJS("on stage with the camera", `!!document.querySelector('.call .tile.local video') && document.querySelector('.call .tile.local video').videoWidth > 0`, 30*time.Second)

	phone := b.newPerson("phone", 390, 844)
	phone.navigate(publicURL)
	phone.waitJS("the watch form", `!!document.querySelector('[data-action=watch]')`, 20*time.Second)
	phone.setValue(`input[name=name]`, "李大爷")
	phone.setValue(`input[name=centre]`, "东村")
	phone.screenshot("lecture-2-phone-join")
	phone.click(`[data-action=watch]`)
	phone.waitJS("WebRTC mode", `document.querySelector('main').dataset.mode === 'webrtc'`, 20*time.Second)
	phone.waitJS("the speaker's picture over WebRTC", playingJS, 40*time.Second)
	phone.waitJS("the viewer count", `document.querySelector('.viewers').dataset.viewers === '1'`, 20*time.Second)
	phone.screenshot("lecture-3-phone-webrtc")

	phone.setValue(`textarea[name=question]`, "老人再婚，子女有赡养义务吗？")
	phone.click(`[data-action=ask]`)
	mod.waitJS("the question in the queue", `!!document.querySelector('.question [data-action=stage-on]')`, 20*time.Second)
	mod.waitJS("the count on the console", `document.querySelector('.stat[data-viewers]').dataset.viewers === '1'`, 20*time.Second)
	mod.screenshot("lecture-4-moderator-console")
	mod.click(`.question [data-action=stage-on]`)
	phone.waitJS("invited on stage", `!document.querySelector('.lecture-stage-me').classList.contains('hidden')`, 20*time.Second)
	phone.screenshot("lecture-5-phone-on-stage")
	mod.click(`.question [data-action=stage-off]`)
	phone.waitJS("off stage", `document.querySelector('.lecture-stage-me').classList.contains('hidden')`, 20*time.Second)

	// Past the WebRTC seats: the HLS stream, played by hls.js.
	var h264 bool
	_ = phone.eval(`window.MediaSource ? MediaSource.isTypeSupported('video/mp4; codecs="avc1.4d401f,mp4a.40.2"') : false`, &h264)
	phone2 := b.newPerson("phone-hls", 390, 844)
	phone2.navigate(publicURL)
	phone2.waitJS("the watch form", `!!document.querySelector('[data-action=watch]')`, 20*time.Second)
	phone2.click(`[data-action=watch]`)
	phone2.waitJS("HLS mode", `document.querySelector('main').dataset.mode === 'hls' && !!document.querySelector('.lecture-main.hls video')`, 20*time.Second)
	if h264 {
		phone2.waitJS("the HLS stream plays", playingJS, 60*time.Second)
	} else {
		t.Log("this Chromium cannot play H.264 in MediaSource: the HLS page is checked, not its playback")
	}
	phone2.screenshot("lecture-6-phone-hls")

	mod.navigate(base + "/console/dashboard")
	mod.waitJS("attendance on the dashboard", `!!document.querySelector('.lecture-attendance tr[data-centre]')`, 20*time.Second)
	mod.screenshot("lecture-7-dashboard-attendance")

	// The end, and the replay.
	mod.navigate(publicURL[:strings.Index(publicURL, "/l/")] + "/console/lectures/" + publicURL[strings.LastIndex(publicURL, "/")+1:])
	mod.waitJS("the end button", `!!document.querySelector('[data-action=end]')`, 20*time.Second)
	if err := mod.eval(`window.confirm = () => true`, nil); err != nil {
		t.Fatal(err)
	}
	mod.click(`[data-action=end]`)
	phone.waitJS("the phone sees the end", `document.body.textContent.includes('已结束') || document.body.textContent.includes('ended')`, 30*time.Second)
	// The room closes first; the archive is kept once ffmpeg has finished (about 2 s).
	mod.waitJS("the console offers the replay", `!!document.querySelector('a[href^="/l/"]')`, 30*time.Second)
	replay := b.newPerson("replay", 390, 844)
	replay.navigate(publicURL)
	replay.waitJS("the replay", `!!document.querySelector('.lecture-main.hls video')`, 20*time.Second)
	if h264 {
		replay.waitJS("the archive plays", playingJS, 60*time.Second)
	}
	replay.screenshot("lecture-8-replay")
}
