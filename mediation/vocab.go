package mediation

import (
	"strconv"

	"yizhan/signaling"
)

// The words of the domain, as the store and the wire spell them. The store keeps plain
// strings; these are the only place the words are written.

// Session states (store.Session.State).
const (
	sessionScheduled = "scheduled"
	sessionLive      = "live"
	sessionEnded     = "ended"
)

// Session kinds (store.Session.Kind).
const (
	kindMediation    = "mediation"
	kindReception    = "reception"
	kindConsultation = "consultation"
)

// jointSpace is where everyone admitted meets; "" is the lobby; any other space is a
// caucus.
const (
	jointSpace = "joint"
	lobbySpace = ""
)

// role is what a participant is in a session (the "role" attribute): an invitation's
// role for guests; host, the role they were invited with, clerk, mediator or observer
// for staff.
type role string

const (
	roleParty       role = "party"
	roleAgent       role = "agent"
	roleInterpreter role = "interpreter"
	roleObserver    role = "observer"
	roleHost        role = "host"
	roleClerk       role = "clerk"
	roleMediator    role = "mediator"
)

// followsParty: agents and interpreters linked to a party go where the party goes.
func (r role) followsParty() bool { return r == roleAgent || r == roleInterpreter }

// The participant attributes mediation puts in the tokens it mints (signaling adds
// signaling.AttrSpace and signaling.AttrLobby itself).
const (
	attrRole    = "role"
	attrSide    = "side"
	attrParty   = "party"
	attrCentre  = "centre"
	attrTier    = "tier"
	attrSession = "session"
	attrConsent = "consent"
	attrHost    = "host"
)

// who is a participant's attributes, parsed once.
type who struct {
	Role         role
	Side         string // applicant, respondent or ""
	Party        string // the case party they belong to (its ID), "" if none
	Centre, Tier string
	Session      int64
	Consent      bool // answered the recording notice with yes
	Host         bool
}

func whoOf(p signaling.Participant) who {
	a := p.Attributes
	sess, _ := strconv.ParseInt(a[attrSession], 10, 64)
	return who{Role: role(a[attrRole]), Side: a[attrSide], Party: a[attrParty], Centre: a[attrCentre], Tier: a[attrTier],
		Session: sess, Consent: a[attrConsent] == "1", Host: a[attrHost] == "1"}
}

// attributes is w as token attributes; empty values are left out (LiveKit treats ""
// as delete).
func (w who) attributes() map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(attrRole, string(w.Role))
	set(attrSide, w.Side)
	set(attrParty, w.Party)
	set(attrCentre, w.Centre)
	set(attrTier, w.Tier)
	if w.Session != 0 {
		set(attrSession, strconv.FormatInt(w.Session, 10))
	}
	m[attrConsent] = "0"
	if w.Consent {
		m[attrConsent] = "1"
	}
	if w.Host {
		m[attrHost] = "1"
	}
	return m
}

// linkedTo: w follows party (an agent or interpreter of it).
func (w who) linkedTo(party string) bool {
	return party != "" && w.Party == party && w.Role.followsParty()
}
