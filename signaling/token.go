package signaling

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/livekit/protocol/auth"
)

// TokenSpec describes a LiveKit access token to mint. livekit/protocol is imported only
// by this package (DESIGN.md), so the layers above mint tokens through MintToken.
type TokenSpec struct {
	Room           string
	Identity       string
	Name           string
	Metadata       string
	Attributes     map[string]string
	TTL            time.Duration
	CanPublish     bool
	CanSubscribe   bool
	CanPublishData bool
	Hidden         bool // not announced to other participants (large audiences)
}

// MintToken returns a LiveKit JWT signed with the server's API key and secret.
func (s *Server) MintToken(spec TokenSpec) (string, error) {
	return MintToken(s.cfg.APIKey, s.cfg.APISecret, spec)
}

// MintToken signs a token with the given key and secret (used by `yizhan token`).
func MintToken(key, secret string, spec TokenSpec) (string, error) {
	if spec.Room == "" || spec.Identity == "" {
		return "", errors.New("mint token: room and identity are required")
	}
	ttl := spec.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	grant := &auth.VideoGrant{RoomJoin: true, Room: spec.Room, Hidden: spec.Hidden}
	grant.SetCanPublish(spec.CanPublish)
	grant.SetCanSubscribe(spec.CanSubscribe)
	grant.SetCanPublishData(spec.CanPublishData)
	at := auth.NewAccessToken(key, secret).
		SetIdentity(spec.Identity).
		SetName(spec.Name).
		SetMetadata(spec.Metadata).
		SetValidFor(ttl).
		SetVideoGrant(grant)
	if len(spec.Attributes) > 0 {
		at.SetAttributes(spec.Attributes)
	}
	jwt, err := at.ToJWT()
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return jwt, nil
}

// errBadToken is what the client sees for every token problem; the log has the detail.
var errBadToken = errors.New("invalid or expired token")

// tokenFromRequest takes the token from `access_token` (livekit-client) or an
// `Authorization: Bearer` header (server-sdk-go).
func tokenFromRequest(r *http.Request) string {
	if t := r.URL.Query().Get("access_token"); t != "" {
		return t
	}
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// verifyToken checks the signature, expiry and the room-join grant.
func (s *Server) verifyToken(raw string) (*auth.ClaimGrants, error) {
	if raw == "" {
		return nil, errors.New("no token")
	}
	v, err := auth.ParseAPIToken(raw)
	if err != nil {
		return nil, fmt.Errorf("parse token: %w", err)
	}
	if v.APIKey() != s.cfg.APIKey {
		return nil, fmt.Errorf("unknown api key %q", v.APIKey())
	}
	_, grants, err := v.Verify(s.cfg.APISecret)
	if err != nil {
		return nil, fmt.Errorf("verify token: %w", err)
	}
	if grants.Video == nil || !grants.Video.RoomJoin || grants.Video.Room == "" {
		return nil, errors.New("token has no room join grant")
	}
	if grants.Identity == "" {
		return nil, errors.New("token has no identity")
	}
	return grants, nil
}
