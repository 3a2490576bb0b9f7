package signaling

import "sync"

// Stats is a point-in-time count of the live state, for metrics.
type Stats struct {
	Rooms        int
	Participants int
	Tracks       int
	Signal       SignalCounts // messages queued to clients since start
	Links        LinkStats    // aggregated over every participant (issue 13)
}

// LinkStats aggregates everyone's links, for metrics: counts, never one series
// per participant.
type LinkStats struct {
	Quality   map[string]int // participants by connection quality (excellent, good, poor, lost)
	Layers    [4]int         // received video tracks by chosen layer: paused, low, medium, high
	Estimates []float64      // downlink estimates (bits per second) of participants receiving media
}

// Stats counts rooms, participants and published tracks now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	st := Stats{Rooms: len(rooms), Signal: s.SignalCounts(), Links: LinkStats{Quality: map[string]int{}}}
	for _, r := range rooms {
		r.mu.Lock()
		st.Participants += len(r.participants)
		for _, p := range r.participants {
			st.Tracks += len(p.tracks)
			st.Links.add(p.link)
		}
		r.mu.Unlock()
	}
	return st
}

// observers are extra listeners of events (metrics, logs), beside the Hooks.
type observers struct {
	mu  sync.RWMutex // guards fns
	fns []func(Event)
}

// AddObserver registers fn to be called with every event, after the hooks, with no
// lock held. fn must be quick.
func (s *Server) AddObserver(fn func(Event)) {
	s.obs.mu.Lock()
	s.obs.fns = append(s.obs.fns, fn)
	s.obs.mu.Unlock()
}

func (o *observers) notify(ev Event) {
	o.mu.RLock()
	fns := o.fns
	o.mu.RUnlock()
	for _, fn := range fns {
		fn(ev)
	}
}

func (l *LinkStats) add(li LinkInfo) {
	if li.Quality != "" {
		l.Quality[li.Quality]++
	}
	for _, layer := range li.Layers {
		l.Layers[max(-1, min(layer, 2))+1]++
	}
	if li.EstimateKbps > 0 && li.SentKbps > 0 {
		l.Estimates = append(l.Estimates, float64(li.EstimateKbps)*1000)
	}
}
