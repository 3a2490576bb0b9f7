package signaling

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

// Large audiences (lectures): a viewer joins hidden. Nobody is told about it (no
// ParticipantUpdate to the room), it subscribes to what its space publishes, and the
// room counts such viewers instead of listing them: at most once per audienceEvery the
// hooks learn the new count (EventAudience) and may put it in the room metadata. So a
// viewer's join costs the same number of signal messages in a room of 10 or of 5,000,
// and every broadcast that does reach the room is marshalled once.

// audienceEvery is how often a room reports a changed audience count. A count a second
// old is fresh enough for a screen; a storm of joins costs one report per second.
const audienceEvery = time.Second

// EventAudience reports the number of hidden participants of a room (Event.Count).
const EventAudience = "audience"

// signalCounter counts the signal messages queued to clients, for benchmarks and tests.
type signalCounter struct {
	sent        atomic.Uint64
	roomUpdates atomic.Uint64 // of which room updates (metadata, with the audience count)
	pongs       atomic.Uint64 // of which answers to the clients' pings
	links       atomic.Uint64 // of which link reports: connection quality, stream states, dynacast
}

func (c *signalCounter) count(msg *livekit.SignalResponse, n int) {
	c.sent.Add(uint64(n))
	switch msg.Message.(type) {
	case *livekit.SignalResponse_RoomUpdate:
		c.roomUpdates.Add(uint64(n))
	case *livekit.SignalResponse_Pong, *livekit.SignalResponse_PongResp:
		c.pongs.Add(uint64(n))
	case *livekit.SignalResponse_ConnectionQuality, *livekit.SignalResponse_StreamStateUpdate, *livekit.SignalResponse_SubscribedQualityUpdate:
		c.links.Add(uint64(n))
	}
}

// SignalCounts is how many signal messages the server queued to clients so far (every
// message to every participant counts once), with the kinds that are driven by time
// rather than by joins: room updates (throttled), pongs (the clients ping) and link
// reports (connection quality changes, stream states, dynacast; every link tick).
type SignalCounts struct {
	Sent, RoomUpdates, Pongs, Links uint64
}

// SignalCounts returns the counts so far.
func (s *Server) SignalCounts() SignalCounts {
	return SignalCounts{Sent: s.signals.sent.Load(), RoomUpdates: s.signals.roomUpdates.Load(), Pongs: s.signals.pongs.Load(),
		Links: s.signals.links.Load()}
}

// AudienceCount is the number of hidden participants in a room now (0 for no room).
func (s *Server) AudienceCount(roomName string) int {
	r := s.getRoom(roomName)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.audienceLocked()
}

func (r *room) audienceLocked() int {
	n := 0
	for _, p := range r.participants {
		if p.hidden {
			n++
		}
	}
	return n
}

// reportAudience emits EventAudience when the count changed since last; called by the
// room's loop, which owns last.
func (r *room) reportAudience(last *int) {
	r.mu.Lock()
	n := r.audienceLocked()
	r.mu.Unlock()
	if n == *last {
		return
	}
	*last = n
	r.srv.emit(Event{Kind: EventAudience, Room: r.name, Count: n})
}

// SetHidden shows a hidden participant to the room (a viewer brought on stage) or hides
// it again (taken off). Shown, it is announced to everyone in its space like any
// participant; hidden again, they see it leave while it stays connected and watching.
// Publishing is a separate permission (SetPermission).
func (s *Server) SetHidden(roomName, identity string, hidden bool) error {
	r, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	r.mu.Lock()
	if p.hidden == hidden {
		r.mu.Unlock()
		return nil
	}
	space := p.space
	r.setHiddenLocked(p, hidden)
	var sids []string
	if hidden {
		for sid := range p.tracks {
			sids = append(sids, sid)
		}
	}
	r.mu.Unlock()
	for _, sid := range sids {
		p.unpublish(sid, true) // off stage: what it published reaches nobody; the client is told
	}
	r.reconcileSpace(space) // its tracks now reach its space, or no longer do
	return nil
}

func (r *room) setHiddenLocked(p *participant, hidden bool) {
	if !hidden {
		p.hidden = false
		p.version = r.nextVersionLocked()
		r.broadcastLocked(p, true)
		return
	}
	p.version = r.nextVersionLocked()
	gone := p.infoLocked()
	gone.State = livekit.ParticipantInfo_DISCONNECTED
	seen := make([]*participant, 0, len(r.participants))
	for _, a := range r.participants {
		if a != p && sees(a, p) {
			seen = append(seen, a)
		}
	}
	p.hidden = true
	r.sendEachLocked(seen, &livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{
		Participants: []*livekit.ParticipantInfo{gone},
	}}})
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{
		Participants: []*livekit.ParticipantInfo{p.infoLocked()},
	}}})
}

// Until subscribers choose their layer by their link and screen (adaptive stream), a
// hidden viewer (a phone, mostly) gets the lowest simulcast layer; the policy layer
// raises it for a big screen with SetMaxLayer.
const viewerMaxLayer = 0

// defaultMaxLayer is the layer cap a new participant starts with (p.hidden is read
// before join, by the handler goroutine that owns it then).
func defaultMaxLayer(p *participant) int {
	if p.hidden {
		return viewerMaxLayer
	}
	return 2
}

// SetMaxLayer caps the simulcast layer a participant receives (0 lowest, 2 highest), on
// what it receives now and on what it subscribes to later.
func (s *Server) SetMaxLayer(roomName, identity string, layer int) error {
	_, p, err := s.find(roomName, identity)
	if err != nil {
		return err
	}
	p.subs.setMaxLayer(layer)
	return nil
}

func (s *subscriber) setMaxLayer(layer int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxLayer = max(0, min(layer, 2))
	for sid, e := range s.down {
		if _, wish := s.settings[sid]; !wish { // the client's own wish (adaptive stream) wins
			e.dt.SetMaxLayer(s.maxLayer)
		}
	}
}

// frame is a signal message marshalled once for many recipients.
type frame []byte

func marshalFrame(msg *livekit.SignalResponse) (frame, error) {
	b, err := proto.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("marshal signal response: %w", err)
	}
	return b, nil
}

// sendEachLocked sends msg to every participant in to, marshalling it once.
func (r *room) sendEachLocked(to []*participant, msg *livekit.SignalResponse) {
	if len(to) == 0 {
		return
	}
	f, err := marshalFrame(msg)
	if err != nil {
		r.log.Error("broadcast", "err", err)
		return
	}
	n := 0
	for _, a := range to {
		if a.signal().sendFrame(f) {
			n++
		}
	}
	r.srv.signals.count(msg, n)
}

// reconcileSpace reconciles the subscribers of one space only: a track published or
// unpublished there changes nobody else's subscriptions.
func (r *room) reconcileSpace(space string) {
	if space == "" {
		return // the lobby receives nothing
	}
	r.reconcileWhere(func(s *participant) bool { return s.space == space })
}
