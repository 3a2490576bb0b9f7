package mediation

import (
	"encoding/json"
	"strings"
	"time"
)

// The room metadata and the recording plan of a live room: both are derived from who is
// where (signaling's state) and the session's policy, and recomputed by run after every
// change.

// roomMetaJSON is the room metadata every client reads (the in-room banner): whether
// recording runs, what the session is, and a label per space in use.
type roomMetaJSON struct {
	Recording    bool                         `json:"recording"`
	Title        string                       `json:"title"`
	Kind         string                       `json:"kind"`
	CaucusPolicy string                       `json:"caucus_policy"`
	Spaces       map[string]map[string]string `json:"spaces"`
}

func spaceLabel(space string) string {
	if space == jointSpace {
		return "联合会谈"
	}
	name := strings.TrimPrefix(space, "caucus-")
	switch name {
	case "applicant":
		name = "申请人"
	case "respondent":
		name = "被申请人"
	}
	return "单独会谈（" + name + "）"
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
	m := roomMetaJSON{Title: se.Title, Kind: se.Kind, CaucusPolicy: se.CaucusPolicy, Spaces: map[string]map[string]string{}}
	m.Spaces[jointSpace] = map[string]string{"label": spaceLabel(jointSpace)}
	for _, p := range r.rooms.rc.Participants(r.name) {
		if p.Space != "" {
			m.Spaces[p.Space] = map[string]string{"label": spaceLabel(p.Space)}
		}
	}
	if rec := r.rooms.cfg.Recorder; rec != nil {
		m.Recording = rec.Status(se.ID).Active
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
	return rec.Plan(planFor(r.sess, c, r.rooms.rc.Participants(r.name), r.pausedBy()))
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

func (r *liveRoom) pausedBy() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.paused
}

// setPaused records why a host stopped recording ("" resumes it). Run only.
func (r *liveRoom) setPaused(why string) {
	r.mu.Lock()
	r.paused = why
	r.mu.Unlock()
}

type recordingJSON struct {
	Active    bool    `json:"active"`
	Healthy   bool    `json:"healthy"`
	Error     string  `json:"error"`
	StartedAt *string `json:"started_at"`
	Stopped   string  `json:"stopped"` // why a host stopped it, "" if not
}

// recordingView is what the hosts are shown of the recording of session sessionID in
// room. Any goroutine.
func (rs *liveRooms) recordingView(room string, sessionID int64) recordingJSON {
	stopped := ""
	if r := rs.peek(room); r != nil {
		stopped = r.pausedBy()
	}
	return recordingView(rs.cfg.Recorder, sessionID, stopped)
}

func recordingView(rec Recorder, sessionID int64, stopped string) recordingJSON {
	var st RecordingStatus
	if rec != nil {
		st = rec.Status(sessionID)
	} else {
		st.Healthy = true
	}
	return recordingJSON{Active: st.Active, Healthy: st.Healthy, Error: st.Error, StartedAt: jsonTime(st.StartedAt), Stopped: stopped}
}
