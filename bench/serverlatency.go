package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// What yizhan itself adds to a packet, as it measures it (media/latency.go): from the
// kernel's receive time of the packet's datagram (added) or from the packet reaching
// the forwarding path (forward) to the end of the fan-out pass that handed the copies
// to the kernel. sfubench's latency_us fields include both SDKs; these do not.
// livekit-server has no such histograms: the fields stay empty for it.

const (
	addedLatencyMetric = "yizhan_media_added_latency_seconds"
	fwdLatencyMetric   = "yizhan_media_forward_latency_seconds"
)

// latencyBuckets is a Prometheus histogram as scraped: cumulative counts per upper
// bound (seconds), ascending, the last +Inf.
type latencyBuckets struct {
	le, cum    []float64
	count, sum float64
}

// scrapeLatencies reads the latency histograms from a yizhan /metrics, by metric name.
func scrapeLatencies(ctx context.Context, hostport string) (map[string]latencyBuckets, error) {
	out := map[string]*latencyBuckets{addedLatencyMetric: {}, fwdLatencyMetric: {}}
	err := scrapeMetrics(ctx, hostport, func(line string) {
		metric, rest, ok := strings.Cut(line, "_seconds")
		b := out[metric+"_seconds"]
		if !ok || b == nil {
			return
		}
		name, val, ok := strings.Cut(rest, " ")
		if !ok {
			return
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			return
		}
		switch {
		case name == "_count":
			b.count = v
		case name == "_sum":
			b.sum = v
		case strings.HasPrefix(name, `_bucket{le="`):
			le := strings.TrimSuffix(strings.TrimPrefix(name, `_bucket{le="`), `"}`)
			bound, err := strconv.ParseFloat(le, 64)
			if err != nil {
				return
			}
			b.le = append(b.le, bound)
			b.cum = append(b.cum, v)
		}
	})
	if err != nil {
		return nil, err
	}
	res := make(map[string]latencyBuckets, len(out))
	for name, b := range out {
		if len(b.le) == 0 || !slices.IsSorted(b.le) {
			return nil, fmt.Errorf("/metrics has no (sorted) %s buckets", name)
		}
		res[name] = *b
	}
	return res, nil
}

// since is what was recorded after earlier (the same histogram, scraped before).
func (b latencyBuckets) since(earlier latencyBuckets) latencyBuckets {
	d := latencyBuckets{le: b.le, cum: make([]float64, len(b.cum)), count: b.count - earlier.count, sum: b.sum - earlier.sum}
	for i := range b.cum {
		d.cum[i] = b.cum[i]
		if i < len(earlier.cum) {
			d.cum[i] -= earlier.cum[i]
		}
	}
	return d
}

// quantileUs estimates the q-quantile in microseconds, linear inside a bucket (as
// Prometheus' histogram_quantile does); a quantile in the +Inf bucket is reported as
// the highest finite bound. 0 without samples.
func (b latencyBuckets) quantileUs(q float64) float64 {
	if b.count <= 0 {
		return 0
	}
	rank := q * b.count
	prevLe, prevCum := 0.0, 0.0
	for i, le := range b.le {
		if b.cum[i] >= rank {
			if math.IsInf(le, 1) {
				return prevLe * 1e6
			}
			n := b.cum[i] - prevCum
			if n <= 0 {
				return le * 1e6
			}
			return (prevLe + (le-prevLe)*(rank-prevCum)/n) * 1e6
		}
		if !math.IsInf(le, 1) {
			prevLe = le
		}
		prevCum = b.cum[i]
	}
	return prevLe * 1e6
}
