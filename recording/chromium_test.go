package recording

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// Chromium plays the files: a snapshot taken while the writer is open (what a kill
// leaves: unknown-size Segment and Cluster, no Duration, no Cues) to its end, and the
// closed file, with seeking.
func TestChromiumPlaysTrackFiles(t *testing.T) {
	withTimeout(t, 120*time.Second)
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not installed", chromiumPath)
	}
	c := testClip(t)
	s := openTestSession(t, t.TempDir())
	vw, err := s.NewTrackWriter(TrackMeta{Identity: "alice", TrackSID: "TR_v", MimeType: "video/VP8"})
	must(t, err)
	aw, err := s.NewTrackWriter(TrackMeta{Identity: "alice", TrackSID: "TR_a", MimeType: "audio/opus"})
	must(t, err)
	vp, ap := c.videoPackets(), c.audioPackets()
	feed(t, vw, vp[:75]) // 2.5 s
	feed(t, aw, ap[:125])
	srv := t.TempDir()
	for _, n := range []string{vw.Path(), aw.Path()} {
		copyFile(t, filepath.Join(s.Dir(), n), filepath.Join(srv, "open-"+n))
	}
	feed(t, vw, vp[75:])
	feed(t, aw, ap[125:])
	must(t, vw.Close())
	must(t, aw.Close())
	for _, n := range []string{vw.Path(), aw.Path()} {
		copyFile(t, filepath.Join(s.Dir(), n), filepath.Join(srv, "closed-"+n))
	}
	hs := httptest.NewServer(http.FileServer(http.Dir(srv))) // range requests, as the case-file API serves
	defer hs.Close()

	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("mute-audio", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("no-first-run", true))
	defer acancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
	defer cancel2()
	must(t, chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/")))

	// play at 4x to the end; report the last position reached, the duration, any error
	const play = `new Promise(res => {
		const v = document.createElement(%q); v.muted = true; v.src = %q;
		let last = 0; v.ontimeupdate = () => { last = Math.max(last, v.currentTime) };
		v.onerror = () => res({err: String(v.error && v.error.message || v.error && v.error.code)});
		v.onended = () => res({last: Math.max(last, v.currentTime), dur: String(v.duration), w: v.videoWidth || 0});
		v.oncanplay = () => { if (!v.started) { v.started = true; v.playbackRate = 4; v.play().catch(e => res({err: String(e)})) } };
		document.body.appendChild(v);
	})`
	type result struct {
		Last float64 `json:"last"`
		Dur  string  `json:"dur"`
		W    int     `json:"w"`
		Err  string  `json:"err"`
	}
	for _, tc := range []struct {
		file, elem string
		want       float64
	}{
		{"open-" + vw.Path(), "video", 2.5}, {"open-" + aw.Path(), "audio", 2.5},
		{"closed-" + vw.Path(), "video", clipSeconds}, {"closed-" + aw.Path(), "audio", clipSeconds},
	} {
		r, err := chromedp.Run(ctx, chromedp.Evaluate[result](fmt.Sprintf(play, tc.elem, hs.URL+"/"+tc.file), chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		t.Logf("%s: played to %.2f s, duration %s, width %d", tc.file, r.Last, r.Dur, r.W)
		if r.Err != "" || r.Last < tc.want-1 {
			t.Errorf("%s: %+v, want it played to about %.1f s", tc.file, r, tc.want)
		}
	}
	// Seek in the closed file (Cues): jump to 3 s and play on.
	seek := `new Promise(res => { const v = document.createElement('video'); v.muted = true; v.src = %q;
		v.onloadedmetadata = () => { v.currentTime = 3; }; v.onseeked = () => res(v.currentTime);
		v.onerror = () => res(-1); document.body.appendChild(v); })`
	pos, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(seek, hs.URL+"/closed-"+vw.Path()), chromedp.EvalAwaitPromise))
	must(t, err)
	if pos < 2.5 {
		t.Errorf("seek in closed file landed at %.2f", pos)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	must(t, err)
	must(t, os.WriteFile(dst, b, 0o644))
}
