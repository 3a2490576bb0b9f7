package signaling

import (
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"

	"yizhan/media"
)

// participant is one signal connection with its two peer connections.
type participant struct {
	// Set before join, then read-only.
	sid, identity string
	log           *slog.Logger
	protocol      int
	room          *room
	pub           *webrtc.PeerConnection // the client offers; we receive its media and data
	sub           *webrtc.PeerConnection // we offer; the client receives media
	subs          *subscriber            // owns sub's down tracks and negotiation
	pubCands      *candidateBuffer       // client candidates that came before its offer

	// Guarded by room.mu (before join: owned by the handler goroutine).
	name, metadata string
	attributes     map[string]string
	perm           Permission
	hidden         bool
	space          string
	state          livekit.ParticipantInfo_State
	version        uint32
	joinedAt       time.Time
	refreshedAt    time.Time                     // when the client last got a fresh token
	tracks         map[string]*pubTrack          // by track SID: media arrived
	pending        map[string]*livekit.TrackInfo // by cid: add_track seen, media not yet
	autoSubscribe  bool
	subOverride    map[string]bool // explicit UpdateSubscription per track SID
	link           LinkInfo        // written by the room loop (quality.go)

	dc dataChannels

	connMu      sync.Mutex  // guards conn, resumeTimer
	conn        *conn       // the current signal connection; replaced on resume
	resumeTimer *time.Timer // ends p if its lost signal is not resumed (signalLost); stopped by leave

	leaveOnce sync.Once
	left      chan struct{}            // closed by leave
	leftWhy   livekit.DisconnectReason // written by leave before it closes left; read only after
}

// signal returns the current signal connection.
func (p *participant) signal() *conn {
	p.connMu.Lock()
	defer p.connMu.Unlock()
	return p.conn
}

// send queues a message on the current signal connection. While the signal is down
// (waiting for a resume) messages are lost; resume sends the state again.
func (p *participant) send(msg *livekit.SignalResponse) { p.signal().Send(msg) }

func (p *participant) hasLeft() bool {
	select {
	case <-p.left:
		return true
	default:
		return false
	}
}

// pubTrack is one published track: its info and the up track forwarding it.
type pubTrack struct {
	info     *livekit.TrackInfo // guarded by room.mu
	up       *media.UpTrack
	cid      string
	streamID string
}

func (p *participant) infoLocked() *livekit.ParticipantInfo {
	info := &livekit.ParticipantInfo{
		Sid:        p.sid,
		Identity:   p.identity,
		Name:       p.name,
		State:      p.state,
		Metadata:   p.metadata,
		JoinedAt:   p.joinedAt.Unix(),
		JoinedAtMs: p.joinedAt.UnixMilli(),
		Version:    p.version,
		Permission: &livekit.ParticipantPermission{
			CanSubscribe:   p.perm.CanSubscribe,
			CanPublish:     p.perm.CanPublish,
			CanPublishData: p.perm.CanPublishData,
			Hidden:         p.hidden,
		},
		Attributes:  cloneMap(p.attributes),
		Kind:        livekit.ParticipantInfo_STANDARD,
		IsPublisher: len(p.tracks) > 0,
	}
	for _, t := range p.tracks {
		info.Tracks = append(info.Tracks, cloneTrackInfo(t.info))
	}
	return info
}

// snapshotUnlocked is for the handler before p is shared.
func (p *participant) snapshotUnlocked() Participant { return p.snapshotLocked() }

// publishSpaceLocked writes p's space into its attributes, where clients read it:
// "space" is the space ("" deleted), "lobby" is "1" while p waits in the lobby. The map
// is replaced, not changed: snapshots share it.
func (p *participant) publishSpaceLocked() {
	next := maps.Clone(p.attributes)
	if next == nil {
		next = map[string]string{}
	}
	delete(next, AttrSpace)
	delete(next, AttrLobby)
	if p.space != "" {
		next[AttrSpace] = p.space
	} else {
		next[AttrLobby] = "1"
	}
	p.attributes = next
}

func (p *participant) snapshotLocked() Participant {
	s := Participant{
		SID:        p.sid,
		Identity:   p.identity,
		Name:       p.name,
		Space:      p.space,
		Attributes: cloneMap(p.attributes),
		Metadata:   p.metadata,
		JoinedAt:   p.joinedAt,
		State:      stateName(p.state),
		Permission: p.perm,
		Hidden:     p.hidden,
		Link:       p.link,
	}
	for _, t := range p.tracks {
		s.Tracks = append(s.Tracks, trackSnapshot(t.info))
	}
	if p.room != nil {
		s.MuteLocked = p.room.lockedNamesLocked(p.identity)
	}
	return s
}

