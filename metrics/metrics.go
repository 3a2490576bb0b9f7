// Package metrics exposes the server's state to Prometheus at /metrics: live rooms and
// participants, what the SFU forwarded and dropped, join latency, recordings, TURN and
// the HTTP API. It owns a private registry: nothing global, so tests and several servers
// in one process do not collide.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"yizhan/media"
	"yizhan/signaling"
)

const ns = "yizhan"

// TURNStats is what the embedded TURN server reports.
type TURNStats struct {
	Allocations int    // relays in use now
	Refused     uint64 // packets to or from an address that is not the SFU's, since start
}

// Registry holds yizhan's metrics. The Set* sources are read at scrape time, so a
// scrape costs one call of each, whatever the traffic.
type Registry struct {
	reg *prometheus.Registry

	joins       prometheus.Counter
	leaves      prometheus.Counter
	joinLatency prometheus.Histogram
	apiRequests *prometheus.CounterVec
	apiDuration *prometheus.HistogramVec
	quality     *prometheus.CounterVec // connection quality changes, by the new quality

	mu         sync.Mutex // guards the sources below
	live       func() signaling.Stats
	media      func() media.EngineStats
	recordings func() (active, failed int)
	turn       func() TURNStats
	certExpiry func() time.Time

	limitsOnce sync.Once       // registers limits on first use
	limits     *limitCollector // bound counters (limits.go)
}

// New builds a registry with the Go runtime and process collectors and yizhan's metrics.
func New(version string) *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.joins = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "participant_joins_total",
		Help: "Participants that joined a room (websocket admitted).",
	})
	r.leaves = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: ns, Name: "participant_leaves_total",
		Help: "Participants that left a room, for any reason.",
	})
	r.joinLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: ns, Name: "join_latency_seconds",
		Help:    "Time from a participant's join to its media connection being up (ICE and DTLS done).",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30},
	})
	r.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "api_requests_total",
		Help: "HTTP API requests by route (the matched pattern, with its method) and status code.",
	}, []string{"route", "status"})
	r.apiDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: ns, Name: "api_request_duration_seconds",
		Help:    "HTTP API request durations by route.",
		Buckets: []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10},
	}, []string{"route"})
	r.quality = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: ns, Name: "connection_quality_changes_total",
		Help: "Changes of a participant's connection quality, by the quality it changed to (lost: a link went dead).",
	}, []string{"quality"})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: ns, Name: "build_info", Help: "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	info.Set(1)
	r.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		r.joins, r.leaves, r.joinLatency, r.apiRequests, r.apiDuration, r.quality, info,
		sourceCollector{r},
	)
	return r
}

// Handler serves the metrics in the Prometheus text (or OpenMetrics) format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Gatherer is the underlying registry, for tests and extra collectors.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// SetLiveStats sets where rooms, participants and tracks are counted (signaling Stats).
func (r *Registry) SetLiveStats(f func() signaling.Stats) {
	r.mu.Lock()
	r.live = f
	r.mu.Unlock()
}

// SetMediaStats sets where the SFU's counters come from (media Engine.Stats).
func (r *Registry) SetMediaStats(f func() media.EngineStats) {
	r.mu.Lock()
	r.media = f
	r.mu.Unlock()
}

// SetRecordingStats sets where recordings are counted: active now, and failed since start.
func (r *Registry) SetRecordingStats(f func() (active, failed int)) {
	r.mu.Lock()
	r.recordings = f
	r.mu.Unlock()
}

// SetTURNStats sets where the embedded TURN server's counts come from.
func (r *Registry) SetTURNStats(f func() TURNStats) {
	r.mu.Lock()
	r.turn = f
	r.mu.Unlock()
}

// SetCertExpiry sets where the expiry of the TLS certificate being served comes from.
func (r *Registry) SetCertExpiry(f func() time.Time) {
	r.mu.Lock()
	r.certExpiry = f
	r.mu.Unlock()
}

// Observe takes signaling events (signaling.Server.AddObserver): joins, leaves and the
// join latency, measured from JoinedAt to the event that the media connection is up.
func (r *Registry) Observe(ev signaling.Event) {
	switch ev.Kind {
	case signaling.EventJoined:
		r.joins.Inc()
	case signaling.EventLeft:
		r.leaves.Inc()
	case signaling.EventQuality:
		if ev.Quality != "" {
			r.quality.WithLabelValues(ev.Quality).Inc()
		}
	case signaling.EventActive:
		if j := ev.Participant.JoinedAt; !j.IsZero() {
			r.joinLatency.Observe(max(ev.Time.Sub(j).Seconds(), 0))
		}
	}
}
