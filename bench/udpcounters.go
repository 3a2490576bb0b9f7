package bench

import (
	"context"
	"strconv"
	"strings"
)

// yizhan's ICE UDP socket counters (media/stats.go, /metrics): send system calls,
// the datagrams they carried, and of those the messages that carried several
// datagrams to one subscriber with UDP GSO and the datagrams in them.
var udpCounterNames = []string{
	"yizhan_media_udp_send_calls_total",
	"yizhan_media_udp_datagrams_sent_total",
	"yizhan_media_udp_gso_sends_total",
	"yizhan_media_udp_gso_datagrams_total",
}

// scrapeCounters reads the named counters (without labels) from a yizhan /metrics;
// a counter the server does not export is absent.
func scrapeCounters(ctx context.Context, hostport string, names []string) (map[string]float64, error) {
	out := map[string]float64{}
	err := scrapeMetrics(ctx, hostport, func(line string) {
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			return
		}
		for _, n := range names {
			if name == n {
				if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					out[n] = v
				}
			}
		}
	})
	return out, err
}

// udpBatching puts the window's datagrams per send call and GSO use in res, from
// counters scraped before and after it.
func udpBatching(res *Result, before, after map[string]float64) {
	d := func(i int) float64 { return after[udpCounterNames[i]] - before[udpCounterNames[i]] }
	calls, sent, gso, gsoSent := d(0), d(1), d(2), d(3)
	if calls > 0 {
		res.ServerDatagramsPerCall = round(sent/calls, 2)
	}
	if gso > 0 {
		res.ServerGSODatagramsPerMsg = round(gsoSent/gso, 2)
	}
	if sent > 0 {
		res.ServerGSOShare = round(gsoSent/sent, 3)
	}
}
