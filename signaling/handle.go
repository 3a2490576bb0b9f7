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

// readLoop handles the client's requests in order until the websocket ends, then leaves.
func (p *participant) readLoop() {
	reason := livekit.DisconnectReason_CLIENT_INITIATED
	malformed := 0
	for {
		req, err := p.conn.Read()
		if err != nil {
			var me *malformedError
			if errors.As(err, &me) {
				malformed++
				p.log.Warn("signal: ignoring malformed frame", "err", err, "count", malformed)
				if malformed <= maxMalformed {
					continue
				}
			} else if errors.Is(err, websocket.ErrReadLimit) {
				p.log.Warn("signal: frame over the size limit; closing", "limit", maxFrameBytes)
			} else if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				p.log.Info("signal: connection ended", "err", err)
			}
			reason = livekit.DisconnectReason_SIGNAL_CLOSE
			break
		}
		if done := p.handle(req); done {
			break
		}
	}
	p.leave(reason)
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
		err = p.setTrackMuted(m.Mute.Sid, m.Mute.Muted, false)
	case *livekit.SignalRequest_Subscription:
		p.handleSubscription(m.Subscription)
	case *livekit.SignalRequest_Leave:
		p.log.Info("client leaves", "reason", m.Leave.Reason.String())
		return true
	case *livekit.SignalRequest_Ping:
		p.conn.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Pong{Pong: time.Now().UnixMilli()}})
	case *livekit.SignalRequest_PingReq:
		p.conn.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_PongResp{PongResp: &livekit.Pong{
			LastPingTimestamp: m.PingReq.Timestamp,
			Timestamp:         time.Now().UnixMilli(),
		}}})
	case *livekit.SignalRequest_UpdateMetadata:
		p.conn.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{
			RequestId: m.UpdateMetadata.RequestId,
			Reason:    livekit.RequestResponse_NOT_ALLOWED,
			Message:   "participants may not change their own name, metadata or attributes here",
			Request:   &livekit.RequestResponse_UpdateMetadata{UpdateMetadata: m.UpdateMetadata},
		}}})
	case *livekit.SignalRequest_TrackSetting, *livekit.SignalRequest_UpdateLayers,
		*livekit.SignalRequest_SubscriptionPermission, *livekit.SignalRequest_SyncState,
		*livekit.SignalRequest_Simulate, *livekit.SignalRequest_UpdateAudioTrack,
		*livekit.SignalRequest_UpdateVideoTrack:
		// Optional parts of the protocol we do not act on yet (adaptive stream,
		// dynacast, resume). Ignoring them is what the clients tolerate.
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

// handleSubscription honours manual subscription (and unsubscription) of tracks.
func (p *participant) handleSubscription(u *livekit.UpdateSubscription) {
	r := p.room
	r.mu.Lock()
	sids := append([]string(nil), u.TrackSids...)
	for _, pt := range u.ParticipantTracks {
		sids = append(sids, pt.TrackSids...)
	}
	for _, sid := range sids {
		p.subOverride[sid] = u.Subscribe
	}
	r.mu.Unlock()
	r.reconcile(p)
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
