package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestUDPBatching: the send counters are read from /metrics text and turned
// into the window's ratios.
func TestUDPBatching(t *testing.T) {
	body := "# HELP x\nyizhan_media_udp_send_calls_total 10\nyizhan_media_udp_datagrams_sent_total 100\n" +
		"yizhan_media_udp_gso_sends_total 20\nyizhan_media_udp_gso_datagrams_total 90\nyizhan_media_udp_send_calls_totalx 5\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
	defer srv.Close()
	after, err := scrapeCounters(context.Background(), strings.TrimPrefix(srv.URL, "http://"), udpCounterNames)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]float64{"yizhan_media_udp_send_calls_total": 5, "yizhan_media_udp_datagrams_sent_total": 40,
		"yizhan_media_udp_gso_sends_total": 10, "yizhan_media_udp_gso_datagrams_total": 30}
	var res Result
	udpBatching(&res, before, after)
	if res.ServerDatagramsPerCall != 12 || res.ServerGSODatagramsPerMsg != 6 || res.ServerGSOShare != 1 {
		t.Fatalf("got %v per call, %v per GSO message, share %v; want 12, 6, 1", res.ServerDatagramsPerCall, res.ServerGSODatagramsPerMsg, res.ServerGSOShare)
	}
}
