package signaling

import (
	"fmt"

	"github.com/livekit/protocol/livekit"
)

// A host's mute that sticks (issue 12, row 9). MuteTrack is a soft mute: the participant
// may unmute itself, as in LiveKit. LockSources mutes a participant's tracks of some
// sources at the server and keeps them muted until unlocked: an unmute from the client
// is refused (it is told, with a server mute and a NOT_ALLOWED answer), and a track of
// a locked source published later, or after a rejoin, starts muted. Locks belong to the
// room, by identity, so leaving and rejoining does not lift them.

// Source names, as in Track.Source.
var sourceByName = map[string]livekit.TrackSource{
	"camera":             livekit.TrackSource_CAMERA,
	"microphone":         livekit.TrackSource_MICROPHONE,
	"screen_share":       livekit.TrackSource_SCREEN_SHARE,
	"screen_share_audio": livekit.TrackSource_SCREEN_SHARE_AUDIO,
}

// LockSources locks (or unlocks) identity's publishing of sources ("microphone", ...)
// in room: locking mutes its tracks of those sources at once. Unlocking does not
// unmute; a host's MuteTrack(..., false) or the participant does.
func (s *Server) LockSources(roomName, identity string, sources []string, locked bool) error {
	r := s.getRoom(roomName)
	if r == nil {
		return fmt.Errorf("room %q: %w", roomName, ErrNotFound)
	}
	var srcs []livekit.TrackSource
	for _, n := range sources {
		src, ok := sourceByName[n]
		if !ok {
			return fmt.Errorf("unknown track source %q", n)
		}
		srcs = append(srcs, src)
	}
	r.mu.Lock()
	if r.locks == nil {
		r.locks = map[string]map[livekit.TrackSource]bool{}
	}
	for _, src := range srcs {
		if locked {
			if r.locks[identity] == nil {
				r.locks[identity] = map[livekit.TrackSource]bool{}
			}
			r.locks[identity][src] = true
		} else if r.locks[identity] != nil {
			delete(r.locks[identity], src)
		}
	}
	if len(r.locks[identity]) == 0 {
		delete(r.locks, identity)
	}
	p := r.participants[identity]
	var sids []string
	if p != nil && locked {
		for sid, t := range p.tracks {
			if r.lockedLocked(identity, t.info.Source) {
				sids = append(sids, sid)
			}
		}
	}
	r.mu.Unlock()
	for _, sid := range sids {
		if err := p.setTrackMuted(sid, true, true); err != nil {
			return err
		}
	}
	return nil
}

// lockedLocked: identity may not unmute src.
func (r *room) lockedLocked(identity string, src livekit.TrackSource) bool {
	return r.locks[identity][src]
}

// clientMute is the participant's own mute request: an unmute of a locked source is
// refused and the client told so.
func (p *participant) clientMute(sid string, muted bool) error {
	r := p.room
	if !muted {
		r.mu.Lock()
		locked := false
		if t := p.tracks[sid]; t != nil {
			locked = r.lockedLocked(p.identity, t.info.Source)
		}
		for _, pi := range p.pending {
			if pi.Sid == sid {
				locked = locked || r.lockedLocked(p.identity, pi.Source)
			}
		}
		r.mu.Unlock()
		if locked {
			p.log.Info("unmute refused: a host locked this source", "track", sid)
			p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Mute{Mute: &livekit.MuteTrackRequest{Sid: sid, Muted: true}}})
			p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{
				Reason:  livekit.RequestResponse_NOT_ALLOWED,
				Message: "a host muted this track; only a host can unmute it",
				Request: &livekit.RequestResponse_Mute{Mute: &livekit.MuteTrackRequest{Sid: sid, Muted: false}},
			}}})
			return nil
		}
	}
	return p.setTrackMuted(sid, muted, false)
}

// muteIfLockedLocked starts a newly published track muted when its source is locked;
// the caller sends the client the server mute after unlocking (see onTrack).
func (p *participant) muteIfLockedLocked(t *pubTrack) bool {
	if !p.room.lockedLocked(p.identity, t.info.Source) {
		return false
	}
	t.info.Muted = true
	t.up.SetMuted(true)
	return true
}

// lockedNamesLocked lists identity's locked sources by name, in a fixed order.
func (r *room) lockedNamesLocked(identity string) []string {
	var out []string
	for _, n := range []string{"microphone", "screen_share_audio", "camera", "screen_share"} {
		if r.locks[identity][sourceByName[n]] {
			out = append(out, n)
		}
	}
	return out
}
