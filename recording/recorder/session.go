package recorder

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"yizhan/recording"
)

// caseSession is one live session's recording state.
type caseSession struct {
	// static after construction
	id      int64
	room    string
	wake    chan struct{} // capacity 1: "there is work"; never closed
	stopped chan struct{} // closed when the loop is done

	// guarded by mu: handed from the callers to the loop
	mu        sync.Mutex
	plan      *Plan
	applied   []chan struct{} // closed once plan (or a later one) is applied
	finished  bool            // the loop is done: nothing queued will be applied
	ended     bool
	endReason string // why recording ends when ended: the session ended, or the server stops
	status    Status
	detaches  []detachReq // participants about to change space
	logs      []recording.Event

	// owned by loop
	rs        *recording.Session
	writers   map[string]*caseWriter // track SID ->
	known     map[string]bool        // identities added to the manifest
	recording map[string]bool        // spaces being recorded, for start/stop events
	logBroken bool                   // the last event-log write failed (reported once until one succeeds)
}

// detachReq asks the loop to stop the writers of some participants now; done is
// closed when it has.
type detachReq struct {
	identities []string
	done       chan struct{}
}

type caseWriter struct {
	identity, space string
	sealed          bool
	detach          func()
}

func newCaseSession(id int64, room string) *caseSession {
	cs := &caseSession{id: id, room: room, wake: make(chan struct{}, 1), stopped: make(chan struct{}),
		writers: map[string]*caseWriter{}, known: map[string]bool{}, recording: map[string]bool{}}
	cs.status.Healthy = true
	return cs
}

func (cs *caseSession) poke() {
	select {
	case cs.wake <- struct{}{}:
	default:
	}
}

// loop applies plans and logs in order; it seals and ends once the session ended.
func (c *Recorder) loop(cs *caseSession) {
	defer c.wg.Done()
	defer close(cs.stopped)
	defer func() {
		cs.mu.Lock()
		cs.finished = true
		for _, ch := range cs.applied {
			close(ch)
		}
		cs.applied = nil
		cs.mu.Unlock()
	}()
	log := c.log.With("session", cs.id)
	for range cs.wake {
		cs.mu.Lock()
		plan, applied, logs, ended, reason := cs.plan, cs.applied, cs.logs, cs.ended, cs.endReason
		detaches := cs.detaches
		cs.plan, cs.applied, cs.logs, cs.detaches = nil, nil, nil, nil
		cs.mu.Unlock()
		if plan != nil {
			c.apply(cs, *plan, log) // a plan from before the moves: apply it first
		}
		for _, ch := range applied {
			close(ch)
		}
		for _, d := range detaches {
			for sid, w := range cs.writers {
				if slices.Contains(d.identities, w.identity) {
					w.detach() // media closes the writer: the file ends before the move
					delete(cs.writers, sid)
				}
			}
			close(d.done)
		}
		if cs.rs != nil {
			for _, ev := range logs {
				c.evidence(cs, cs.rs.Log(ev), log)
			}
		}
		if ended {
			c.seal(cs, reason, log)
			c.mu.Lock()
			delete(c.sessions, cs.id)
			c.mu.Unlock()
			return
		}
	}
}

// evidence takes the result of a write to the session's event log (an event, a
// participant, a consent). The log is evidence: a failed write is a recording failure
// the hosts hear of, not a line in the server's log. It is reported once until a write
// succeeds again, so that the report (itself a timeline event handed back to Log)
// cannot feed on itself.
func (c *Recorder) evidence(cs *caseSession, err error, log *slog.Logger) {
	if err == nil {
		cs.logBroken = false
		return
	}
	if cs.logBroken {
		log.Error("case file event log", "err", err)
		return
	}
	cs.logBroken = true
	c.fail(cs, fmt.Errorf("case file event log: %w", err), log)
}

