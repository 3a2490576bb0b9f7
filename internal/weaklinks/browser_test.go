//go:build linux

package weaklinks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The comparison is with Chromium on both ends: livekit-client 2.23
// through the web app (adaptiveStream, dynacast, simulcast, RED), the
// publisher on the host's loopback, the subscriber behind the shaped link
// (Chromium run in namespace B with ip netns exec; chromedp talks to it
// through the DevTools pipe, which crosses namespaces as inherited file
// descriptors). What is measured is what the subscriber's getStats says:
// the width of the video it decodes and the share of audio samples it had to
// conceal.

const chromiumPath = "/usr/bin/chromium"

type browserCase struct {
	name     string
	rateKbit int
	loss     float64
	delay    time.Duration
	hold     time.Duration
	leaveTop bool // the top layer does not fit: the subscriber must leave it
}

var browserCases = []browserCase{
	{name: "browser_300kbit_40ms", rateKbit: 300, delay: 40 * time.Millisecond, hold: 20 * time.Second, leaveTop: true},
	{name: "browser_loss_5pct", loss: 0.05, hold: 20 * time.Second},
}

func TestWeakLinkBrowser(t *testing.T) {
	want := os.Getenv("YIZHAN_WEAKLINKS")
	for _, c := range browserCases {
		if want != "all" && !slices.Contains(strings.Split(want, ","), c.name) {
			continue
		}
		t.Run(c.name, func(t *testing.T) { runBrowserCase(t, c) })
	}
}

// startChromium starts a headless Chromium with a fake camera and
// microphone, inside namespace ns when it is not empty.
func startChromium(t *testing.T, ctx context.Context, ns string) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser case skipped: %s not found", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 800),
	}
	if ns != "" {
		opts = append(opts, chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// The same command, run by ip netns exec: the DevTools pipe
			// (file descriptors 3 and 4) is inherited through the exec.
			cmd.Args = append([]string{"ip", "netns", "exec", ns, cmd.Path}, cmd.Args[1:]...)
			cmd.Path = "/usr/sbin/ip"
		}))
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		t.Fatalf("start chromium (namespace %q): %v", ns, err)
	}
	t.Cleanup(func() { bcancel(); acancel() })
	return bctx
}

// subStatsJS is what the subscriber's page knows of the publisher's tracks:
// the decoded video's width and frames, and the audio samples received and
// concealed (inbound-rtp, getStats).
const subStatsJS = `(async () => {
  const p = window.__yzRoom && window.__yzRoom.remoteParticipants.get('pub');
  const out = {width: 0, frames: 0, bytes: 0, samples: 0, concealed: 0};
  if (!p) return out;
  for (const [src, kind] of [['camera', 'video'], ['microphone', 'audio']]) {
    const pub = p.getTrackPublication(src);
    const tr = pub && pub.track;
    if (!tr) continue;
    const rep = await tr.getRTCStatsReport();
    rep && rep.forEach((s) => {
      if (s.type !== 'inbound-rtp' || s.kind !== kind) return;
      if (kind === 'video') { out.width = s.frameWidth || 0; out.frames = s.framesDecoded || 0; out.bytes = s.bytesReceived || 0; }
      else { out.samples = s.totalSamplesReceived || 0; out.concealed = s.concealedSamples || 0; }
    });
  }
  return out;
})()`

type subStats struct {
	Width     int   `json:"width"`
	Frames    int64 `json:"frames"`
	Bytes     int64 `json:"bytes"` // video received
	Samples   int64 `json:"samples"`
	Concealed int64 `json:"concealed"`
}

func concealment(a, b subStats) float64 {
	if b.Samples <= a.Samples {
		return 0
	}
	return float64(b.Concealed-a.Concealed) / float64(b.Samples-a.Samples)
}

func runBrowserCase(t *testing.T, c browserCase) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := newRig(t)
	pubB := startChromium(t, ctx, "")
	subB := startChromium(t, ctx, r.lab.B)
	pub, _ := chromedp.NewContext(pubB)
	sub, _ := chromedp.NewContext(subB)
	if err := chromedp.Do(pub, chromedp.Navigate(r.httpURL+"/room?room="+room+"&identity=pub&name=Pub")); err != nil {
		t.Fatalf("publisher page: %v", err)
	}
	if err := chromedp.Do(sub, chromedp.Navigate(r.httpURLB+"/room?room="+room+"&identity=sub&name=Sub")); err != nil {
		t.Fatalf("subscriber page (in namespace B): %v", err)
	}
	stats := func() subStats {
		var s subStats
		raw, err := chromedp.Run(sub, chromedp.Evaluate[[]byte](subStatsJS, chromedp.EvalAwaitPromise))
		if err == nil {
			err = json.Unmarshal(raw, &s)
		}
		if err != nil {
			t.Fatalf("subscriber stats: %v", err)
		}
		return s
	}

	// Before: the clean link carries the top layer, whatever width it has.
	top := 0
	if d, ok := waitUntil(60*time.Second, func() bool {
		s := stats()
		top = max(top, s.Width)
		return s.Width >= 640 && s.Samples > 0
	}); !ok {
		t.Fatalf("the subscriber decodes no full-size video after %s (width %d)", d, stats().Width)
	}
	time.Sleep(3 * time.Second)
	before, beforeAt := stats(), time.Now()
	top = max(top, before.Width)

	r.udp.SetDelay(c.delay, 0)
	if err := r.lab.Shape(c.rateKbit, c.loss); err != nil {
		t.Fatal(err)
	}
	impairedAt := time.Now()
	left := time.Duration(-1)
	var widths []string
	prev, prevAt := before, beforeAt
	for i := 0; time.Since(impairedAt) < c.hold; i++ {
		s := stats()
		if left < 0 && s.Width > 0 && s.Width < top {
			left = time.Since(impairedAt)
		}
		if i%4 == 0 {
			// decoded width / the server's layer for it / video received (kbit/s)
			l, _ := r.layer()
			kbps := float64(s.Bytes-prev.Bytes) * 8 / time.Since(prevAt).Seconds() / 1000
			widths = append(widths, fmt.Sprintf("%d/%d/%.0f", s.Width, l, kbps))
			prev, prevAt = s, time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	after := stats()
	conc := concealment(before, after)
	res := fmt.Sprintf("%s: top layer %d wide; width/server layer/video kbit/s each second of the hold: %s; audio concealed %.2f %% of %d samples;",
		c.name, top, strings.Join(widths, " "), 100*conc, after.Samples-before.Samples)
	if c.leaveTop {
		res += fmt.Sprintf(" left the top layer %.1f s after the link narrowed;", left.Seconds())
		if left < 0 || left > 5*time.Second+500*time.Millisecond {
			t.Errorf("the subscriber left the top layer after %.1f s (-1: never); want within 5 s", left.Seconds())
		}
	}
	if after.Frames <= before.Frames {
		t.Errorf("no video decoded during the impairment (%d frames)", after.Frames)
	}
	if conc >= 0.02 {
		t.Errorf("%.2f %% of audio concealed; want under 2 %%", 100*conc)
	}

	if err := r.lab.Shape(0, 0); err != nil {
		t.Fatal(err)
	}
	r.udp.SetDelay(0, 0)
	if c.leaveTop {
		d, ok := waitUntil(30*time.Second, func() bool { return stats().Width >= top })
		res += fmt.Sprintf(" back to %d wide %.1f s after recovery (ok %v)", top, d.Seconds(), ok)
	}
	t.Log(res)
	appendResult(res)
}
