package signaling

import (
	"fmt"
	"maps"

	"github.com/livekit/protocol/livekit"

	"yizhan/media"
)

// The control API: what the policy layer (mediation) uses to run a room. Every call is
// enforced here, in the server, whatever a client does.

// find returns the room and participant, or ErrNotFound.
func (s *Server) find(roomName, identity string) (*room, *participant, error) {
	r := s.getRoom(roomName)
	if r == nil {
		return nil, nil, fmt.Errorf("room %q: %w", roomName, ErrNotFound)
	}
	r.mu.Lock()
	p := r.participants[identity]
	r.mu.Unlock()
	if p == nil {
		return nil, nil, fmt.Errorf("participant %q in room %q: %w", identity, roomName, ErrNotFound)
	}
	return r, p, nil
}

// Participants lists the room's participants (none for an unknown room).
func (s *Server) Participants(roomName string) []Participant {
	r := s.getRoom(roomName)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Participant, 0, len(r.participants))
	for _, p := range r.participants {
		out = append(out, p.snapshotLocked())
	}
	return out
}

// SetSpace moves a participant. Media and data then flow only within its new space;
// "" is the lobby. The participant learns who it now sees.
func (s *Server) SetSpace(roomName, identity, space string) error {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	r.mu.Lock()
	if p.space == space {
		r.mu.Unlock()
		return nil
	}
	from := p.space
	p.space = space
	p.publishSpaceLocked()
	p.version = r.nextVersionLocked()
	r.broadcastLocked(p, true)
	// What p sees changed: the lobby sees only itself, a space sees everyone.
	var update []*livekit.ParticipantInfo
	for _, q := range r.participants {
		if q == p {
			continue
		}
		switch {
		case from == "" && space != "" && sees(p, q):
			update = append(update, q.infoLocked())
		case from != "" && space == "" && !q.hidden:
			gone := q.infoLocked()
			gone.State = livekit.ParticipantInfo_DISCONNECTED
			update = append(update, gone)
		}
	}
	if len(update) > 0 {
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{Participants: update}}})
	}
	r.mu.Unlock()
	r.reconcile(nil)
	return nil
}

// SetAttributes merges attrs into the participant's attributes ("" deletes a key) and
// tells everyone who sees it.
func (s *Server) SetAttributes(roomName, identity string, attrs map[string]string) error {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next := maps.Clone(p.attributes)
	for k, v := range attrs {
		if v == "" {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	if maps.Equal(next, p.attributes) {
		return nil
	}
	if max := s.cfg.Limits.AttributesBytes; attributesSize(next) > max {
		s.hits.attributes.Add(1)
		return fmt.Errorf("attributes of %s would be over %d bytes", identity, max)
	}
	p.attributes = next
	p.version = r.nextVersionLocked()
	r.broadcastLocked(p, true)
	return nil
}

// SetPermission changes what a participant may do. Revoking publish mutes its tracks at
// the server; revoking subscribe drops what it receives.
func (s *Server) SetPermission(roomName, identity string, perm Permission) error {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	r.mu.Lock()
	p.perm = perm
	p.version = r.nextVersionLocked()
	r.broadcastLocked(p, true)
	var ups []*media.UpTrack
	for _, t := range p.tracks {
		ups = append(ups, t.up)
	}
	r.mu.Unlock()
	if !perm.CanPublish {
		for _, up := range ups {
			up.SetMuted(true)
		}
	}
	r.reconcile(p)
	return nil
}

// SetRoomMetadata replaces the room metadata (our own JSON: recording state, ...).
func (s *Server) SetRoomMetadata(roomName, metadata string) error {
	r := s.getRoom(roomName)
	if r == nil {
		return fmt.Errorf("room %q: %w", roomName, ErrNotFound)
	}
	r.setMetadata(metadata)
	return nil
}

// RoomMetadata returns the room's metadata.
func (s *Server) RoomMetadata(roomName string) (string, error) {
	r := s.getRoom(roomName)
	if r == nil {
		return "", fmt.Errorf("room %q: %w", roomName, ErrNotFound)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.metadata, nil
}

// MuteTrack mutes (or unmutes) a track at the server and asks the client to follow.
// An empty trackSID mutes every track of the participant.
func (s *Server) MuteTrack(roomName, identity, trackSID string, muted bool) error {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	if trackSID != "" {
		return p.setTrackMuted(trackSID, muted, true)
	}
	r.mu.Lock()
	var sids []string
	for sid := range p.tracks {
		sids = append(sids, sid)
	}
	r.mu.Unlock()
	for _, sid := range sids {
		if err := p.setTrackMuted(sid, muted, true); err != nil {
			return err
		}
	}
	return nil
}

// RemoveParticipant disconnects a participant.
func (s *Server) RemoveParticipant(roomName, identity string) error {
	_, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	p.sendLeave(livekit.DisconnectReason_PARTICIPANT_REMOVED)
	return nil
}

// CloseRoom disconnects everyone in the room and forgets it.
func (s *Server) CloseRoom(roomName string) error {
	r := s.getRoom(roomName)
	if r == nil {
		return fmt.Errorf("room %q: %w", roomName, ErrNotFound)
	}
	r.close(livekit.DisconnectReason_ROOM_DELETED)
	return nil
}

// AttachSink makes sink one more subscriber of a published track (the recorder).
// detach removes it; the sink is closed by the up track when the track ends.
func (s *Server) AttachSink(roomName, identity, trackSID string, sink Sink) (detach func(), err error) {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	t := p.tracks[trackSID]
	r.mu.Unlock()
	if t == nil {
		return nil, fmt.Errorf("track %q of %q: %w", trackSID, identity, ErrNotFound)
	}
	return t.up.AddSink(sink), nil
}

// RequestKeyframe asks the publisher of a track for a keyframe (a recorder starting).
func (s *Server) RequestKeyframe(roomName, identity, trackSID string) error {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	r.mu.Lock()
	t := p.tracks[trackSID]
	r.mu.Unlock()
	if t == nil {
		return fmt.Errorf("track %q of %q: %w", trackSID, identity, ErrNotFound)
	}
	t.up.RequestKeyframe()
	return nil
}

// Sink is a non-WebRTC subscriber of a track (the recorder). It is media's, named here
// so that the layers above need not import media.
type Sink = media.Sink
