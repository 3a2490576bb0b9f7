package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium process with a fake camera and microphone.
type browser struct {
	t      *testing.T
	ctx    context.Context // the browser; pages are tabs of it
	cancel context.CancelFunc
}

// newBrowser starts Chromium, or skips the test when it is not installed.
func newBrowser(t *testing.T, parent context.Context) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s not found (install chromium to run it)", chromiumPath)
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
		chromedp.Flag("disable-quic", true),
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
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 800),
	}
	actx, acancel := chromedp.NewExecAllocator(parent, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		t.Fatalf("start chromium: %v", err)
	}
	b := &browser{t: t, ctx: bctx, cancel: func() { bcancel(); acancel() }}
	t.Cleanup(b.cancel)
	return b
}

// page is one tab.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
	mu   sync.Mutex
	logs []string // console output, for failures
}

// newPage opens a tab; width/height set the viewport (a phone is 390x844). Tabs share
// cookies and storage, like tabs of one person's browser.
func (b *browser) newPage(name string, width, height int, opts ...chromedp.ContextOption) *page {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	b.t.Cleanup(cancel)
	p := &page{t: b.t, name: name, ctx: ctx}
	msgs := chromedp.Console(ctx) // also opens the tab
	go func() {                   // ends when the tab's context is cancelled
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.log(fmt.Sprintf("console.%s: %s", m.Type, m.Text))
		}
	}()
	vp := []chromedp.EmulateViewportOption{}
	if width < 600 {
		vp = append(vp, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height), vp...)); err != nil {
		b.t.Fatalf("%s: viewport: %v", name, err)
	}
	return p
}

// newPerson opens a tab in a browser context of its own (no shared cookies): a second
// person signed in on the same machine.
func (b *browser) newPerson(name string, width, height int) *page {
	return b.newPage(name, width, height, chromedp.WithNewBrowserContext())
}

func (p *page) log(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.logs) < 400 {
		p.logs = append(p.logs, s)
	}
}

// dump prints the page's console output (call on failure).
func (p *page) dump() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.logs {
		p.t.Logf("[%s] %s", p.name, l)
	}
}

func (p *page) fatalf(format string, args ...any) {
	p.t.Helper()
	p.dump()
	p.screenshot("FAIL-" + p.name)
	p.t.Fatalf("%s: "+format, append([]any{p.name}, args...)...)
}

func (p *page) navigate(url string) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, chromedp.Navigate(url)); err != nil {
		p.fatalf("navigate %s: %v", url, err)
	}
}

// eval runs a JS expression and decodes its (JSON-able) value into out.
func (p *page) eval(expr string, out any) error {
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// waitJS polls a boolean JS expression until it is true or the timeout passes.
func (p *page) waitJS(what, expr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		var ok bool
		if last = p.eval(expr, &ok); last == nil && ok {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.fatalf("timed out after %s waiting for %s (last error: %v)", timeout, what, last)
}

// click clicks the first element matching a CSS selector, once it is visible. A node that
// a live page redrew between finding and clicking is looked up again.
func (p *page) click(sel string) {
	p.t.Helper()
	var err error
	for try := 0; try < 3; try++ {
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.fatalf("click %s: %v", sel, err)
	}
}

// setValue types into an input.
func (p *page) setValue(sel, v string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(sel), v, chromedp.NodeVisible)); err != nil {
		p.fatalf("set %s: %v", sel, err)
	}
}

// screenshot saves the viewport as web/e2e/screenshots/<name>.png.
func (p *page) screenshot(name string) {
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Logf("%s: screenshot %s: %v", p.name, name, err)
		return
	}
	dir := "screenshots"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Logf("screenshot dir: %v", err)
		return
	}
	f := filepath.Join(dir, name+".png")
	if err := os.WriteFile(f, buf, 0o644); err != nil {
		p.t.Logf("write %s: %v", f, err)
	}
}

// remoteVideo is what a page reports about one remote tile's video element.
type remoteVideo struct {
	Identity string `json:"id"`
	Width    int    `json:"w"`
	Frames   int    `json:"f"`
	RVFC     int    `json:"r"`
}

// remoteVideosJS lists remote tiles with their video size and decoded frame counts. The
// requestVideoFrameCallback counter is installed once per element.
const remoteVideosJS = `(() => [...document.querySelectorAll('.tile:not(.local)')].map(t => {
  const v = t.querySelector('video');
  if (v && !v.__rvfc && v.requestVideoFrameCallback) {
    v.__rvfc = 0;
    const f = () => { v.__rvfc++; v.requestVideoFrameCallback(f); };
    v.requestVideoFrameCallback(f);
  }
  const q = v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
  return {id: t.dataset.identity, w: (v && t.classList.contains('has-video')) ? v.videoWidth : 0, f: q, r: (v && v.__rvfc) || 0};
}))()`

func (p *page) remoteVideos() map[string]remoteVideo {
	var list []remoteVideo
	if err := p.eval(remoteVideosJS, &list); err != nil {
		p.t.Logf("%s: remote videos: %v", p.name, err)
		return nil
	}
	m := map[string]remoteVideo{}
	for _, v := range list {
		m[v.Identity] = v
	}
	return m
}

// waitVideoFrom waits until this page renders identity's video: a size and frames that
// keep coming (both the decoded-frame count and requestVideoFrameCallback rise).
func (p *page) waitVideoFrom(identity string, timeout time.Duration) remoteVideo {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var first remoteVideo
	seen := false
	for time.Now().Before(deadline) {
		v, ok := p.remoteVideos()[identity]
		if ok && v.Width > 0 && v.Frames > 0 {
			if !seen {
				first, seen = v, true
			} else if v.Frames > first.Frames+5 && v.RVFC > first.RVFC+5 {
				return v
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.fatalf("no rising video from %s within %s (videos now: %+v)", identity, timeout, p.remoteVideos())
	return remoteVideo{}
}

// waitNoVideoFrom waits until identity's video is no longer rendered here.
func (p *page) waitNoVideoFrom(identity string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		v, ok := p.remoteVideos()[identity]
		if !ok || v.Width == 0 {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.fatalf("still rendering %s's video after %s", identity, timeout)
}
