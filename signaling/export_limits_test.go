package signaling

// Held is what the server holds for clients now: the numbers row 1 of issue 12 is about.
type Held struct {
	Rooms, Participants, SubscriptionOverrides, PendingTracks, PendingData, WebsocketAddrs int
}

// HeldForTest counts what the server holds.
func (s *Server) HeldForTest() Held {
	var h Held
	s.mu.Lock()
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	h.Rooms = len(rooms)
	for _, r := range rooms {
		r.mu.Lock()
		for _, p := range r.participants {
			h.Participants++
			h.SubscriptionOverrides += len(p.subOverride)
			h.PendingTracks += len(p.pending)
			p.dc.mu.Lock()
			h.PendingData += len(p.dc.pending)
			p.dc.mu.Unlock()
		}
		r.mu.Unlock()
	}
	h.WebsocketAddrs = s.wsAddrs.size()
	return h
}
