package mediation

import (
	"sort"
	"strings"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// Recorder is the seam between the policy (here: what must be recorded, given consent
// and the caucus policy) and the case file (package recording, see CaseFiles). Methods
// are called with no lock held and must not block: an implementation queues the work.
type Recorder interface {
	// Plan is called after every change of who is where in a live session (join, leave,
	// admit, move, lobby, track published, mute, a host stopping or resuming recording).
	Plan(p RecordingPlan)
	// Log hands over every timeline event of the session, for the case file's own log.
	Log(sessionID int64, ev store.Event)
	// Ended is called once when a host ends the session, after the room was closed:
	// stop every writer and seal the case file.
	Ended(sessionID, caseID int64, room string)
	// Status is what the hosts are shown.
	Status(sessionID int64) RecordingStatus
}

// RecordingStatus of one session, for the live view and the room's banner.
type RecordingStatus struct {
	Active    bool      // at least one track is being written
	Healthy   bool      // no writer failed since recording started
	Error     string    // the last failure, for the hosts
	StartedAt time.Time // when recording first started in this session
}

// RecordingPlan is what should be recorded in one session right now.
type RecordingPlan struct {
	SessionID, CaseID  int64
	CaseNumber, Centre string
	Title, Kind        string
	CaucusPolicy, Room string
	Spaces             []SpacePlan // the lobby ("") first, then every space with someone in it
}

// SpacePlan says whether one space is recorded.
type SpacePlan struct {
	Space        string
	Record       bool   // write every track published in this space
	Sealed       bool   // a caucus under the "sealed" policy: restricted access
	Reason       string // why not recording (the recorder logs it as the stop reason)
	Participants []PlanParticipant
}

// PlanParticipant is one person in a space, with what the case file needs to know.
type PlanParticipant struct {
	Identity, Name, Role, Side, Centre string
	Consent                            bool
	Tracks                             []signaling.Track
}

// planFor applies the session's policy: the joint space is recorded when the session
// records on open and everyone in it consented; a caucus only under the sealed policy,
// with everyone's consent; the lobby never; nothing while a host has stopped recording.
func planFor(se store.Session, c store.Case, ps []signaling.Participant, stoppedBy string) RecordingPlan {
	plan := RecordingPlan{SessionID: se.ID, CaseID: se.CaseID, CaseNumber: c.Number, Centre: c.Centre, Title: se.Title,
		Kind: se.Kind, CaucusPolicy: se.CaucusPolicy, Room: se.Room}
	bySpace := map[string][]signaling.Participant{"": nil}
	for _, p := range ps {
		bySpace[p.Space] = append(bySpace[p.Space], p)
	}
	spaces := make([]string, 0, len(bySpace))
	for sp := range bySpace {
		spaces = append(spaces, sp)
	}
	sort.Strings(spaces) // "" (the lobby) first
	for _, sp := range spaces {
		sps := SpacePlan{Space: sp}
		var missing []string
		sort.Slice(bySpace[sp], func(i, j int) bool { return bySpace[sp][i].Identity < bySpace[sp][j].Identity })
		for _, p := range bySpace[sp] {
			a := p.Attributes
			pp := PlanParticipant{Identity: p.Identity, Name: p.Name, Role: a["role"], Side: a["side"], Centre: a["centre"],
				Consent: a["consent"] == "1", Tracks: p.Tracks}
			sps.Participants = append(sps.Participants, pp)
			if !pp.Consent {
				missing = append(missing, p.Name)
			}
		}
		switch {
		case sp == "":
			sps.Reason = "lobby is never recorded"
		case stoppedBy != "":
			sps.Reason = stoppedBy
		case sp == jointSpace && !se.RecordOnOpen:
			sps.Reason = "session is not recorded"
		case sp != jointSpace && se.CaucusPolicy != "sealed":
			sps.Reason = "caucus is not recorded (policy off)"
		case len(missing) > 0:
			sps.Reason = "waiting for consent: " + strings.Join(missing, ", ")
		default:
			sps.Record = true
			sps.Sealed = sp != jointSpace
		}
		plan.Spaces = append(plan.Spaces, sps)
	}
	return plan
}
