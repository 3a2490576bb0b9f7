package mediation

import (
	"strconv"

	"yizhan/signaling"
	"yizhan/store"
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

// timelineKind is what happened on a case's timeline in a session (store.Event.Kind). The
// event carries its fields as data (listed with each kind); the reader's app words them
// (web/src/events.ts), and the case file's event log gets the same fields.
type timelineKind string

const (
	evJoin            timelineKind = "join"             // name, role, side, space ("" the lobby)
	evLeave           timelineKind = "leave"            // name, reason (signaling's disconnect reason)
	evAdmit           timelineKind = "admit"            // name, role, side, space
	evMove            timelineKind = "move"             // name, role, side, space
	evLobby           timelineKind = "lobby"            // name, role, side, space ("")
	evDeny            timelineKind = "deny"             // name, role
	evRemove          timelineKind = "remove"           // name, role
	evMute            timelineKind = "mute"             // name, muted ("1" or "0"), locked ("1": the party cannot unmute itself), tracks (how many)
	evEnd             timelineKind = "end"              // title
	evRecording       timelineKind = "recording"        // action (stop, start), reason
	evRecordingFailed timelineKind = "recording_failed" // error
	evConsent         timelineKind = "consent"          // name, role, answer (accepted, declined)
	evNote            timelineKind = "note"             // note (the guest's own words)
	evInvited         timelineKind = "invited"          // name, role, side, expires (RFC 3339)
	evRevoked         timelineKind = "revoked"          // name
	evOutcome         timelineKind = "outcome"          // name, case (its number)
	evStaffInvited    timelineKind = "staff_invited"    // name, role, centre
	evLinkLost        timelineKind = "link_lost"        // name
	evLinkRestored    timelineKind = "link_restored"    // name, quality
)

// fields are an event's data: names to values.
type fields map[string]string

// of is the timeline event k in session sessionID of case caseID, by actor about subject.
func (k timelineKind) of(caseID, sessionID int64, actor, subject string, f fields) store.Event {
	return store.Event{CaseID: caseID, SessionID: sessionID, Kind: string(k), Actor: actor, Subject: subject, Fields: f}
}

// moved are the fields of an event that puts someone somewhere.
func moved(p signaling.Participant, space string) fields {
	w := whoOf(p)
	return fields{"name": p.Name, "role": string(w.Role), "side": w.Side, "space": space}
}
