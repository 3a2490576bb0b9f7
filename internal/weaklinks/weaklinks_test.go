//go:build linux

package weaklinks_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/internal/netlab"
	"yizhan/media"
	"yizhan/signaling"
	"yizhan/web"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	apiKey    = "wlkey"
	apiSecret = "wlsecret-wlsecret-wlsecret-0123456"
	room      = "weak"
)

// A case: the subscriber's downlink during the impairment, and the layer that
// fits it (-1: no layer to check, the link has room but loses packets).
type linkCase struct {
	name          string
	rateKbit      int
	loss          float64
	delay, jitter time.Duration // for the whole case
	hold          time.Duration
	fit           int
	quick         bool // run by plain `go test` too
}

// Publisher layers (kbit/s): low, medium, high. Audio is RED, about 70 kbit/s
// with headers: low video plus audio fits 200 kbit/s, medium does not fit 300.
var layersKbps = [3]int{100, 350, 900}

var cases = []linkCase{
	{name: "300kbit_40ms", rateKbit: 300, delay: 40 * time.Millisecond, hold: 20 * time.Second, fit: 0},
	{name: "loss_5pct", loss: 0.05, hold: 15 * time.Second, fit: -1, quick: true},
	{name: "loss_10pct", loss: 0.10, hold: 20 * time.Second, fit: -1},
	{name: "jitter_80ms", jitter: 80 * time.Millisecond, hold: 20 * time.Second, fit: -1},
	{name: "drop_200kbit_20s", rateKbit: 200, hold: 20 * time.Second, fit: 0},
}

func TestWeakLinks(t *testing.T) {
	// YIZHAN_WEAKLINKS=all runs every case; a comma-separated list of case
	// names runs those (for measuring one case again and again).
	want := os.Getenv("YIZHAN_WEAKLINKS")
	all := want == "all"
	for _, c := range cases {
		picked := all || (want == "" && c.quick) || slices.Contains(strings.Split(want, ","), c.name)
		if !picked {
			continue
		}
		t.Run(c.name, func(t *testing.T) { runCase(t, c) })
	}
	if !all {
		t.Log("only the quick case ran; YIZHAN_WEAKLINKS=all (make test-weaklinks) runs every case")
	}
}

// rig is the server on the host's loopback, reachable from namespace B through relays in A.
type rig struct {
	lab  *netlab.Lab
	sig  *signaling.Server
	udp  *netlab.UDPRelay
	tcp  *netlab.TCPRelay
	url  string // for clients on the host
	urlB string // for the subscriber in B
	// the web app, for browsers: on the host, and from B
	httpURL, httpURLB string
}

func newRig(t *testing.T) *rig {
	lab, err := netlab.New()
	if err != nil {
		t.Skipf("no impaired link here: %v", err)
	}
	t.Cleanup(lab.Close)
	log := slog.New(slog.DiscardHandler)
	switch os.Getenv("YIZHAN_TEST_LOG") {
	case "":
	case "debug": // the estimator's trace too
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	default:
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1", NodeIP: lab.AddrA, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	sig := signaling.NewServer(signaling.Config{APIKey: apiKey, APISecret: apiSecret, Logger: log,
		RoomEmptyTimeout: time.Second, TokenRefresh: time.Minute}, eng)
	// The signal and, for the browser cases, the web app with a token
	// endpoint (as the dev server has) on one port.
	mux := http.NewServeMux()
	mux.Handle("/rtc", sig.Handler())
	mux.Handle("/rtc/", sig.Handler())
	mux.HandleFunc("GET /dev/token", func(w http.ResponseWriter, req *http.Request) {
		q := req.URL.Query()
		tok, err := sig.MintToken(signaling.TokenSpec{Room: q.Get("room"), Identity: q.Get("identity"), Name: q.Get("name"),
			TTL: time.Hour, CanPublish: true, CanSubscribe: true, CanPublishData: true})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"url": "ws://" + req.Host + "/", "token": tok})
	})
	mux.Handle("/", web.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { sig.Close(); hs.Close(); _ = eng.Close() })
	udpPort := eng.UDPAddr().Port
	_, httpPort, _ := net.SplitHostPort(strings.TrimPrefix(hs.URL, "http://"))
	r := &rig{lab: lab, sig: sig, url: "ws://" + strings.TrimPrefix(hs.URL, "http://"), urlB: "ws://" + net.JoinHostPort(lab.AddrA, httpPort),
		httpURL: hs.URL, httpURLB: "http://" + net.JoinHostPort(lab.AddrA, httpPort)}
	if r.udp, err = netlab.NewUDPRelay(lab.A, net.JoinHostPort(lab.AddrA, strconv.Itoa(udpPort)), eng.UDPAddr().String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.udp.Close)
	if r.tcp, err = netlab.NewTCPRelay(lab.A, net.JoinHostPort(lab.AddrA, httpPort), strings.TrimPrefix(hs.URL, "http://")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.tcp.Close)
	return r
}

