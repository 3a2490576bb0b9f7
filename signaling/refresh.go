package signaling

import (
	"time"

	"github.com/livekit/protocol/livekit"
)

// The clients keep the token they joined with and present it again to resume or
// rejoin after a network loss. Join tokens are short-lived (minutes), so a call that
// outlives its token would fail to come back; like LiveKit, we hand out fresh ones.
// defaultTokenRefresh is how often a participant gets a fresh token; each is valid for
// four times that.
const defaultTokenRefresh = 5 * time.Minute

// refreshTokens sends a new token to every participant whose last one is older than
// the refresh interval. Called from the room's loop.
func (r *room) refreshTokens(now time.Time) {
	type due struct {
		p    *participant
		spec TokenSpec
	}
	var list []due
	r.mu.Lock()
	for _, p := range r.participants {
		if now.Sub(p.refreshedAt) < r.srv.cfg.TokenRefresh {
			continue
		}
		p.refreshedAt = now
		list = append(list, due{p, TokenSpec{
			Room: r.name, Identity: p.identity, Name: p.name, Metadata: p.metadata,
			Attributes: cloneMap(p.attributes), TTL: 4 * r.srv.cfg.TokenRefresh, Hidden: p.hidden,
			CanPublish: p.perm.CanPublish, CanSubscribe: p.perm.CanSubscribe, CanPublishData: p.perm.CanPublishData,
		}})
	}
	r.mu.Unlock()
	for _, d := range list {
		tok, err := r.srv.MintToken(d.spec)
		if err != nil {
			d.p.log.Warn("refresh token", "err", err)
			continue
		}
		d.p.send(&livekit.SignalResponse{Message: &livekit.SignalResponse_RefreshToken{RefreshToken: tok}})
	}
}
