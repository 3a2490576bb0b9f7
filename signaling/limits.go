package signaling

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Limits bound what one client can make the server remember (issue 12): a participant
// still in the lobby once sent 641 UpdateSubscription messages naming 12,000 made-up
// tracks each and grew the server by 800 MB. Every bound is counted when hit
// (LimitHits, yizhan_limit_hits_total) and listed by `yizhan config check` (Bounds).
// Zero values take the defaults.
type Limits struct {
	SubscriptionOverrides int // per participant: explicit (un)subscriptions remembered, of tracks that exist
	Tracks                int // per participant: tracks published at once
	PendingTracks         int // per participant: add_track announced, media not yet arrived
	PendingDataBytes      int // per participant: data held until its data channel opens
	AttributesBytes       int // per participant: keys and values of its attributes together
	WebsocketsPerAddr     int // signal connections open from one client address
}

// DefaultLimits are generous for a mediation (a handful of participants with a camera,
// a microphone and a screen each) and for a lecture's speakers.
func DefaultLimits() Limits {
	return Limits{
		SubscriptionOverrides: 1024,
		Tracks:                16,
		PendingTracks:         16,
		PendingDataBytes:      1 << 20,
		AttributesBytes:       16 << 10,
		WebsocketsPerAddr:     64,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.SubscriptionOverrides <= 0 {
		l.SubscriptionOverrides = d.SubscriptionOverrides
	}
	if l.Tracks <= 0 {
		l.Tracks = d.Tracks
	}
	if l.PendingTracks <= 0 {
		l.PendingTracks = d.PendingTracks
	}
	if l.PendingDataBytes <= 0 {
		l.PendingDataBytes = d.PendingDataBytes
	}
	if l.AttributesBytes <= 0 {
		l.AttributesBytes = d.AttributesBytes
	}
	if l.WebsocketsPerAddr <= 0 {
		l.WebsocketsPerAddr = d.WebsocketsPerAddr
	}
	return l
}

// Bound is one limit as an operator sees it.
type Bound struct {
	Name  string // as in yizhan_limit_hits_total{limit=...}
	Value int
	What  string
}

// Bounds lists the limits with their names and meaning.
func (l Limits) Bounds() []Bound {
	l = l.withDefaults()
	return []Bound{
		{"signal_subscription_overrides", l.SubscriptionOverrides, "per participant: explicit track (un)subscriptions remembered; unknown tracks are ignored"},
		{"signal_tracks", l.Tracks, "per participant: tracks published at once"},
		{"signal_pending_tracks", l.PendingTracks, "per participant: tracks announced (add_track) whose media has not arrived"},
		{"signal_pending_data_bytes", l.PendingDataBytes, "per participant: data packets held until its data channel opens"},
		{"signal_attributes_bytes", l.AttributesBytes, "per participant: size of its attributes"},
		{"signal_websockets_per_addr", l.WebsocketsPerAddr, "signal websockets open from one client address"},
	}
}

// limitHits counts each bound when it is hit.
type limitHits struct {
	subscriptions, tracks, pendingTracks, pendingData, attributes, websockets atomic.Uint64
}

// LimitHits says how often each bound was hit since start, by Bound name.
func (s *Server) LimitHits() map[string]uint64 {
	h := &s.hits
	return map[string]uint64{
		"signal_subscription_overrides": h.subscriptions.Load(),
		"signal_tracks":                 h.tracks.Load(),
		"signal_pending_tracks":         h.pendingTracks.Load(),
		"signal_pending_data_bytes":     h.pendingData.Load(),
		"signal_attributes_bytes":       h.attributes.Load(),
		"signal_websockets_per_addr":    h.websockets.Load(),
	}
}

func attributesSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// addrCount counts open signal connections per client address.
type addrCount struct {
	mu sync.Mutex // guards n
	n  map[string]int
}

// take counts one more connection from r's address, unless it has max already.
func (a *addrCount) take(r *http.Request, max int) (release func(), ok bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	if a.n[host] >= max {
		return nil, false
	}
	a.n[host]++
	var once sync.Once
	return func() {
		once.Do(func() {
			a.mu.Lock()
			if a.n[host]--; a.n[host] <= 0 {
				delete(a.n, host)
			}
			a.mu.Unlock()
		})
	}, true
}

func (a *addrCount) size() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.n)
}
