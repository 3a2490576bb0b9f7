package signaling

import "sync"

// Stats is a point-in-time count of the live state, for metrics.
type Stats struct {
	Rooms        int
	Participants int
	Tracks       int
	Signal       SignalCounts // messages queued to clients since start
}

// Stats counts rooms, participants and published tracks now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	st := Stats{Rooms: len(rooms), Signal: s.SignalCounts()}
	for _, r := range rooms {
		r.mu.Lock()
		st.Participants += len(r.participants)
		for _, p := range r.participants {
			st.Tracks += len(p.tracks)
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
