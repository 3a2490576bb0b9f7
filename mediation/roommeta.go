package mediation

import (
	"encoding/json"
	"time"
)

// The room metadata and the recording plan of a live room: both are derived from who is
// where (signaling's state) and the session's policy, and recomputed by run after every
// change.

// roomMetaJSON is the room metadata every client reads (web/src/meta.ts, RoomMeta): what
// the session is and, for the joint space and every space with someone in it, whether it
// is being recorded. No words: the reader's app names the spaces.
type roomMetaJSON struct {
	Title        string                   `json:"title"`
	Kind         string                   `json:"kind"`
	CaucusPolicy string                   `json:"caucus_policy"`
	Recording    bool                     `json:"recording"` // some space is being recorded
	Spaces       map[string]spaceMetaJSON `json:"spaces"`
}

// spaceMetaJSON is one space of roomMetaJSON.
type spaceMetaJSON struct {
	Recording bool `json:"recording"` // its tracks are being written
}

// syncMeta sets the room metadata of a live session when it changed (always when force:
// a room recreated after it emptied has lost it). Run only.
func (r *liveRoom) syncMeta(force bool) {
	if r.sess.State == sessionEnded {
		return
	}
	b := r.metaOf()
	if b == r.metaLast && !force {
		return
	}
	if err := r.rooms.rc.SetRoomMetadata(r.name, b); err != nil {
		r.log.Debug("set room metadata", "err", err)
	}
	r.metaLast = b
}

func (r *liveRoom) metaOf() string {
	se := r.sess
	m := roomMetaJSON{Title: se.Title, Kind: se.Kind, CaucusPolicy: se.CaucusPolicy, Spaces: map[string]spaceMetaJSON{}}
	if rec := r.rooms.cfg.Recorder; rec != nil {
		m.Recording = rec.Status(se.ID).Active
	}
	// the writers' state is the session's; which spaces they write is the last plan's
	m.Spaces[jointSpace] = spaceMetaJSON{Recording: m.Recording && r.recorded[jointSpace]}
	for _, p := range r.rooms.rc.Participants(r.name) {
		if p.Space != lobbySpace {
			m.Spaces[p.Space] = spaceMetaJSON{Recording: m.Recording && r.recorded[p.Space]}
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// replan hands the current plan of a live session to the recorder. The channel is
// closed once the recorder acted on it (nil: no plan was handed over). Run only.
func (r *liveRoom) replan() <-chan struct{} {
	rec := r.rooms.cfg.Recorder
	if rec == nil || r.sess.State == sessionEnded {
		return nil
	}
	ctx, cancel := bg()
	defer cancel()
	c, err := r.rooms.st.Case(ctx, r.sess.CaseID)
	if err != nil {
		return nil
	}
	plan := planFor(r.sess, c, r.rooms.rc.Participants(r.name), r.pausedBy())
	clear(r.recorded)
	for _, sp := range plan.Spaces {
		r.recorded[sp.Space] = sp.Record
	}
	return rec.Plan(plan)
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

// pause is a host's stop of the recording: by whom, and the reason they gave.
type pause struct{ by, reason string }

// String is the stop as the recorder logs it (the plan's reason) and API clients that
// predate stopped_by read it; "" while recording follows the policy.
func (p pause) String() string {
	if p.by == "" {
		return ""
	}
	reason := p.reason
	if reason == "" {
		reason = "no reason given"
	}
	return "stopped by " + p.by + ": " + reason
}

func (r *liveRoom) pausedBy() string { return r.pauseOf().String() }

func (r *liveRoom) pauseOf() pause {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

// setPaused records a host's stop (pause{} resumes). Run only.
func (r *liveRoom) setPaused(p pause) {
	r.mu.Lock()
	r.paused = p
	r.mu.Unlock()
}

type recordingJSON struct {
	Active        bool    `json:"active"`
	Healthy       bool    `json:"healthy"`
	Error         string  `json:"error"`
	StartedAt     *string `json:"started_at"`
	Stopped       string  `json:"stopped"`        // a host's stop in one line, "" if none (older clients)
	StoppedBy     string  `json:"stopped_by"`     // the host who stopped it, "" if none
	StoppedReason string  `json:"stopped_reason"` // the reason they gave, "" if none
}

// recordingView is what the hosts are shown of the recording of session sessionID in
// room. Any goroutine.
func (rs *liveRooms) recordingView(room string, sessionID int64) recordingJSON {
	var stopped pause
	if r := rs.peek(room); r != nil {
		stopped = r.pauseOf()
	}
	return recordingView(rs.cfg.Recorder, sessionID, stopped)
}

func recordingView(rec Recorder, sessionID int64, stopped pause) recordingJSON {
	var st RecordingStatus
	if rec != nil {
		st = rec.Status(sessionID)
	} else {
		st.Healthy = true
	}
	return recordingJSON{Active: st.Active, Healthy: st.Healthy, Error: st.Error, StartedAt: jsonTime(st.StartedAt),
		Stopped: stopped.String(), StoppedBy: stopped.by, StoppedReason: stopped.reason}
}
