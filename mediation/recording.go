package mediation

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"time"

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
			a := p.Attributes
			pp := PlanParticipant{Identity: p.Identity, Name: p.Name, Role: a["role"], Side: a["side"], Centre: a["centre"],
				Consent: a["consent"] == "1", Tracks: planTracks(p.Tracks)}
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

// replan hands the current plan of a live session to the recorder. The channel is
// closed once the recorder acted on it (nil: no plan was handed over).
func (s *Service) replan(se store.Session) <-chan struct{} {
	if s.cfg.Recorder == nil || se.State == "ended" {
		return nil
	}
	ctx, cancel := bg()
	defer cancel()
	c, err := s.st.Case(ctx, se.CaseID)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	stopped := s.paused[se.ID]
	s.mu.Unlock()
	return s.cfg.Recorder.Plan(planFor(se, c, s.rc.Participants(se.Room), stopped))
}

// awaitRecorder waits until the recorder acted on a plan, so that an answer shows
// the state after the call; a stuck disk holds the host up for at most 2 s.
func awaitRecorder(applied <-chan struct{}) {
	if applied == nil {
		return
	}
	select {
	case <-applied:
	case <-time.After(2 * time.Second):
	}
}

// recordingControl is POST /api/sessions/{id}/recording {"action":"start"|"stop","reason"}:
// a host stops recording (with a reason, logged) or resumes it; the policy still applies.
func (s *Service) recordingControl(w http.ResponseWriter, ctx context.Context, a *actor, sc *sessionCtx, action, reason string) error {
	reason = strings.TrimSpace(reason)
	switch action {
	case "stop":
		if reason == "" {
			reason = "no reason given"
		}
		s.mu.Lock()
		s.paused[sc.sess.ID] = "stopped by " + a.Username + ": " + reason
		s.mu.Unlock()
	case "start":
		s.mu.Lock()
		delete(s.paused, sc.sess.ID)
		s.mu.Unlock()
	default:
		return badRequest("action must be start or stop")
	}
	detail := "recording " + map[string]string{"stop": "stopped", "start": "resumed"}[action]
	if reason != "" {
		detail += ": " + reason
	}
	s.caseEvent(ctx, store.Event{CaseID: sc.cas.ID, Kind: "recording", Actor: a.Username, SessionID: sc.sess.ID, Detail: detail})
	awaitRecorder(s.replan(sc.sess)) // answer with the state after the call
	s.syncRoomMeta(sc.sess, false)
	writeJSON(w, http.StatusOK, s.recordingView(sc.sess.ID))
	return nil
}

type recordingJSON struct {
	Active    bool    `json:"active"`
	Healthy   bool    `json:"healthy"`
	Error     string  `json:"error"`
	StartedAt *string `json:"started_at"`
	Stopped   string  `json:"stopped"` // why a host stopped it, "" if not
}

func (s *Service) recordingView(sessionID int64) recordingJSON {
	var st RecordingStatus
	if s.cfg.Recorder != nil {
		st = s.cfg.Recorder.Status(sessionID)
	} else {
		st.Healthy = true
	}
	s.mu.Lock()
	stopped := s.paused[sessionID]
	s.mu.Unlock()
	return recordingJSON{Active: st.Active, Healthy: st.Healthy, Error: st.Error, StartedAt: jsonTime(st.StartedAt), Stopped: stopped}
}
