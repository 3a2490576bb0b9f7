package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

var descLimitHits = desc("limit_hits_total", "Times a bound on what clients may make the server hold or do was hit (issue 12), by bound; `yizhan config check` lists them.", "limit")

// limitCollector reads the bound counters of every part at scrape time.
type limitCollector struct {
	mu      sync.Mutex // guards sources
	sources []func() map[string]uint64
}

func (c *limitCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descLimitHits }

func (c *limitCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	srcs := append([]func() map[string]uint64(nil), c.sources...)
	c.mu.Unlock()
	total := map[string]uint64{}
	for _, f := range srcs {
		for k, v := range f() {
			total[k] += v
		}
	}
	for k, v := range total {
		ch <- prometheus.MustNewConstMetric(descLimitHits, prometheus.CounterValue, float64(v), k)
	}
}

// AddLimitSource adds a part's bound counters (name -> times hit since start) to
// yizhan_limit_hits_total.
func (r *Registry) AddLimitSource(f func() map[string]uint64) {
	r.limitsOnce.Do(func() {
		r.limits = &limitCollector{}
		r.reg.MustRegister(r.limits)
	})
	r.limits.mu.Lock()
	r.limits.sources = append(r.limits.sources, f)
	r.limits.mu.Unlock()
}
