package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"yizhan/media"
	"yizhan/signaling"
)

// scrape fetches url and returns every sample as "name{l1=v1,l2=v2}" -> value
// (histograms as name_count and name_sum).
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %s %s", url, res.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := name
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[strings.Replace(key, name, name+"_count", 1)] = float64(m.GetHistogram().GetSampleCount())
				out[strings.Replace(key, name, name+"_sum", 1)] = m.GetHistogram().GetSampleSum()
				for _, b := range m.GetHistogram().GetBucket() {
					out[fmt.Sprintf("%s_bucket{le=%g}", name, b.GetUpperBound())] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

func TestRegistryScrape(t *testing.T) {
	r := New("test")
	r.SetLiveStats(func() signaling.Stats {
		return signaling.Stats{Rooms: 2, Participants: 5, Tracks: 7, Links: signaling.LinkStats{
			Quality:   map[string]int{"excellent": 3, "poor": 1, "lost": 1},
			Layers:    [4]int{1, 2, 0, 4},
			Estimates: []float64{250e3, 1.5e6, 3e6},
		}}
	})
	r.SetMediaStats(func() media.EngineStats {
		return media.EngineStats{PacketsIn: 10, BytesIn: 1000, PacketsForwarded: 20, BytesForwarded: 2000,
			DropsMuted: 3, DropsSinkFull: 4, NACKsReceived: 5, PLIsSent: 6, KeyframeRequests: 8, PLIsThrottled: 2,
			Retransmits: 11, NACKMisses: 12, UDPSendCalls: 13, UDPBatched: 14, UDPGSOSends: 15, UDPGSODatagrams: 16,
			RxFast: 17, RxFastDropped: 18, RxFastRTCP: 19, DirectRTP: 20, DirectDrops: 21,
			ForwardLatency: media.LatencyHistogram{BoundsUs: []uint32{100, 2000}, Counts: []uint64{3, 5, 1}, Count: 9, SumNs: 4_500_000},
			AddedLatency:   media.LatencyHistogram{BoundsUs: []uint32{100, 2000}, Counts: []uint64{0, 7, 2}, Count: 9, SumNs: 9_000_000}}
	})
	r.SetRecordingStats(func() (int, int) { return 1, 2 })
	r.SetTURNStats(func() TURNStats { return TURNStats{Allocations: 3, Refused: 9} })
	r.SetCertExpiry(func() time.Time { return time.Unix(1_900_000_000, 0) })

	t0 := time.Now()
	p := signaling.Participant{Identity: "a", JoinedAt: t0}
	r.Observe(signaling.Event{Kind: signaling.EventJoined, Time: t0, Participant: p})
	r.Observe(signaling.Event{Kind: signaling.EventActive, Time: t0.Add(700 * time.Millisecond), Participant: p})
	r.Observe(signaling.Event{Kind: signaling.EventLeft, Time: t0.Add(time.Second), Participant: p})
	r.Observe(signaling.Event{Kind: signaling.EventQuality, Quality: "lost", Participant: p})

	api := http.NewServeMux()
	api.HandleFunc("GET /api/cases/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "404" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	api.HandleFunc("GET /api/events", func(w http.ResponseWriter, r *http.Request) {
		// server-sent events need Flush through the middleware
		w.Header().Set("Content-Type", "text/event-stream")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the middleware: %v", err)
		}
	})
	outer := http.NewServeMux()
	outer.Handle("/api/", r.InstrumentAPI(api))
	outer.Handle("/metrics", r.Handler())
	srv := httptest.NewServer(outer)
	defer srv.Close()
	for _, path := range []string{"/api/cases/1", "/api/cases/2", "/api/cases/404", "/api/events", "/api/nothing"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	got := scrape(t, srv.URL+"/metrics")
	want := map[string]float64{
		"yizhan_rooms": 2, "yizhan_participants": 5, "yizhan_tracks": 7,
		"yizhan_media_packets_received_total":                             10,
		"yizhan_media_packets_forwarded_total":                            20,
		"yizhan_media_bytes_forwarded_total":                              2000,
		"yizhan_media_dropped_packets_total{reason=muted}":                3,
		"yizhan_media_dropped_packets_total{reason=sink_full}":            4,
		"yizhan_media_dropped_packets_total{reason=padding}":              0,
		"yizhan_media_nacks_received_total":                               5,
		"yizhan_media_plis_sent_total":                                    6,
		"yizhan_media_retransmits_total":                                  11,
		"yizhan_media_nack_misses_total":                                  12,
		"yizhan_media_udp_send_calls_total":                               13,
		"yizhan_media_udp_datagrams_sent_total":                           14,
		"yizhan_media_udp_gso_sends_total":                                15,
		"yizhan_media_udp_gso_datagrams_total":                            16,
		"yizhan_media_fast_received_packets_total":                        17,
		"yizhan_media_fast_refused_packets_total":                         18,
		"yizhan_media_fast_rtcp_packets_total":                            19,
		"yizhan_media_direct_sent_packets_total":                          20,
		"yizhan_media_direct_dropped_packets_total":                       21,
		"yizhan_media_keyframe_requests_total":                            8,
		"yizhan_media_forward_latency_seconds_count":                      9,
		"yizhan_media_forward_latency_seconds_sum":                        0.0045,
		"yizhan_media_forward_latency_seconds_bucket{le=0.0001}":          3,
		"yizhan_media_forward_latency_seconds_bucket{le=0.002}":           8,
		"yizhan_media_forward_latency_seconds_bucket{le=+Inf}":            9,
		"yizhan_media_added_latency_seconds_bucket{le=0.002}":             7,
		"yizhan_media_added_latency_seconds_sum":                          0.009,
		"yizhan_recordings_active":                                        1,
		"yizhan_recordings_failed_total":                                  2,
		"yizhan_turn_allocations":                                         3,
		"yizhan_turn_refused_packets_total":                               9,
		"yizhan_participant_joins_total":                                  1,
		"yizhan_participant_leaves_total":                                 1,
		"yizhan_join_latency_seconds_count":                               1,
		"yizhan_join_latency_seconds_sum":                                 0.7,
		"yizhan_api_requests_total{route=GET /api/cases/{id},status=200}": 2,
		"yizhan_api_requests_total{route=GET /api/cases/{id},status=404}": 1,
		"yizhan_api_requests_total{route=GET /api/events,status=200}":     1,
		"yizhan_api_requests_total{route=unmatched,status=404}":           1,
		"yizhan_build_info{version=test}":                                 1,
		"yizhan_tls_certificate_expiry_timestamp_seconds":                 1_900_000_000,
		// weak links: aggregated, never one series per participant
		"yizhan_participants_by_quality{quality=excellent}":     3,
		"yizhan_participants_by_quality{quality=good}":          0,
		"yizhan_participants_by_quality{quality=lost}":          1,
		"yizhan_subscribed_video_layers{layer=paused}":          1,
		"yizhan_subscribed_video_layers{layer=low}":             2,
		"yizhan_subscribed_video_layers{layer=high}":            4,
		"yizhan_subscriber_bandwidth_estimate_bps_count":        3,
		"yizhan_subscriber_bandwidth_estimate_bps_sum":          4.75e6,
		"yizhan_connection_quality_changes_total{quality=lost}": 1,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	for k := range got {
		if strings.Contains(k, "/api/cases/1") || strings.Contains(k, "/api/nothing") {
			t.Errorf("raw path used as a label: %s", k)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

// TestNoSources: a registry whose sources are not set yet still serves.
func TestNoSources(t *testing.T) {
	srv := httptest.NewServer(New("x").Handler())
	defer srv.Close()
	got := scrape(t, srv.URL)
	if _, ok := got["yizhan_rooms"]; ok {
		t.Error("rooms reported without a source")
	}
	if got["yizhan_build_info{version=x}"] != 1 {
		t.Error("no build info")
	}
}
