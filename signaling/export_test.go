package signaling

// DropSignalForTest closes a participant's websocket from the server side, as a
// network failure would.
func (s *Server) DropSignalForTest(room, identity string) bool {
	_, p, err := s.find(room, identity)
	if err != nil {
		return false
	}
	_ = p.signal().ws.Close() // under connMu: a resume may be swapping the connection
	return true
}

// ForgetForTest ends a participant's session silently, as if its resume window ran out.
func (s *Server) ForgetForTest(room, identity string) bool {
	_, p, err := s.find(room, identity)
	if err != nil {
		return false
	}
	p.leave(0)
	return true
}

// LayersFlowingForTest is the mask of simulcast layers arriving for a published track.
func (s *Server) LayersFlowingForTest(room, trackSID string) uint32 {
	r := s.getRoom(room)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.participants {
		if t := p.tracks[trackSID]; t != nil {
			return t.up.Stats().Flowing
		}
	}
	return 0
}
