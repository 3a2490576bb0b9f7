package signaling

import (
	"errors"
	"fmt"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
)

// maxMalformed is how many undecodable frames a connection may send before we stop
// listening to it.
const maxMalformed = 20

// resumeWindow is how long a participant whose signal connection dropped (a network
// blip, a phone switching networks) keeps its place, media and space for the client to
// resume.
const resumeWindow = 20 * time.Second

// readLoop handles the client's requests on c in order until c ends. A client that
// asked to leave, closed the socket itself or broke the protocol leaves at once; one
// whose connection just failed may resume within resumeWindow.
func (p *participant) readLoop(c *conn) {
	defer c.readerDone()
	malformed := 0
	for {
		req, err := c.Read()
		if err != nil {
			var me *malformedError
			switch {
			case errors.As(err, &me):
				malformed++
				p.log.Warn("signal: ignoring malformed frame", "err", err, "count", malformed)
				if malformed <= maxMalformed {
					continue
				}
				p.leave(livekit.DisconnectReason_SIGNAL_CLOSE)
			case errors.Is(err, websocket.ErrReadLimit):
				p.log.Warn("signal: frame over the size limit; closing", "limit", maxFrameBytes)
				p.leave(livekit.DisconnectReason_SIGNAL_CLOSE)
			case websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway):
				p.leave(livekit.DisconnectReason_CLIENT_INITIATED)
			default:
				p.signalLost(c, err)
			}
			return
		}
		if done := p.handle(req); done {
			p.leave(livekit.DisconnectReason_CLIENT_INITIATED)
			return
		}
	}
}

// signalLost keeps p for resumeWindow after its connection c failed.
func (p *participant) signalLost(c *conn, err error) {
	if p.signal() != c || p.hasLeft() {
		return // already resumed on another connection, or gone
	}
	cause := c.closeCause() // set when our side ended the connection first (a failed write)
	c.close(err)
	p.log.Info("signal lost; waiting for the client to resume", "err", err, "cause", cause, "window", resumeWindow)
	// The wait is counted in the server's WaitGroup and ends with p (leave stops the
	// timer): nothing of a closed server runs (or logs) after Close returns.
	srv := p.room.srv
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if p.hasLeft() { // leave closes left before it takes connMu: it stops what is set here
		return
	}
	if p.resumeTimer != nil && p.resumeTimer.Stop() {
		srv.wg.Done()
	}
	srv.wg.Add(1) // readLoop's connection is still counted: Close is not past Wait
	p.resumeTimer = time.AfterFunc(resumeWindow, func() {
		defer srv.wg.Done()
		if p.signal() == c && !p.hasLeft() {
			p.log.Info("signal not resumed in time")
			p.leave(livekit.DisconnectReason_SIGNAL_CLOSE)
		}
	})
}

// resume puts p on the new connection c and sends what it may have missed: its own
// state, who it sees, the room, and a subscriber offer with an ICE restart.
func (p *participant) resume(c *conn) bool {
	p.connMu.Lock()
	if p.hasLeft() {
		// p left (a server closing, a host's removal) after handleResume looked: nobody
		// would close c, and its readLoop would keep the server's Close waiting.
		p.connMu.Unlock()
		c.Send(lateLeave(p.leftWhy))
		c.close(errors.New("participant left"))
		return false
	}
	old := p.conn
	p.conn = c
	if p.resumeTimer != nil && p.resumeTimer.Stop() {
		p.room.srv.wg.Done() // resumed in time: its func will not run
	}
	p.resumeTimer = nil
	p.connMu.Unlock()
	old.close(errors.New("resumed on a new connection"))

	r := p.room
	c.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Reconnect{Reconnect: &livekit.ReconnectResponse{
		IceServers: r.srv.iceServersFor(p.identity),
		ServerInfo: r.srv.serverInfo(),
	}}})
	r.mu.Lock()
	var infos []*livekit.ParticipantInfo
	for _, q := range r.participants {
		if sees(p, q) {
			infos = append(infos, q.infoLocked())
		}
	}
	c.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{Participants: infos}}})
	c.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RoomUpdate{RoomUpdate: &livekit.RoomUpdate{Room: r.infoLocked()}}})
	r.mu.Unlock()
	p.log.Info("resumed")
	p.subs.restartICE()
	return true
}

