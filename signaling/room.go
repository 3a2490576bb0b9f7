package signaling

import (
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/utils/guid"
	"google.golang.org/protobuf/proto"
)

// room is the live state of one LiveKit room.
type room struct {
	srv       *Server
	name, sid string
	createdAt time.Time
	log       *slog.Logger

	// reconcileMu serialises subscription plans, so an older plan is never applied
	// after a newer one. Taken before mu, never while holding it.
	reconcileMu sync.Mutex

	mu           sync.Mutex              // guards everything below, and every participant's "guarded by room.mu" fields
	participants map[string]*participant // by identity
	metadata     string
	version      uint32 // the last participant version handed out; only rises
	closed       bool
	emptyTimer   *time.Timer
	locks        map[string]map[livekit.TrackSource]bool // identity -> sources a host locked muted (mutelock.go)

	stop     chan struct{} // closed when the room closes: ends loop
	stopOnce sync.Once
}

func newRoom(s *Server, name string) *room {
	r := &room{
		srv:          s,
		name:         name,
		sid:          guid.New(guid.RoomPrefix),
		createdAt:    time.Now(),
		log:          s.log.With("room", name),
		participants: map[string]*participant{},
		stop:         make(chan struct{}),
	}
	s.wg.Add(1)
	go r.loop() // ends when r.stop is closed
	return r
}

func (r *room) stopLoops() { r.stopOnce.Do(func() { close(r.stop) }) }

func (r *room) nextVersionLocked() uint32 {
	r.version++
	return r.version
}

func (r *room) infoLocked() *livekit.Room {
	return &livekit.Room{
		Sid:             r.sid,
		Name:            r.name,
		Metadata:        r.metadata,
		CreationTime:    r.createdAt.Unix(),
		CreationTimeMs:  r.createdAt.UnixMilli(),
		NumParticipants: uint32(len(r.participants)),
		EmptyTimeout:    uint32(r.srv.cfg.RoomEmptyTimeout / time.Second),
		EnabledCodecs:   r.srv.enabledCodecs(),
	}
}

// sees says whether a is told about b. A participant in the lobby (space "") sees only
// itself; hidden participants (large audiences) are announced to nobody.
func sees(a, b *participant) bool {
	if a == b {
		return true
	}
	return a.space != "" && !b.hidden
}

// join registers p (evicting an older session of the same identity), sends the
// JoinResponse and announces p.
func (r *room) join(p *participant) error {
	if err := p.setupPeers(r.srv.eng); err != nil {
		return err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		p.closePeers()
		return errors.New("room is closing")
	}
	old := r.participants[p.identity]
	if r.emptyTimer != nil {
		r.emptyTimer.Stop()
		r.emptyTimer = nil
	}
	if old != nil {
		// The others see the old session leave before the new one arrives: clients
		// key participants by SID as well as identity.
		old.state = livekit.ParticipantInfo_DISCONNECTED
		old.version = r.nextVersionLocked()
		r.broadcastLocked(old, false)
	}
	p.room = r
	p.joinedAt = time.Now()
	p.refreshedAt = p.joinedAt
	p.state = livekit.ParticipantInfo_JOINED
	p.publishSpaceLocked()
	p.version = r.nextVersionLocked()
	r.participants[p.identity] = p

	var others []*livekit.ParticipantInfo
	for _, o := range r.participants {
		if o != p && o != old && sees(p, o) {
			others = append(others, o.infoLocked())
		}
	}
	p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Join{Join: r.joinResponseLocked(p, others)}})
	r.broadcastLocked(p, false)
	snap := p.snapshotLocked()
	r.mu.Unlock()

	if old != nil {
		old.log.Info("evicted by a new session of the same identity")
		old.sendLeave(livekit.DisconnectReason_DUPLICATE_IDENTITY)
	}
	p.log.Info("joined", "space", p.space)
	r.srv.emit(Event{Kind: EventJoined, Room: r.name, Identity: p.identity, SID: p.sid, Participant: snap})
	r.reconcile(p)
	return nil
}

func (r *room) joinResponseLocked(p *participant, others []*livekit.ParticipantInfo) *livekit.JoinResponse {
	return &livekit.JoinResponse{
		Room:                 r.infoLocked(),
		Participant:          p.infoLocked(),
		OtherParticipants:    others,
		ServerVersion:        ServerVersion,
		ServerInfo:           r.srv.serverInfo(),
		IceServers:           r.srv.iceServersFor(p.identity),
		SubscriberPrimary:    false,
		PingInterval:         5,
		PingTimeout:          15,
		FastPublish:          p.perm.CanPublish,
		EnabledPublishCodecs: r.srv.enabledCodecs(),
		ServerRegion:         "local",
	}
}

