package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// inboundWidthJS is the frameWidth of the inbound video from one identity (getStats), 0 if none.
const inboundWidthJS = `(async (id) => {
  const p = window.__yzRoom.remoteParticipants.get(id);
  const pub = p && p.getTrackPublication('camera');
  const tr = pub && pub.track;
  if (!tr) return 0;
  const rep = await tr.getRTCStatsReport();
  let w = 0;
  rep && rep.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video' && s.frameWidth) w = s.frameWidth; });
  return w;
})`

// outboundBytesJS sums bytesSent of the local camera's simulcast encodings.
const outboundBytesJS = `(async () => {
  const pub = window.__yzRoom.localParticipant.getTrackPublication('camera');
  const tr = pub && pub.track;
  if (!tr || !tr.sender) return 0;
  const rep = await tr.sender.getStats();
  let b = 0;
  rep.forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') b += s.bytesSent; });
  return b;
})()`

// TestAdaptiveStreamTile: livekit-client with adaptiveStream: true and dynacast: true
// (the app's room settings). A 160x90 tile receives the small simulcast layer and a
// large one the full layer (frameWidth in getStats); a hidden tile makes the publisher
// stop sending video at all, and showing it brings the video back.
func TestAdaptiveStreamTile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	b := newBrowser(t, ctx)
	srv, gate := roomServer(t)

	alice := b.newPage("alice", 1280, 800)
	bob := b.newPage("bob", 1280, 800)
	alice.navigate(srv.URL + "/room?room=adapt&identity=alice&name=Alice")
	bob.navigate(srv.URL + "/room?room=adapt&identity=bob&name=Bob")
	bob.waitVideoFrom("alice", 45*time.Second)

	width := func() int {
		var w int
		if err := bob.eval(inboundWidthJS+`('alice')`, &w); err != nil {
			t.Fatalf("stats: %v", err)
		}
		return w
	}
	// why says, when bob does not get the layer he should, what each side
	// does: alice's encodings, bob's wish, the server's allocation, bob's receiver.
	why := func() string {
		var enc string
		_ = alice.eval(`(async () => {
  const tr = window.__yzRoom.localParticipant.getTrackPublication('camera').track;
  const rep = await tr.sender.getStats();
  const out = [];
  rep.forEach((s) => { if (s.type === 'outbound-rtp') out.push(s.rid + ':' + (s.frameWidth || 0) + 'px,' + s.bytesSent + 'B,' + s.qualityLimitationReason); });
  return out.join(' ');
})()`, &enc)
		var dims string
		_ = bob.eval(`(() => { const p = window.__yzRoom.remoteParticipants.get('alice').getTrackPublication('camera');
  return 'dims=' + JSON.stringify(p.dimensions) + ' quality=' + p.videoQuality + ' state=' + (p.track && p.track.streamState); })()`, &dims)
		server := ""
		for _, p := range gate.sig.Participants("adapt") {
			server += fmt.Sprintf(" %s: layers %v estimate %d kbit/s sent %d kbit/s;", p.Identity, p.Link.Layers, p.Link.EstimateKbps, p.Link.SentKbps)
		}
		// what bob's receiver does over one second: is the top layer's data
		// arriving (kbit/s), decoded (frames), asked for again (PLIs)?
		inbound := `(async () => {
  const pub = window.__yzRoom.remoteParticipants.get('alice').getTrackPublication('camera');
  const rep = await pub.track.getRTCStatsReport();
  let o = {};
  rep.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') o = {b: s.bytesReceived, f: s.framesDecoded, k: s.keyFramesDecoded, d: s.framesDropped || 0, p: s.pliCount, n: s.nackCount, w: s.frameWidth}; });
  return JSON.stringify(o);
})()`
		var in0, in1 string
		_ = bob.eval(inbound, &in0)
		time.Sleep(time.Second)
		_ = bob.eval(inbound, &in1)
		return fmt.Sprintf("alice's encodings: %s; bob's publication: %s; server:%s; bob's inbound video a second apart: %s %s",
			enc, dims, server, in0, in1)
	}
	waitWidth := func(what string, ok func(int) bool, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for time.Since(start) < within {
			if w := width(); ok(w) {
				t.Logf("%s: frameWidth %d after %.1f s", what, w, time.Since(start).Seconds())
				return time.Since(start)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s: frameWidth %d after %s; %s", what, width(), within, why())
		return 0
	}
	big := 0
	waitWidth("large tile", func(w int) bool { big = w; return w >= 600 }, 20*time.Second)

	// The tile shrinks to a thumbnail: the small layer (a quarter of the width or less).
	shrink := `document.querySelector('.tile[data-identity="alice"]').style.cssText = 'width:160px;height:90px;flex:none;aspect-ratio:auto'; true`
	if err := bob.eval(shrink, nil); err != nil {
		t.Fatal(err)
	}
	waitWidth("160x90 tile", func(w int) bool { return w > 0 && w <= big/2 }, 10*time.Second)
	if err := bob.eval(`document.querySelector('.tile[data-identity="alice"]').style.cssText = ''; true`, nil); err != nil {
		t.Fatal(err)
	}
	// Back to the full layer: the server switches as soon as the publisher sends it again
	// (TestAdaptiveStream and TestDynacast in package signaling hold that); Chrome's
	// encoder, its layers stopped by dynacast a moment ago, sometimes ramps them up slowly
	// (its own send-side estimate), so here it is measured, not asserted.
	upStart := time.Now()
	for width() < big && time.Since(upStart) < 15*time.Second {
		time.Sleep(200 * time.Millisecond)
	}
	if w := width(); w >= big {
		t.Logf("large tile again: frameWidth %d after %.1f s", w, time.Since(upStart).Seconds())
	} else {
		t.Logf("large tile again: still frameWidth %d after 15 s; %s", w, why())
	}

	// Hidden: nobody watches alice's camera, so alice stops sending it (dynacast).
	rate := func() float64 {
		var b0, b1 float64
		_ = alice.eval(outboundBytesJS, &b0)
		time.Sleep(500 * time.Millisecond)
		_ = alice.eval(outboundBytesJS, &b1)
		return (b1 - b0) * 8 / 0.5 / 1000
	}
	before := rate()
	if err := bob.eval(`document.querySelector('.tile[data-identity="alice"]').style.display = 'none'; true`, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		if k := rate(); k < 10 {
			t.Logf("alice stopped sending video %.1f s after her only viewer hid the tile (was %.0f kbit/s)", time.Since(start).Seconds(), before)
			break
		}
		if time.Since(start) > 8*time.Second {
			t.Fatalf("alice still sends %.0f kbit/s of video 8 s after the tile was hidden", rate())
		}
	}
	if d := time.Since(start); d > 6*time.Second {
		// 3 s is the goal (TestDynacast holds the server's part); the margin is for the
		// page's own visibility debounce and a loaded machine.
		t.Errorf("the publisher stopped %.1f s after the tile was hidden; want within 3 s (+ margin)", d.Seconds())
	}
	if err := bob.eval(`document.querySelector('.tile[data-identity="alice"]').style.display = ''; true`, nil); err != nil {
		t.Fatal(err)
	}
	// Video flows again: frames decoded from alice's inbound stream rise (what the
	// server and the publisher control; the page's element may take its time to repaint).
	decoded := func() float64 {
		var n float64
		_ = bob.eval(`(async () => {
  const pub = window.__yzRoom.remoteParticipants.get('alice').getTrackPublication('camera');
  const rep = pub && pub.track ? await pub.track.getRTCStatsReport() : null;
  let n = 0;
  rep && rep.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded; });
  return n;
})()`, &n)
		return n
	}
	d0, shown := decoded(), time.Now()
	// (ten frames: after its layers were all stopped, Chrome sometimes ramps up slowly,
	// and a layer sending under one frame a second counts as stopped; see issue-13 notes)
	for decoded() < d0+10 {
		if time.Since(shown) > 20*time.Second {
			var st string
			_ = bob.eval(`(() => { const p = window.__yzRoom.remoteParticipants.get('alice').getTrackPublication('camera');
  return 'enabled=' + p.isEnabled + ' subscribed=' + p.isSubscribed + ' state=' + (p.track && p.track.streamState) + ' dims=' + JSON.stringify(p.dimensions); })()`, &st)
			t.Fatalf("no video decoded from alice 20 s after the tile came back (%.0f frames then, %.0f now); alice sends %.0f kbit/s; bob's publication: %s",
				d0, decoded(), rate(), st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("video decoded again %.1f s after the tile came back", time.Since(shown).Seconds())
	if k := rate(); k < 50 {
		t.Errorf("alice sends %.0f kbit/s after the tile came back", k)
	}
	// Audio: no concealment on a clean link. (Chrome publishes RED here — the server's
	// answer prefers it, see media.TestPreferRED — but getStats names the decoded codec.)
	var concealed float64
	if err := bob.eval(`(async () => {
  const pub = window.__yzRoom.remoteParticipants.get('alice').getTrackPublication('microphone');
  const rep = await pub.track.getRTCStatsReport();
  let c = 0, n = 0;
  rep.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') { c = s.concealedSamples; n = s.totalSamplesReceived; } });
  return n ? c / n : 1;
})()`, &concealed); err != nil {
		t.Fatal(err)
	}
	t.Logf("bob's audio from alice: %.2f %% concealed", 100*concealed)
	// The app shows each person's connection quality on their tile.
	bob.waitJS("quality on alice's tile", `['excellent','good'].includes(document.querySelector('.tile[data-identity="alice"]').dataset.quality)`, 10*time.Second)
	bob.waitJS("bob's own quality", `['excellent','good'].includes(document.querySelector('.call').dataset.quality)`, 10*time.Second)
}
