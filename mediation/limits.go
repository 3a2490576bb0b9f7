package mediation

import (
	"net/http"
	"sync/atomic"
)

// Bounds of the mediation layer on what clients can make the server remember (issue 12).
const (
	maxInvitationsPerSession = 500 // invitations a session may have, revoked ones included
	maxKnocksPerSession      = 500 // arrivals waiting in one session's lobby
)

// Bound is one limit as an operator sees it (see signaling.Bound).
type Bound struct {
	Name  string
	Value int
	What  string
}

// Bounds lists mediation's limits.
func Bounds() []Bound {
	return []Bound{
		{"session_invitations", maxInvitationsPerSession, "per session: invitations created"},
		{"session_knocks", maxKnocksPerSession, "per session: arrivals remembered in the lobby"},
		{"login_failures_held", 8, "failed logins answered late at once, per address and per username; then 429 with Retry-After"},
		{"join_failures_held", 8, "unknown invitation codes answered late at once, per address; then 429 with Retry-After"},
		{"failure_sources", 100000, "addresses and usernames whose failures are remembered, per kind"},
		{"request_body_bytes", maxBody, "JSON request body"},
	}
}

// limitCounters count the bounds above when hit.
type limitCounters struct {
	invitations, knocks atomic.Uint64
}

// LimitHits says how often each bound was hit since start, by Bound name.
func (s *Service) LimitHits() map[string]uint64 {
	return map[string]uint64{
		"session_invitations": s.hits.invitations.Load(),
		"session_knocks":      s.hits.knocks.Load(),
		"login_failures_held": s.auth.loginUser.full.Load() + s.auth.loginAddr.full.Load(),
		"join_failures_held":  s.join.joinAddr.full.Load() + s.intake.lookups.full.Load(),
		"failure_sources":     s.auth.loginUser.over.Load() + s.auth.loginAddr.over.Load() + s.join.joinAddr.over.Load() + s.intake.lookups.over.Load(),
	}
}

var errTooManyInvitations = errf(http.StatusConflict, "limit", "this session has %d invitations, the most it may have", maxInvitationsPerSession)