func trackSnapshot(t *livekit.TrackInfo) Track {
	kind := "video"
	if t.Type == livekit.TrackType_AUDIO {
		kind = "audio"
	}
	return Track{SID: t.Sid, Name: t.Name, Kind: kind, Source: sourceName(t.Source), Muted: t.Muted, MimeType: t.MimeType}
}

func sourceName(s livekit.TrackSource) string {
	switch s {
	case livekit.TrackSource_CAMERA:
		return "camera"
	case livekit.TrackSource_MICROPHONE:
		return "microphone"
	case livekit.TrackSource_SCREEN_SHARE:
		return "screen_share"
	case livekit.TrackSource_SCREEN_SHARE_AUDIO:
		return "screen_share_audio"
	}
	return "unknown"
}

func stateName(s livekit.ParticipantInfo_State) string {
	switch s {
	case livekit.ParticipantInfo_JOINED:
		return "joined"
	case livekit.ParticipantInfo_ACTIVE:
		return "active"
	case livekit.ParticipantInfo_DISCONNECTED:
		return "disconnected"
	}
	return "joining"
}

// setupPeers creates both peer connections and wires their callbacks.
func (p *participant) setupPeers(eng *media.Engine) error {
	pub, err := eng.NewPeerConnection(nil)
	if err != nil {
		return err
	}
	sub, err := eng.NewSubscriberPeerConnection(nil)
	if err != nil {
		_ = pub.Close()
		return err
	}
	p.pub, p.sub = pub, sub
	p.pubCands = &candidateBuffer{}
	p.subs = newSubscriber(p, sub)
	p.tracks = map[string]*pubTrack{}
	p.pending = map[string]*livekit.TrackInfo{}
	p.subOverride = map[string]bool{}

	pub.OnICECandidate(func(c *webrtc.ICECandidate) { p.sendCandidate(c, livekit.SignalTarget_PUBLISHER) })
	sub.OnICECandidate(func(c *webrtc.ICECandidate) { p.sendCandidate(c, livekit.SignalTarget_SUBSCRIBER) })
	pub.OnTrack(p.onTrack)
	pub.OnDataChannel(p.onDataChannel)
	pub.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			p.setActive()
		case webrtc.PeerConnectionStateFailed:
			p.log.Info("publisher connection failed")
			go p.sendLeave(livekit.DisconnectReason_CONNECTION_TIMEOUT)
		}
	})
	return nil
}

func (p *participant) closePeers() {
	if p.pub != nil {
		_ = p.pub.Close()
	}
	if p.sub != nil {
		_ = p.sub.Close()
	}
}

func (p *participant) setActive() {
	r := p.room
	r.mu.Lock()
	if p.state != livekit.ParticipantInfo_JOINED {
		r.mu.Unlock()
		return
	}
	p.state = livekit.ParticipantInfo_ACTIVE
	p.version = r.nextVersionLocked()
	r.broadcastLocked(p, true)
	snap := p.snapshotLocked()
	r.mu.Unlock()
	r.srv.emit(Event{Kind: EventActive, Room: r.name, Identity: p.identity, SID: p.sid, Participant: snap})
}

// leave ends p: unregisters it, closes its tracks, peer connections and socket. Idempotent.
// sendLeave tells the client to go (a Leave it will not answer by reconnecting), then
// leaves: the server's side of ending a participant.
func (p *participant) sendLeave(reason livekit.DisconnectReason) {
	p.send(leaveMsg(reason))
	p.leave(reason)
}

func (p *participant) leave(reason livekit.DisconnectReason) {
	p.leaveOnce.Do(func() {
		p.leftWhy = reason
		p.room.srv.departed.note(p.sid, reason)
		close(p.left)
		p.connMu.Lock()
		if p.resumeTimer != nil && p.resumeTimer.Stop() {
			p.room.srv.wg.Done() // its func will not run
		}
		p.resumeTimer = nil
		p.connMu.Unlock()
		r := p.room
		registered := r.remove(p)
		r.mu.Lock()
		tracks := p.tracks
		p.tracks = map[string]*pubTrack{}
		snap := p.snapshotLocked()
		r.mu.Unlock()

		p.signal().close(errors.New(reason.String()))
		for _, t := range tracks {
			t.up.Close()
		}
		p.subs.close()
		p.closePeers()
		p.log.Info("left", "reason", reason.String())
		if registered {
			r.srv.emit(Event{Kind: EventLeft, Room: r.name, Identity: p.identity, SID: p.sid, Reason: reason.String(), Participant: snap})
		}
		if len(tracks) > 0 {
			r.reconcileSpace(snap.Space) // who received its tracks; nobody else changes
		}
	})
}
