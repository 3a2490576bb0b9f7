package signaling

import (
	"fmt"
	"sync"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"

	"yizhan/media"
)

// subscriber owns the server-offered peer connection of one participant: its down
// tracks and the offer/answer cycle. One offer is in flight at a time; changes made
// meanwhile set a flag and cause one more offer after the answer.
type subscriber struct {
	p     *participant
	pc    *webrtc.PeerConnection
	cands *candidateBuffer

	mu          sync.Mutex // guards everything below
	down        map[string]*downEntry
	offerID     uint32
	inFlight    bool // an offer awaits its answer
	renegotiate bool // something changed while inFlight
	iceRestart  bool // the next offer restarts ICE (after a resume)
	closed      bool
	settings    map[string]downSettings // adaptive stream wishes by track SID (tracksettings.go)
	maxLayer    int                     // layer cap of new down tracks without a wish (audience.go)

	link *media.Downlink // bandwidth estimate and layer caps; ticked by the room loop (linkloop.go)
}

type downEntry struct {
	up     *media.UpTrack
	dt     *media.DownTrack
	sender *webrtc.RTPSender
}

func newSubscriber(p *participant, pc *webrtc.PeerConnection) *subscriber {
	return &subscriber{p: p, pc: pc, cands: &candidateBuffer{}, down: map[string]*downEntry{},
		settings: map[string]downSettings{}, link: media.NewDownlink(p.log), maxLayer: defaultMaxLayer(p)}
}

// apply makes the down tracks match want, then offers if anything changed.
func (s *subscriber) apply(want map[string]*pubTrack) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	changed := false
	for sid, e := range s.down {
		if t, ok := want[sid]; ok && t.up == e.up {
			continue
		}
		if err := s.pc.RemoveTrack(e.sender); err != nil {
			s.p.log.Debug("remove down track", "track", sid, "err", err)
		}
		e.dt.Close()
		s.link.Remove(e.dt)
		delete(s.down, sid)
		changed = true
	}
	for sid, t := range want {
		if _, ok := s.down[sid]; ok {
			continue
		}
		dt := t.up.NewDownTrack(sid, t.streamID)
		dt.SetMaxLayer(s.maxLayer)
		if w, ok := s.settings[sid]; ok {
			applySettings(dt, w)
		}
		s.link.Add(dt)
		sender, err := s.pc.AddTrack(dt)
		if err != nil {
			s.p.log.Warn("add down track", "track", sid, "err", err)
			dt.Close()
			s.link.Remove(dt)
			continue
		}
		dt.Attach(sender)
		s.down[sid] = &downEntry{up: t.up, dt: dt, sender: sender}
		changed = true
	}
	s.mu.Unlock()
	if changed {
		s.negotiate()
	}
}

// negotiate sends an offer, or marks that one is needed after the current answer.
func (s *subscriber) negotiate() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if s.inFlight {
		s.renegotiate = true
		s.mu.Unlock()
		return
	}
	s.inFlight = true
	s.offerID++
	id := s.offerID
	restart := s.iceRestart
	s.iceRestart = false
	s.mu.Unlock()

	if err := s.offer(id, restart); err != nil {
		s.p.log.Warn("subscriber offer", "err", err)
		s.mu.Lock()
		s.inFlight = false
		s.mu.Unlock()
	}
}

func (s *subscriber) offer(id uint32, iceRestart bool) error {
	offer, err := s.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart})
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	if err := s.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local offer: %w", err)
	}
	mids := map[string]string{}
	for _, tr := range s.pc.GetTransceivers() {
		if snd := tr.Sender(); snd != nil && snd.Track() != nil && tr.Mid() != "" {
			mids[tr.Mid()] = snd.Track().ID()
		}
	}
	s.p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Offer{Offer: &livekit.SessionDescription{
		Type:         "offer",
		Sdp:          s.pc.LocalDescription().SDP,
		Id:           id,
		MidToTrackId: mids,
	}}})
	return nil
}

// handleAnswer completes the offer in flight and sends the next one if needed.
func (s *subscriber) handleAnswer(sd *livekit.SessionDescription) error {
	if sd.Type != "answer" {
		return fmt.Errorf("answer: type is %q", sd.Type)
	}
	s.mu.Lock()
	if !s.inFlight {
		s.mu.Unlock()
		return fmt.Errorf("answer %d: no offer in flight", sd.Id)
	}
	if sd.Id != 0 && sd.Id != s.offerID {
		s.mu.Unlock()
		return fmt.Errorf("answer %d: the offer in flight is %d", sd.Id, s.offerID)
	}
	s.mu.Unlock()

	err := s.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sd.Sdp})
	if err == nil {
		if ferr := s.cands.flush(s.pc); ferr != nil {
			s.p.log.Warn("subscriber candidates", "err", ferr)
		}
	}
	s.mu.Lock()
	s.inFlight = false
	again := s.renegotiate || err != nil
	s.renegotiate = false
	s.mu.Unlock()
	if err != nil {
		// Roll back so the next offer can be made; a bad answer must not wedge the
		// subscriber connection.
		_ = s.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		s.negotiate()
		return fmt.Errorf("set remote answer: %w", err)
	}
	if again {
		s.negotiate()
	}
	return nil
}

func (s *subscriber) addCandidate(c webrtc.ICECandidateInit) error {
	return s.cands.add(s.pc, c)
}

// close drops every down track; the peer connection is closed by the participant.
func (s *subscriber) close() {
	s.mu.Lock()
	s.closed = true
	down := s.down
	s.down = map[string]*downEntry{}
	s.mu.Unlock()
	for _, e := range down {
		e.dt.Close()
		s.link.Remove(e.dt)
	}
}

// restartICE forgets an offer lost with the old signal connection and sends a new
// one that restarts ICE, so the subscriber connection recovers too.
func (s *subscriber) restartICE() {
	s.mu.Lock()
	s.inFlight = false
	s.renegotiate = false
	s.iceRestart = true
	s.mu.Unlock()
	s.negotiate()
}

// subscribed lists the track SIDs this participant receives.
func (s *subscriber) subscribed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.down))
	for sid := range s.down {
		out = append(out, sid)
	}
	return out
}
