package mediation

import (
	"sort"
	"strings"

	"yizhan/recording"
	"yizhan/recording/recorder"
	"yizhan/signaling"
	"yizhan/store"
)

// Recorder is the seam between the policy (here: what must be recorded, given consent
// and the caucus policy) and the case file (package recording/recorder). Methods are
// called with no lock held and must not block: an implementation queues the work.
type Recorder interface {
	// Plan is called after every change of who is where in a live session (join, leave,
	// admit, move, lobby, track published, mute, a host stopping or resuming recording).
	// The channel is closed once the recorder acted on it (Status then shows the result).
	Plan(p RecordingPlan) <-chan struct{}
	// Log hands over every timeline event of the session, for the case file's own log
	// (caseFileEvent puts it in the case file's words).
	Log(sessionID int64, ev recording.Event)
	// BeforeMove is called before participants change space and returns once their
	// writers stopped, so that the old space's files hold nothing of the new space.
	BeforeMove(sessionID int64, identities []string)
	// Ended is called once when a host ends the session, after the room was closed:
	// stop every writer and seal the case file.
	Ended(sessionID, caseID int64, room string)
	// Status is what the hosts are shown.
	Status(sessionID int64) RecordingStatus
}

// The plan and status are the recorder's types: it cannot import this package.
type (
	RecordingStatus = recorder.Status    // of one session, for the live view and the banner
	RecordingPlan   = recorder.Plan      // what should be recorded in one session right now
	SpacePlan       = recorder.SpacePlan // whether one space is recorded
	PlanParticipant = recorder.Participant
)

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
			w := whoOf(p)
			pp := PlanParticipant{Identity: p.Identity, Name: p.Name, Role: string(w.Role), Side: w.Side, Centre: w.Centre,
				Consent: w.Consent, Tracks: planTracks(p.Tracks)}
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
