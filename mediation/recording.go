package mediation

import (
	"sort"
	"strings"

	"yizhan/signaling"
	"yizhan/store"
)

// Recorder is the seam to package recording (issue 4). Mediation decides what must be
// recorded (policy and consent); the recorder attaches track writers to what the plan
// says and seals the case file. Methods are called with no lock held and must not block.
type Recorder interface {
	// Plan is called after every change of who is where in a live session (join, leave,
	// admit, move, lobby, track published, mute).
	Plan(p RecordingPlan)
	// Ended is called once when a host ends the session, after the room was closed.
	Ended(sessionID, caseID int64, room string)
}

// RecordingPlan is what should be recorded in one session right now.
type RecordingPlan struct {
	SessionID, CaseID int64
	Room              string
	Spaces            []SpacePlan // every non-lobby space with someone in it
}

// SpacePlan says whether one space is recorded.
type SpacePlan struct {
	Space        string
	Record       bool     // attach writers to every track published in this space
	Sealed       bool     // a caucus under the "sealed" policy: restricted access
	Reason       string   // why not recording (logged by the recorder as an interruption)
	Participants []string // identities in the space
}

// planFor applies the session's policy: the joint space is recorded when the session
// records on open and everyone in it consented; a caucus only under the sealed policy,
// with everyone's consent; the lobby never.
func planFor(se store.Session, ps []signaling.Participant) RecordingPlan {
	plan := RecordingPlan{SessionID: se.ID, CaseID: se.CaseID, Room: se.Room}
	bySpace := map[string][]signaling.Participant{}
	for _, p := range ps {
		if p.Space != "" {
			bySpace[p.Space] = append(bySpace[p.Space], p)
		}
	}
	spaces := make([]string, 0, len(bySpace))
	for sp := range bySpace {
		spaces = append(spaces, sp)
	}
	sort.Strings(spaces)
	for _, sp := range spaces {
		sps := SpacePlan{Space: sp}
		var missing []string
		for _, p := range bySpace[sp] {
			sps.Participants = append(sps.Participants, p.Identity)
			if p.Attributes["consent"] != "1" {
				missing = append(missing, p.Name)
			}
		}
		switch {
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

// replan hands the current plan of a live session to the recorder.
func (s *Service) replan(se store.Session) {
	if s.cfg.Recorder == nil || se.State == "ended" {
		return
	}
	s.cfg.Recorder.Plan(planFor(se, s.rc.Participants(se.Room)))
}
