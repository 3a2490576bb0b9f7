package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"yizhan/internal/lktest"
	"yizhan/signaling"
)

// scrapeMetrics returns every sample at url as "name{l=v,...}" -> value (histograms as
// _count and _sum).
func scrapeMetrics(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			suffix := ""
			if len(ls) > 0 {
				suffix = "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[name+suffix] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[name+suffix] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[name+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+suffix] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

// TestMetricsCountASession: two LiveKit SDK clients, one publishing video to the other;
// /metrics shows the joins, the join latencies, the live room, the forwarded packets and
// the keyframe request a new subscriber causes; API requests count by route pattern.
func TestMetricsCountASession(t *testing.T) {
	a := startApp(t, testConfig(t))
	api := http.NewServeMux()
	api.HandleFunc("GET /api/test/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.NotFound(w, r)
		}
	})
	a.mux.Handle("/api/test/", a.instrumentAPI(api))

	connect := func(identity string) *lktest.Client {
		tok, err := a.sig.MintToken(signaling.TokenSpec{Room: "metrics", Identity: identity, TTL: time.Hour, CanPublish: true, CanSubscribe: true})
		if err != nil {
			t.Fatal(err)
		}
		c, err := lktest.Connect("ws://"+a.addr, tok)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	alice := connect("alice")
	pub, err := alice.PublishVP8(lktest.VideoOptions{Name: "camera"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Stop)
	bob := connect("bob")
	waitUntil(t, 20*time.Second, "bob receiving alice's video", func() bool { return bob.PacketsFrom("alice", "video") > 50 })
	for _, path := range []string{"/api/test/1", "/api/test/2", "/api/test/missing", "/api/cases/42", "/api/cases/43"} {
		res, err := http.Get("http://" + a.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	m := scrapeMetrics(t, "http://"+a.deploy().metln.Addr().String()+"/metrics")
	atLeast := map[string]float64{
		"yizhan_participant_joins_total":                                 2,
		"yizhan_join_latency_seconds_count":                              2,
		"yizhan_rooms":                                                   1,
		"yizhan_participants":                                            2,
		"yizhan_tracks":                                                  1,
		"yizhan_media_packets_received_total":                            50,
		"yizhan_media_packets_forwarded_total":                           50,
		"yizhan_media_bytes_forwarded_total":                             50 * 100,
		"yizhan_media_plis_sent_total":                                   1,
		"yizhan_media_forward_latency_seconds_count":                     50, // one per packet per fan-out pass
		"yizhan_api_requests_total{route=GET /api/test/{id},status=200}": 2,
		"yizhan_api_requests_total{route=GET /api/test/{id},status=404}": 1,
	}
	for k, v := range atLeast {
		if m[k] < v {
			t.Errorf("%s = %v, want at least %v", k, m[k], v)
		}
	}
	// The mediation API as mounted by mountParts: labelled by its own mux's pattern.
	var mediationRoute float64
	for k, v := range m {
		if strings.HasPrefix(k, "yizhan_api_requests_total{route=GET /api/cases/{id},") {
			mediationRoute += v
		}
		if strings.Contains(k, "/api/cases/42") {
			t.Errorf("raw path as a label: %s", k)
		}
	}
	if mediationRoute != 2 {
		t.Errorf("mediation API requests counted %v times under GET /api/cases/{id}, want 2", mediationRoute)
	}
	if s := m["yizhan_join_latency_seconds_sum"]; s <= 0 || s > 20 {
		t.Errorf("join latency sum %v s", s)
	}
	if _, ok := m["yizhan_media_dropped_packets_total{reason=muted}"]; !ok {
		t.Error("drops by reason missing")
	}
	if m["yizhan_media_plis_sent_total"] > float64(pub.PLIs.Load())+1 {
		t.Logf("PLIs sent %v, publisher saw %d", m["yizhan_media_plis_sent_total"], pub.PLIs.Load())
	}
}

// TestMetricsPrivate (row 11): by default /metrics is on its own loopback listener, with
// pprof beside it, and not on the public HTTP port; with --metrics-addr "" it is on the
// HTTP port only behind --metrics-token. Before: 200 on the public port by default.
func TestMetricsPrivate(t *testing.T) {
	cfg, err := parseServeFlags([]string{"--dev", "--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0", "--data", t.TempDir()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsAddr != "127.0.0.1:0" || !cfg.Metrics {
		t.Fatalf("default metrics address %q (metrics %v), want a loopback listener", cfg.MetricsAddr, cfg.Metrics)
	}
	cfg.Dev = false // no demo data
	a := startApp(t, cfg)
	if a.deploy().metln == nil {
		t.Fatal("no metrics listener")
	}
	m := scrapeMetrics(t, "http://"+a.deploy().metln.Addr().String()+"/metrics")
	if m["yizhan_build_info{version="+version+"}"] != 1 {
		t.Errorf("no build info on the metrics listener")
	}
	if _, ok := m["yizhan_limit_hits_total{limit=http_conns_per_addr}"]; !ok {
		t.Errorf("bound counters missing from /metrics")
	}
	if body := get(t, "http://"+a.deploy().metln.Addr().String()+"/debug/pprof/goroutine?debug=1", ""); !strings.Contains(body, "goroutine profile") {
		t.Errorf("no pprof on the loopback metrics listener")
	}
	if body := get(t, "http://"+a.addr+"/metrics", ""); strings.Contains(body, "yizhan_build_info") {
		t.Error("metrics served on the HTTP port")
	}
	// make soak's reading aid: a collection and the free pages back, on the metrics listener only
	for addr, want := range map[string]bool{a.deploy().metln.Addr().String(): true, a.addr: false} {
		res, err := http.Post("http://"+addr+"/debug/freeosmemory", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if (res.StatusCode == http.StatusNoContent) != want {
			t.Errorf("POST /debug/freeosmemory on %s: %s (served: want %v)", addr, res.Status, want)
		}
	}
	if body := get(t, "http://"+a.addr+"/debug/pprof/", ""); strings.Contains(body, "goroutine") {
		t.Error("pprof served on the HTTP port")
	}

	// --metrics-addr "" needs a token, and then asks for it.
	cfg2 := testConfig(t)
	cfg2.MetricsAddr = ""
	if err := cfg2.validateHardening(); err == nil || !strings.Contains(err.Error(), "--metrics-token") {
		t.Errorf("--metrics-addr \"\" without a token: %v", err)
	}
	cfg2.MetricsToken = "a-long-enough-metrics-token"
	b := startApp(t, cfg2)
	if body := get(t, "http://"+b.addr+"/metrics", ""); strings.Contains(body, "yizhan_build_info") {
		t.Error("metrics on the HTTP port without the token")
	}
	if body := get(t, "http://"+b.addr+"/metrics", "Bearer a-long-enough-metrics-token"); !strings.Contains(body, "yizhan_build_info") {
		t.Error("metrics refused with the token")
	}
}

func get(t *testing.T, url, auth string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestMetricsAddr: --metrics-addr moves /metrics off the public HTTP port.
func TestMetricsAddr(t *testing.T) {
	cfg := testConfig(t)
	cfg.MetricsAddr = "127.0.0.1:0"
	a := startApp(t, cfg)
	if a.deploy().metln == nil {
		t.Fatal("no metrics listener")
	}
	m := scrapeMetrics(t, "http://"+a.deploy().metln.Addr().String()+"/metrics")
	if m["yizhan_build_info{version="+version+"}"] != 1 {
		t.Errorf("no build info on the metrics listener")
	}
	res, err := http.Get("http://" + a.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(b), "yizhan_build_info") {
		t.Error("metrics still served on the HTTP port")
	}
}