// apply makes the writers match the plan.
func (c *Recorder) apply(cs *caseSession, p Plan, log *slog.Logger) {
	if cs.rs == nil {
		rs, err := recording.OpenSession(c.cfg.DataDir, recording.SessionMeta{Case: recording.CaseFolder(p.CaseID, p.CaseNumber),
			Session: recording.SessionFolder(p.SessionID), Title: p.Title, Kind: p.Kind, CaucusPolicy: p.CaucusPolicy, Centre: p.Centre}, c.cfg.Logger)
		if err != nil {
			c.fail(cs, fmt.Errorf("open case file: %w", err), log)
			return
		}
		rs.OnError(func(f recording.TrackFailure) {
			c.fail(cs, fmt.Errorf("recording %s of %s: %w", f.File, f.Track.Participant, f.Err), log)
		})
		cs.rs = rs
	}
	want := map[string]caseWriter{}
	meta := map[string]recording.TrackMeta{}
	for _, sp := range p.Spaces {
		for _, pp := range sp.Participants {
			if !cs.known[pp.Identity] {
				cs.known[pp.Identity] = true
				c.evidence(cs, cs.rs.AddParticipant(recording.Participant{Identity: pp.Identity, Name: pp.Name, Role: pp.Role, Side: pp.Side, Centre: pp.Centre}), log)
				c.evidence(cs, cs.rs.Consent(recording.Consent{Identity: pp.Identity, Given: pp.Consent, Scope: "recording"}), log)
			}
			if !sp.Record {
				continue
			}
			for _, t := range pp.Tracks {
				if t.MimeType == "" {
					continue // not flowing yet: a later plan has it
				}
				want[t.SID] = caseWriter{identity: pp.Identity, space: sp.Space, sealed: sp.Sealed}
				meta[t.SID] = recording.TrackMeta{Participant: pp.Name, Identity: pp.Identity, TrackSID: t.SID, Kind: t.Kind,
					MimeType: t.MimeType, Sealed: sp.Sealed}
			}
		}
		if sp.Space == "" {
			continue
		}
		if sp.Record != cs.recording[sp.Space] {
			kind, reason := recording.KindRecordingStopped, sp.Reason
			if sp.Record {
				kind, reason = recording.KindRecordingStarted, "policy: everyone in the space consented"
			}
			c.evidence(cs, cs.rs.Log(recording.Event{Kind: kind, Actor: "system", Detail: map[string]string{"space": sp.Space, "reason": reason}}), log)
			cs.recording[sp.Space] = sp.Record
		}
	}
	for space, on := range cs.recording { // spaces that emptied
		if on && !p.hasSpace(space) {
			c.evidence(cs, cs.rs.Log(recording.Event{Kind: recording.KindRecordingStopped, Actor: "system",
				Detail: map[string]string{"space": space, "reason": "space is empty"}}), log)
			cs.recording[space] = false
		}
	}
	for sid, w := range cs.writers {
		if nw, ok := want[sid]; !ok || nw.sealed != w.sealed {
			w.detach() // media closes the writer: the file ends here
			delete(cs.writers, sid)
		}
	}
	for sid, w := range want {
		if _, ok := cs.writers[sid]; ok {
			continue
		}
		m := meta[sid]
		room, ident := cs.room, w.identity
		m.RequestKeyframe = func() { _ = c.cfg.Rooms.RequestKeyframe(room, ident, sid) }
		tw, err := cs.rs.NewTrackWriter(m)
		if errors.Is(err, recording.ErrUnsupportedCodec) {
			c.evidence(cs, cs.rs.Log(recording.Event{Kind: recording.KindRecordingFailed, Actor: "system", Subject: ident,
				Detail: map[string]string{"track": sid, "error": err.Error()}}), log)
			continue
		}
		if err != nil {
			c.fail(cs, fmt.Errorf("start recording %s of %s: %w", sid, m.Participant, err), log)
			continue
		}
		detach, err := c.cfg.Rooms.AttachSink(room, ident, sid, tw)
		if err != nil {
			tw.Close() // the track went away meanwhile
			continue
		}
		w.detach = detach
		cw := w
		cs.writers[sid] = &cw
	}
	cs.mu.Lock()
	was := cs.status.Active
	cs.status.Active = len(cs.writers) > 0
	if cs.status.Active && cs.status.StartedAt.IsZero() {
		cs.status.StartedAt = time.Now().UTC()
	}
	changed := was != cs.status.Active
	cs.mu.Unlock()
	if changed {
		c.mu.Lock()
		fn := c.onState
		c.mu.Unlock()
		if fn != nil {
			fn(cs.id)
		}
	}
}

// fail marks the session unhealthy and tells the hosts: the error they see names files
// relative to the session folder, never the server's folders (the log keeps those).
func (c *Recorder) fail(cs *caseSession, err error, log *slog.Logger) {
	c.failures.Add(1)
	log.Error("recording failed", "err", err)
	var dirs []string
	if cs.rs != nil {
		dirs = append(dirs, cs.rs.Dir())
	}
	shown := errors.New(recording.HidePaths(err, append(dirs, c.cfg.DataDir)...))
	cs.mu.Lock()
	cs.status.Healthy = false
	cs.status.Error = shown.Error()
	cs.mu.Unlock()
	c.mu.Lock()
	fn := c.onError
	c.mu.Unlock()
	if fn != nil {
		fn(cs.id, shown)
	}
}

func (c *Recorder) seal(cs *caseSession, reason string, log *slog.Logger) {
	if reason == "" {
		reason = "session ended"
	}
	for sid, w := range cs.writers {
		w.detach()
		delete(cs.writers, sid)
	}
	cs.mu.Lock()
	cs.status.Active = false
	cs.mu.Unlock()
	if cs.rs == nil {
		return
	}
	for space, on := range cs.recording { // every stop is logged with its reason
		if on {
			c.evidence(cs, cs.rs.Log(recording.Event{Kind: recording.KindRecordingStopped, Actor: "system",
				Detail: map[string]string{"space": space, "reason": reason}}), log)
			cs.recording[space] = false
		}
	}
	c.evidence(cs, cs.rs.Log(recording.Event{Kind: recording.KindEnded, Actor: "system", Detail: map[string]string{"reason": reason}}), log)
	if _, err := cs.rs.Seal(c.cfg.Key); err != nil {
		c.fail(cs, fmt.Errorf("seal case file: %w", err), log)
		return
	}
	log.Info("case file sealed", "dir", cs.rs.Dir())
}
