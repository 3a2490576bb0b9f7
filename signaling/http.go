package signaling

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/utils/guid"
)

// declineV1 makes livekit-client fall back from single-PC mode to /rtc. The CORS header
// matters: without it the browser hides the 404 and the client gives up.
func declineV1(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	http.Error(w, "single peer connection mode is not supported; use /rtc", http.StatusNotFound)
}

// handleValidate answers the clients' diagnosis call after a failed connect: 200 for a
// good token, 401 otherwise; never 404 (that reads as "no LiveKit server here").
func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if _, err := s.verifyToken(tokenFromRequest(r)); err != nil {
		http.Error(w, errBadToken.Error(), http.StatusUnauthorized)
		return
	}
	_, _ = w.Write([]byte("success"))
}

// handleRTC checks the token before the upgrade, then runs one participant's signal
// connection on this goroutine until it ends.
func (s *Server) handleRTC(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	q := r.URL.Query()
	if q.Get("join_request") != "" {
		http.Error(w, "join_request (single peer connection mode) is not supported", http.StatusBadRequest)
		return
	}
	grants, err := s.verifyToken(tokenFromRequest(r))
	if err != nil {
		s.log.Info("rtc: token refused", "remote", r.RemoteAddr, "err", err)
		http.Error(w, errBadToken.Error(), http.StatusUnauthorized)
		return
	}
	roomName, identity := grants.Video.Room, grants.Identity
	log := s.log.With("room", roomName, "identity", identity)
	release, ok := s.wsAddrs.take(r, s.cfg.Limits.WebsocketsPerAddr)
	if !ok {
		s.hits.websockets.Add(1)
		log.Warn("rtc: too many signal connections from one address", "remote", r.RemoteAddr)
		http.Error(w, "too many connections from your address", http.StatusTooManyRequests)
		return
	}
	defer release()
	if attributesSize(grants.Attributes) > s.cfg.Limits.AttributesBytes {
		s.hits.attributes.Add(1)
		http.Error(w, "token attributes too large", http.StatusBadRequest)
		return
	}

	if q.Get("reconnect") == "1" {
		s.handleResume(w, r, roomName, identity, q.Get("sid"), log)
		return
	}

	perm := permissionFromGrant(grants.Video)
	p := &participant{
		sid:           guid.New(guid.ParticipantPrefix),
		identity:      identity,
		name:          grants.Name,
		metadata:      grants.Metadata,
		attributes:    cloneMap(grants.Attributes),
		perm:          perm,
		hidden:        grants.Video.Hidden,
		autoSubscribe: q.Get("auto_subscribe") != "0",
		left:          make(chan struct{}),
	}
	space, err := s.getHooks().Joining(roomName, p.snapshotUnlocked())
	if err != nil {
		log.Info("rtc: join refused by policy", "err", err)
		http.Error(w, "join refused: "+err.Error(), http.StatusForbidden)
		return
	}
	p.space = space
	rm, err := s.getOrCreateRoom(roomName)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Info("rtc: upgrade failed", "err", err)
		return
	}
	p.log = log.With("participant", p.sid)
	c := newConn(ws, p.log)
	c.sent = &s.signals
	p.conn = c
	p.protocol, _ = strconv.Atoi(q.Get("protocol"))
	if !s.enter() {
		p.send(leaveMsg(livekit.DisconnectReason_SERVER_SHUTDOWN))
		c.close(errServerClosing)
		return
	}
	defer s.wg.Done()
	if err := rm.join(p); err != nil {
		p.log.Warn("rtc: join failed", "err", err)
		p.send(leaveMsg(livekit.DisconnectReason_JOIN_FAILURE))
		c.close(err)
		return
	}
	p.readLoop(c) // returns when the websocket ends
}

// handleResume takes a client back after its signal connection dropped, keeping its
// peer connections, tracks and space. Never answer a reconnect with an HTTP error: 401
// makes JS give up, 404/500 make it retry until exhausted. When the session cannot be
// resumed, accept and ask for a full rejoin.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request, roomName, identity, sid string, log *slog.Logger) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := newConn(ws, log)
	c.sent = &s.signals
	var p *participant
	if rm := s.getRoom(roomName); rm != nil {
		rm.mu.Lock()
		if q := rm.participants[identity]; q != nil && q.sid == sid && sid != "" {
			p = q
		}
		rm.mu.Unlock()
	}
	if p == nil || p.hasLeft() {
		msg := rejoinLeave()
		if why, ok := s.departed.reason(sid); ok {
			msg = lateLeave(why)
		}
		c.Send(msg)
		c.close(nil)
		log.Info("rtc: resume not possible", "sid", sid, "action", msg.GetLeave().GetAction().String(), "reason", msg.GetLeave().GetReason().String())
		return
	}
	if !s.enter() {
		c.close(errServerClosing)
		return
	}
	defer s.wg.Done()
	if p.resume(c) {
		p.readLoop(c)
	}
}

func permissionFromGrant(v interface {
	GetCanPublish() bool
	GetCanSubscribe() bool
	GetCanPublishData() bool
}) Permission {
	return Permission{CanPublish: v.GetCanPublish(), CanSubscribe: v.GetCanSubscribe(), CanPublishData: v.GetCanPublishData()}
}

func leaveMsg(reason livekit.DisconnectReason) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{
		Reason: reason,
		Action: livekit.LeaveRequest_DISCONNECT,
	}}}
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