// broadcastLocked sends q's current info to everyone who sees q (q included when self).
func (r *room) broadcastLocked(q *participant, self bool) {
	var to []*participant
	for _, a := range r.participants {
		if a == q && !self {
			continue
		}
		if sees(a, q) {
			to = append(to, a)
		}
	}
	r.sendEachLocked(to, &livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{
		Participants: []*livekit.ParticipantInfo{q.infoLocked()},
	}}})
}

// remove unregisters p if it is still the registered session of its identity, and tells
// the others it left. It reports whether p was registered.
func (r *room) remove(p *participant) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.participants[p.identity] != p {
		return false
	}
	delete(r.participants, p.identity)
	p.state = livekit.ParticipantInfo_DISCONNECTED
	p.version = r.nextVersionLocked()
	var to []*participant
	for _, a := range r.participants {
		if sees(a, p) {
			to = append(to, a)
		}
	}
	r.sendEachLocked(to, &livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{
		Participants: []*livekit.ParticipantInfo{p.infoLocked()},
	}}})
	if len(r.participants) == 0 && !r.closed {
		r.emptyTimer = time.AfterFunc(r.srv.cfg.RoomEmptyTimeout, r.closeIfEmpty)
	}
	return true
}

func (r *room) closeIfEmpty() {
	r.mu.Lock()
	empty := len(r.participants) == 0 && !r.closed
	if empty {
		r.closed = true
	}
	r.mu.Unlock()
	if empty {
		r.stopLoops()
		r.srv.forgetRoom(r)
		r.log.Info("room closed: empty")
	}
}

// close disconnects everyone and forgets the room.
func (r *room) close(reason livekit.DisconnectReason) {
	r.mu.Lock()
	r.closed = true
	if r.emptyTimer != nil {
		r.emptyTimer.Stop()
	}
	ps := make([]*participant, 0, len(r.participants))
	for _, p := range r.participants {
		ps = append(ps, p)
	}
	r.mu.Unlock()
	for _, p := range ps {
		p.sendLeave(reason)
	}
	r.stopLoops()
	r.srv.forgetRoom(r)
}

// setMetadata changes the room metadata and tells everyone.
func (r *room) setMetadata(md string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metadata = md
	to := make([]*participant, 0, len(r.participants))
	for _, p := range r.participants {
		to = append(to, p)
	}
	r.sendEachLocked(to, &livekit.SignalResponse{Message: &livekit.SignalResponse_RoomUpdate{RoomUpdate: &livekit.RoomUpdate{Room: r.infoLocked()}}})
}

// subscriptionPlan is what one subscriber should receive: track SID -> up track.
type subscriptionPlan struct {
	sub    *participant
	tracks map[string]*pubTrack
}

// reconcile brings subscriptions in line with spaces, permissions and published tracks:
// for one subscriber (only != nil) or for everyone. Idempotent; called after any change.
func (r *room) reconcile(only *participant) {
	r.reconcileWhere(func(s *participant) bool { return only == nil || s == only })
}

// reconcileWhere reconciles the subscribers for which match (called under r.mu) holds.
func (r *room) reconcileWhere(match func(*participant) bool) {
	r.reconcileMu.Lock()
	defer r.reconcileMu.Unlock()
	r.mu.Lock()
	var plans []subscriptionPlan
	for _, s := range r.participants {
		if !match(s) {
			continue
		}
		plans = append(plans, subscriptionPlan{sub: s, tracks: r.desiredLocked(s)})
	}
	r.mu.Unlock()
	for _, pl := range plans {
		pl.sub.subs.apply(pl.tracks)
	}
}

// desiredLocked is the set of tracks s should receive: media flows only between
// participants in the same non-empty space.
func (r *room) desiredLocked(s *participant) map[string]*pubTrack {
	want := map[string]*pubTrack{}
	if s.space == "" || !s.perm.CanSubscribe || s.state == livekit.ParticipantInfo_DISCONNECTED {
		return want
	}
	for _, q := range r.participants {
		if q == s || q.space != s.space || q.hidden {
			continue // a hidden participant is nobody's to receive (a viewer off stage)
		}
		for sid, t := range q.tracks {
			if on, ok := s.subOverride[sid]; ok && !on {
				continue
			} else if !ok && !s.autoSubscribe {
				continue
			}
			want[sid] = t
		}
	}
	return want
}

// dataTargetsLocked is who gets a data packet from `from`: the listed identities within
// its space, or everyone else there. The lobby sends to nobody.
func (r *room) dataTargetsLocked(from *participant, identities []string) []*participant {
	if from.space == "" {
		return nil
	}
	var out []*participant
	if len(identities) > 0 {
		for _, id := range identities {
			if q := r.participants[id]; q != nil && q != from && q.space == from.space {
				out = append(out, q)
			}
		}
		return out
	}
	for _, q := range r.participants {
		if q != from && q.space == from.space {
			out = append(out, q)
		}
	}
	return out
}

func cloneTrackInfo(t *livekit.TrackInfo) *livekit.TrackInfo {
	return proto.Clone(t).(*livekit.TrackInfo)
}
