package signaling

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/utils/guid"
	"github.com/pion/webrtc/v4"

	"yizhan/media"
)

// maxBufferedCandidates bounds candidates held before a remote description; a client
// sending more before its offer is broken or hostile.
const maxBufferedCandidates = 64

// candidateBuffer holds remote ICE candidates until the remote description is set.
type candidateBuffer struct {
	mu      sync.Mutex // guards pending and ready
	pending []webrtc.ICECandidateInit
	ready   bool
}

// add applies c now if the remote description is set, else buffers it.
func (b *candidateBuffer) add(pc *webrtc.PeerConnection, c webrtc.ICECandidateInit) error {
	b.mu.Lock()
	if !b.ready {
		defer b.mu.Unlock()
		if len(b.pending) >= maxBufferedCandidates {
			return fmt.Errorf("more than %d candidates before the remote description", maxBufferedCandidates)
		}
		b.pending = append(b.pending, c)
		return nil
	}
	b.mu.Unlock()
	return pc.AddICECandidate(c)
}

// flush marks the remote description set and applies what was buffered.
func (b *candidateBuffer) flush(pc *webrtc.PeerConnection) error {
	b.mu.Lock()
	b.ready = true
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, c := range pending {
		if err := pc.AddICECandidate(c); err != nil {
			return fmt.Errorf("add buffered candidate: %w", err)
		}
	}
	return nil
}

func (p *participant) sendCandidate(c *webrtc.ICECandidate, target livekit.SignalTarget) {
	if c == nil {
		return // end of gathering; the clients do not need it
	}
	b, err := json.Marshal(c.ToJSON())
	if err != nil {
		return
	}
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Trickle{Trickle: &livekit.TrickleRequest{
		CandidateInit: string(b),
		Target:        target,
	}}})
}

func (p *participant) handleTrickle(t *livekit.TrickleRequest) error {
	var init webrtc.ICECandidateInit
	if err := json.Unmarshal([]byte(t.CandidateInit), &init); err != nil {
		return fmt.Errorf("trickle: bad candidate: %w", err)
	}
	if init.Candidate == "" {
		return nil // end-of-candidates marker
	}
	if t.Target == livekit.SignalTarget_SUBSCRIBER {
		return p.subs.addCandidate(init)
	}
	return p.pubCands.add(p.pub, init)
}

// handleOffer answers the client's publisher offer, echoing its id.
func (p *participant) handleOffer(sd *livekit.SessionDescription) error {
	if sd.Type != "offer" {
		return fmt.Errorf("offer: type is %q", sd.Type)
	}
	if err := p.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sd.Sdp}); err != nil {
		return fmt.Errorf("set remote offer: %w", err)
	}
	if err := p.pubCands.flush(p.pub); err != nil {
		p.log.Warn("publisher candidates", "err", err)
	}
	media.PreferRED(p.pub, p.redDisabledMids(sd.Sdp)) // redundant audio from clients that offer it (redopt.go)
	answer, err := p.pub.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := p.pub.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set local answer: %w", err)
	}
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Answer{Answer: &livekit.SessionDescription{
		Type: "answer",
		Sdp:  p.pub.LocalDescription().SDP,
		Id:   sd.Id,
	}}})
	return nil
}

// handleAddTrack registers an announced track and answers track_published; the track
// is announced to others once its media arrives (onTrack).
func (p *participant) handleAddTrack(req *livekit.AddTrackRequest) {
	r := p.room
	r.mu.Lock()
	if !p.perm.CanPublish {
		r.mu.Unlock()
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{
			Reason:  livekit.RequestResponse_NOT_ALLOWED,
			Message: "this participant may not publish",
			Request: &livekit.RequestResponse_AddTrack{AddTrack: req},
		}}})
		return
	}
	if lim := r.srv.cfg.Limits; req.Cid == "" || (p.pending[req.Cid] == nil && (len(p.pending) >= lim.PendingTracks || len(p.tracks) >= lim.Tracks)) {
		r.mu.Unlock()
		if req.Cid != "" {
			r.srv.hits.pendingTracks.Add(1)
		}
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{
			Reason:  livekit.RequestResponse_INVALID_REQUEST,
			Message: "add_track needs a cid; a participant may have a bounded number of tracks announced and published",
			Request: &livekit.RequestResponse_AddTrack{AddTrack: req},
		}}})
		return
	}
	info := p.pending[req.Cid]
	if info == nil {
		info = &livekit.TrackInfo{
			Sid:        guid.New(guid.TrackPrefix),
			Name:       req.Name,
			Type:       req.Type,
			Source:     req.Source,
			Muted:      req.Muted,
			Width:      req.Width,
			Height:     req.Height,
			Simulcast:  len(req.Layers) > 1,
			Layers:     req.Layers,
			DisableDtx: req.DisableDtx,
			Stereo:     req.Stereo,
			Stream:     req.Stream,
			Codecs:     primaryCodec(req),
			DisableRed: req.DisableRed,
		}
		p.pending[req.Cid] = info
	}
	resp := &livekit.TrackPublishedResponse{Cid: req.Cid, Track: cloneTrackInfo(info)}
	r.mu.Unlock()
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_TrackPublished{TrackPublished: resp}})
}