func (r *rig) token(t *testing.T, identity string, publish bool) string {
	tok, err := r.sig.MintToken(signaling.TokenSpec{Room: room, Identity: identity, Name: identity,
		CanPublish: publish, CanSubscribe: true, CanPublishData: true, TTL: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// subscriber is the helper process in B and its latest samples.
type subscriber struct {
	mu      sync.Mutex
	samples []timedSample
	stderr  strings.Builder
}

type timedSample struct {
	at time.Time
	s  sample
}

func (s *subscriber) at(t time.Time) (sample, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best sample
	ok := false
	for _, x := range s.samples {
		if x.at.After(t) {
			break
		}
		best, ok = x.s, true
	}
	return best, ok
}

func (s *subscriber) latest() (sample, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return sample{}, time.Time{}
	}
	x := s.samples[len(s.samples)-1]
	return x.s, x.at
}

func startSubscriber(t *testing.T, r *rig) *subscriber {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sub := &subscriber{}
	cmd := netlab.Command(r.lab.B, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "YZ_URL="+r.urlB, "YZ_TOKEN="+r.token(t, "sub", false))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = &lockedWriter{mu: &sub.mu, w: &sub.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the helper exits
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var s sample
			if json.Unmarshal(sc.Bytes(), &s) == nil {
				sub.mu.Lock()
				sub.samples = append(sub.samples, timedSample{at: time.Now(), s: s})
				sub.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			sub.mu.Lock()
			t.Logf("subscriber stderr:\n%s", sub.stderr.String())
			sub.mu.Unlock()
		}
	})
	return sub
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// layer is the layer the server chose for the subscriber's video (-1 paused,
// -2 unknown) and its downlink estimate.
func (r *rig) layer() (int, int) {
	for _, p := range r.sig.Participants(room) {
		if p.Identity == "sub" && len(p.Link.Layers) > 0 {
			return p.Link.Layers[0], p.Link.EstimateKbps
		}
	}
	return -2, 0
}

// videoKbps is the subscriber's received video rate over the second before now.
func (s *subscriber) videoKbps() float64 {
	cur, at := s.latest()
	prev, ok := s.at(at.Add(-time.Second))
	if !ok || cur.Ms == prev.Ms {
		return 0
	}
	return float64(cur.VideoBytes-prev.VideoBytes) * 8 / float64(cur.Ms-prev.Ms)
}

// audioLoss is the share of audio frames the decoder misses between two
// samples (after RED), and the share of packets lost on the wire.
func audioLoss(a, b sample) (decoder, wire float64, frames int64) {
	exp := int64(b.AudioMax) - int64(a.AudioMax)
	got := b.AudioFrames - a.AudioFrames
	if exp > 0 {
		decoder = max(0, 1-float64(got)/float64(exp))
	}
	pexp := b.SeqMax - a.SeqMax
	if pexp > 0 {
		wire = max(0, 1-float64(b.AudioPkts-a.AudioPkts)/float64(pexp))
	}
	return decoder, wire, exp
}

func waitUntil(d time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < d {
		if cond() {
			return time.Since(start), true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start), false
}

func runCase(t *testing.T, c linkCase) {
	r := newRig(t)
	r.udp.SetDelay(c.delay, c.jitter)
	pub, err := lktest.Connect(r.url, r.token(t, "pub", true), lktest.WithRED())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	if _, err := pub.PublishRED("microphone"); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.PublishSimulcastVP8("camera", layersKbps); err != nil {
		t.Fatal(err)
	}
	sub := startSubscriber(t, r)

	// Before: the clean link carries the best layer.
	if d, ok := waitUntil(30*time.Second, func() bool { l, _ := r.layer(); return l == 2 && sub.videoKbps() > 600 }); !ok {
		l, est := r.layer()
		t.Fatalf("not on the best layer on a clean link after %s: layer %d, estimate %d kbit/s, video %.0f kbit/s", d, l, est, sub.videoKbps())
	}
	time.Sleep(2 * time.Second)

	// The link turns bad.
	if err := r.lab.Shape(c.rateKbit, c.loss); err != nil {
		t.Fatal(err)
	}
	if c.jitter == 0 && c.delay == 0 && c.rateKbit == 0 && c.loss == 0 {
		t.Fatal("a case must impair something")
	}
	impairedAt := time.Now()
	res := fmt.Sprintf("%s:", c.name)
	if c.fit >= 0 {
		d, ok := waitUntil(c.hold, func() bool { l, _ := r.layer(); return l <= c.fit })
		res += fmt.Sprintf(" to a fitting layer in %.1f s;", d.Seconds())
		if !ok || d > 5*time.Second+500*time.Millisecond {
			t.Errorf("subscriber moved to a fitting layer after %.1f s (ok %v); want within 5 s", d.Seconds(), ok)
		}
	}
	// Sample the layer through the hold.
	counts := map[int]int{}
	var timeline []string // layer/estimate each second, for the log
	for i := 0; time.Since(impairedAt) < c.hold; i++ {
		l, e := r.layer()
		counts[l]++
		if i%5 == 0 {
			cur, _ := sub.latest()
			prev, _ := sub.at(time.Now().Add(-time.Second))
			_, w, _ := audioLoss(prev, cur)
			timeline = append(timeline, fmt.Sprintf("%d/%d/%.0f/%.0f%%", l, e, sub.videoKbps(), 100*w))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("layer/estimate/video received (kbit/s)/audio wire loss each second of the hold: %s", strings.Join(timeline, " "))
	_, est := r.layer()
	kbps := sub.videoKbps()
	a, okA := sub.at(impairedAt.Add(time.Second))
	b, _ := sub.latest()
	if !okA || b.Ms == 0 {
		t.Fatal("no samples from the subscriber")
	}
	dec, wire, frames := audioLoss(a, b)
	total := 0
	for _, n := range counts {
		total += n
	}
	share := func(l int) float64 { return 100 * float64(counts[l]) / float64(max(total, 1)) }
	res += fmt.Sprintf(" audio: %d frames, %.2f %% lost on the wire, %.2f %% missed by the decoder (RED);"+
		" layers during the hold: paused %.0f %%, low %.0f %%, medium %.0f %%, high %.0f %%; estimate %d kbit/s; video at the end %.0f kbit/s;",
		frames, 100*wire, 100*dec, share(-1), share(0), share(1), share(2), est, kbps)
	if frames < int64(c.hold/(20*time.Millisecond))/2 {
		t.Errorf("audio stopped flowing: %d frames in %s", frames, c.hold)
	}
	if dec >= 0.02 {
		t.Errorf("the decoder missed %.2f %% of audio frames; want under 2 %%", 100*dec)
	}

	// The link recovers.
	if err := r.lab.Shape(0, 0); err != nil {
		t.Fatal(err)
	}
	r.udp.SetDelay(0, 0)
	d, ok := waitUntil(25*time.Second, func() bool { l, _ := r.layer(); return l == 2 && sub.videoKbps() > 600 })
	res += fmt.Sprintf(" back to the best layer %.1f s after recovery", d.Seconds())
	if !ok || d > 15*time.Second {
		t.Errorf("back on the best layer after %.1f s (ok %v); want within 15 s", d.Seconds(), ok)
	}
	t.Log(res)
	appendResult(res)
}

// appendResult keeps the measured numbers for the issue note when asked to.
func appendResult(line string) {
	path := os.Getenv("YIZHAN_WEAKLINKS_OUT")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, time.Now().UTC().Format(time.RFC3339), line)
}
