package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for _, n := range names {
			if name == n {
				if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
					out[n] = v
				}
			}
		}
	}
	return out, sc.Err()
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