// onTrack runs once per incoming RTP stream; simulcast layers (rids) of one track share
// its cid and become layers of one up track.
func (p *participant) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	r := p.room
	cid := remote.ID()
	r.mu.Lock()
	if p.state == livekit.ParticipantInfo_DISCONNECTED {
		r.mu.Unlock()
		return
	}
	for _, t := range p.tracks {
		if t.cid == cid {
			r.mu.Unlock()
			t.up.AddLayer(remote, recv, p.pub)
			return
		}
	}
	info := p.pending[cid]
	if info == nil {
		info = p.matchPendingByKindLocked(remote.Kind())
	}
	if info == nil {
		r.mu.Unlock()
		p.log.Warn("media for a track that was never announced (add_track); ignored", "cid", cid, "kind", remote.Kind().String())
		return
	}
	for k, v := range p.pending {
		if v == info {
			delete(p.pending, k)
		}
	}
	if len(p.tracks) >= r.srv.cfg.Limits.Tracks {
		r.mu.Unlock()
		r.srv.hits.tracks.Add(1)
		p.log.Warn("too many tracks published; ignored", "cid", cid, "limit", r.srv.cfg.Limits.Tracks)
		return
	}
	info.MimeType = media.ContentMimeType(remote.Codec()) // Opus for RED: what the track carries
	info.Mid = transceiverMid(p.pub, recv)
	t := &pubTrack{info: info, cid: cid, streamID: p.sid + "|" + info.Sid}
	// The codec now: once in p.tracks, the track may be given to a subscriber (another
	// track's reconcile) before AddLayer below has run, and its down track binds to it.
	t.up = r.srv.eng.NewUpTrack(media.UpTrackConfig{ID: info.Sid, StreamID: t.streamID, Kind: remote.Kind(), Codec: remote.Codec(),
		Logger: p.log.With("track", info.Sid)})
	p.tracks[info.Sid] = t
	lockedMute := p.muteIfLockedLocked(t)
	p.version = r.nextVersionLocked()
	r.broadcastLocked(p, false)
	snap := p.snapshotLocked()
	r.mu.Unlock()
	if lockedMute {
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Mute{Mute: &livekit.MuteTrackRequest{Sid: info.Sid, Muted: true}}})
	}

	t.up.AddLayer(remote, recv, p.pub)
	p.log.Info("track published", "track", info.Sid, "mime", info.MimeType, "rid", remote.RID())
	r.srv.emit(Event{Kind: EventTrackPublished, Room: r.name, Identity: p.identity, SID: p.sid, TrackSID: info.Sid, Participant: snap})
	r.reconcileSpace(snap.Space)
	// Unpublished when its media ends: the client renegotiated the sender away (there
	// is no unpublish message) or the connection closed.
	t.up.OnDone(func() { p.unpublish(t.info.Sid, false) })
}

// matchPendingByKindLocked covers clients whose msid track id differs from the cid they
// announced (Firefox): take the only pending track of that kind.
func (p *participant) matchPendingByKindLocked(kind webrtc.RTPCodecType) *livekit.TrackInfo {
	var found *livekit.TrackInfo
	for _, info := range p.pending {
		if kindOf(kind) == info.Type {
			if found != nil {
				return nil
			}
			found = info
		}
	}
	return found
}

func transceiverMid(pc *webrtc.PeerConnection, recv *webrtc.RTPReceiver) string {
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == recv {
			return tr.Mid()
		}
	}
	return ""
}

// unpublish drops a track from p's info and tells everyone. server says whether the
// server decided it (then the client is told with track_unpublished).
func (p *participant) unpublish(sid string, server bool) {
	r := p.room
	r.mu.Lock()
	t := p.tracks[sid]
	if t == nil {
		r.mu.Unlock()
		return
	}
	delete(p.tracks, sid)
	registered := r.participants[p.identity] == p
	if registered {
		p.version = r.nextVersionLocked()
		r.broadcastLocked(p, false)
	}
	snap := p.snapshotLocked()
	r.mu.Unlock()

	t.up.Close()
	if server {
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_TrackUnpublished{TrackUnpublished: &livekit.TrackUnpublishedResponse{TrackSid: sid}}})
	}
	if registered {
		p.log.Info("track unpublished", "track", sid)
		r.srv.emit(Event{Kind: EventTrackUnpublished, Room: r.name, Identity: p.identity, SID: p.sid, TrackSID: sid, Participant: snap})
		r.reconcileSpace(snap.Space)
	}
}

// setTrackMuted records a mute (from the client, or forced by the server) and tells everyone.
func (p *participant) setTrackMuted(sid string, muted, byServer bool) error {
	r := p.room
	r.mu.Lock()
	t := p.tracks[sid]
	var info *livekit.TrackInfo
	if t != nil {
		info = t.info
	} else {
		for _, pi := range p.pending {
			if pi.Sid == sid {
				info = pi
			}
		}
	}
	if info == nil {
		r.mu.Unlock()
		return fmt.Errorf("track %s: %w", sid, ErrNotFound)
	}
	changed := info.Muted != muted
	info.Muted = muted
	if changed && t != nil {
		p.version = r.nextVersionLocked()
		r.broadcastLocked(p, false)
	}
	snap := p.snapshotLocked()
	r.mu.Unlock()
	if t != nil {
		// A server mute is enforced here, whatever the client does; a client's own
		// mute needs nothing (it stops sending), and its unmute lifts a server mute.
		if byServer || !muted {
			t.up.SetMuted(muted)
		}
	}
	if byServer {
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Mute{Mute: &livekit.MuteTrackRequest{Sid: sid, Muted: muted}}})
	}
	if changed {
		kind := EventUnmuted
		if muted {
			kind = EventMuted
		}
		r.srv.emit(Event{Kind: kind, Room: r.name, Identity: p.identity, SID: p.sid, TrackSID: sid, Participant: snap})
	}
	return nil
}
