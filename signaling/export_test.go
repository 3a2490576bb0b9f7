package signaling

// DropSignalForTest closes a participant's websocket from the server side, as a
// network failure would.
func (s *Server) DropSignalForTest(room, identity string) bool {
	_, p, err := s.find(room, identity)
	if err != nil {
		return false
	}
	_ = p.conn.ws.Close()
	return true
}
