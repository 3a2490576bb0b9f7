package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
)

// scrapeMetrics reads a yizhan /metrics (the server's loopback metrics listener) and
// hands each line of the text exposition to line. The three readers of it (signal
// messages, UDP counters, latency histograms) differ only in what they pick out.
func scrapeMetrics(ctx context.Context, hostport string, line func(string)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+hostport+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line(sc.Text())
	}
	return sc.Err()
}