// handle dispatches one request; it reports whether the client asked to leave.
func (p *participant) handle(req *livekit.SignalRequest) (leave bool) {
	var err error
	switch m := req.Message.(type) {
	case *livekit.SignalRequest_Offer:
		err = p.handleOffer(m.Offer)
	case *livekit.SignalRequest_Answer:
		err = p.subs.handleAnswer(m.Answer)
	case *livekit.SignalRequest_Trickle:
		err = p.handleTrickle(m.Trickle)
	case *livekit.SignalRequest_AddTrack:
		p.handleAddTrack(m.AddTrack)
	case *livekit.SignalRequest_Mute:
		err = p.clientMute(m.Mute.Sid, m.Mute.Muted)
	case *livekit.SignalRequest_Subscription:
		p.handleSubscription(m.Subscription)
	case *livekit.SignalRequest_Leave:
		p.log.Info("client leaves", "reason", m.Leave.Reason.String())
		return true
	case *livekit.SignalRequest_Ping:
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Pong{Pong: time.Now().UnixMilli()}})
	case *livekit.SignalRequest_PingReq:
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_PongResp{PongResp: &livekit.Pong{
			LastPingTimestamp: m.PingReq.Timestamp,
			Timestamp:         time.Now().UnixMilli(),
		}}})
	case *livekit.SignalRequest_UpdateMetadata:
		p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{
			RequestId: m.UpdateMetadata.RequestId,
			Reason:    livekit.RequestResponse_NOT_ALLOWED,
			Message:   "participants may not change their own name, metadata or attributes here",
			Request:   &livekit.RequestResponse_UpdateMetadata{UpdateMetadata: m.UpdateMetadata},
		}}})
	case *livekit.SignalRequest_TrackSetting:
		p.handleTrackSettings(m.TrackSetting)
	case *livekit.SignalRequest_UpdateLayers:
		p.handleUpdateLayers(m.UpdateLayers)
	case *livekit.SignalRequest_SubscriptionPermission, *livekit.SignalRequest_SyncState,
		*livekit.SignalRequest_Simulate, *livekit.SignalRequest_UpdateAudioTrack,
		*livekit.SignalRequest_UpdateVideoTrack:
		// Optional parts of the protocol we do not act on yet (subscription
		// permissions, resume). Ignoring them is what the clients tolerate.
	case nil:
		p.log.Warn("signal: empty request")
	default:
		p.log.Warn("signal: unknown request ignored", "type", typeName(req.Message))
	}
	if err != nil {
		p.log.Warn("signal: request failed", "type", typeName(req.Message), "err", err)
	}
	return false
}

// handleSubscription honours manual subscription (and unsubscription) of tracks. Only
// tracks that exist in the room are remembered, at most Limits.SubscriptionOverrides of
// them, and overrides of tracks that have gone are dropped: made-up track ids cost
// nothing (issue 12, row 1).
func (p *participant) handleSubscription(u *livekit.UpdateSubscription) {
	r := p.room
	max := r.srv.cfg.Limits.SubscriptionOverrides
	r.mu.Lock()
	published := r.publishedLocked()
	for sid := range p.subOverride {
		if !published[sid] {
			delete(p.subOverride, sid)
		}
	}
	refused := 0
	apply := func(sid string) {
		if _, ok := p.subOverride[sid]; !ok && (!published[sid] || len(p.subOverride) >= max) {
			refused++
			return
		}
		p.subOverride[sid] = u.Subscribe
	}
	for _, sid := range u.TrackSids {
		apply(sid)
	}
	for _, pt := range u.ParticipantTracks {
		for _, sid := range pt.TrackSids {
			apply(sid)
		}
	}
	r.mu.Unlock()
	if refused > 0 {
		r.srv.hits.subscriptions.Add(1)
		p.log.Debug("subscription update names unknown tracks or too many; those ignored", "ignored", refused)
	}
	r.reconcile(p)
}

// publishedLocked is the set of track SIDs published in r now.
func (r *room) publishedLocked() map[string]bool {
	out := map[string]bool{}
	for _, q := range r.participants {
		for sid := range q.tracks {
			out[sid] = true
		}
	}
	return out
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
