package mediation

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"yizhan/recording"
	"yizhan/signaling"
	"yizhan/store"
)

// SinkAttacher is the part of *signaling.Server the case files need: attach a writer to
// a published track, ask its publisher for a keyframe.
type SinkAttacher interface {
	AttachSink(room, identity, trackSID string, sink signaling.Sink) (detach func(), err error)
	RequestKeyframe(room, identity, trackSID string) error
}

// CaseFilesConfig configures NewCaseFiles.
type CaseFilesConfig struct {
	DataDir string             // case files go to <DataDir>/cases/<case folder>/s<session id>/
	Key     *recording.Signer  // seals the manifests (recording.LoadOrCreateKey)
	Rooms   SinkAttacher       // normally the *signaling.Server
	Logger  *slog.Logger       //
	OnError func(int64, error) // a writer failed in session id (set by New to tell the hosts)
	OnState func(int64)        // recording started or stopped in session id (set by New)
}

// CaseFiles is the Recorder that writes case files with package recording: one session
// folder per live session, a track writer per recorded track attached as a media sink,
// sealed when the session ends. Each session's work runs on its own goroutine, in order.
type CaseFiles struct {
	cfg CaseFilesConfig
	log *slog.Logger

	mu       sync.Mutex // guards sessions, closed
	sessions map[int64]*caseSession
	closed   bool
	wg       sync.WaitGroup // session loops
	failures atomic.Int64   // writer and seal failures since start, for the metrics
}

var _ Recorder = (*CaseFiles)(nil)

// NewCaseFiles returns a Recorder writing under cfg.DataDir. Call Close at shutdown:
// it seals what is still open (recording.Recover would otherwise do it at next start).
func NewCaseFiles(cfg CaseFilesConfig) *CaseFiles {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &CaseFiles{cfg: cfg, log: cfg.Logger.With("part", "casefiles"), sessions: map[int64]*caseSession{}}
}

// CaseFolder is the name of a case's folder under <data>/cases: the id makes it unique, the
// number's year and sequence make it readable. A number like (2026)东城调字第0001号 gives
// case12_2026-0001, the same folder as its number of before issue 11 (2026-0001), so
// existing case files stay where they are.
func CaseFolder(caseID int64, number string) string {
	var runs []string
	for _, f := range strings.FieldsFunc(number, func(r rune) bool { return r < '0' || r > '9' }) {
		runs = append(runs, f)
	}
	if len(runs) >= 2 {
		number = runs[0] + "-" + runs[len(runs)-1]
	}
	return "case" + strconv.FormatInt(caseID, 10) + "_" + number
}

// SessionFolder is the name of a session's folder inside its case folder.
func SessionFolder(sessionID int64) string { return "s" + strconv.FormatInt(sessionID, 10) }

// caseSession is one session's recording state, owned by its loop goroutine except for
// the fields under mu.
type caseSession struct {
	id   int64
	room string

	mu        sync.Mutex // guards plan, logs, ended, endReason, status, wake is never closed
	plan      *RecordingPlan
	logs      []store.Event
	ended     bool
	endReason string // why recording ends when ended: the session ended, or the server stops
	status    RecordingStatus
	detaches  []detachReq   // participants about to change space
	wake      chan struct{} // capacity 1: "there is work"
	stopped   chan struct{} // closed when the loop is done

	// loop-owned
	rs        *recording.Session
	writers   map[string]*caseWriter // track SID ->
	known     map[string]bool        // identities added to the manifest
	recording map[string]bool        // spaces being recorded, for start/stop events
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

func (c *CaseFiles) session(id int64, room string) *caseSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	cs := c.sessions[id]
	if cs == nil {
		cs = &caseSession{id: id, room: room, wake: make(chan struct{}, 1), stopped: make(chan struct{}),
			writers: map[string]*caseWriter{}, known: map[string]bool{}, recording: map[string]bool{}}
		cs.status.Healthy = true
		c.sessions[id] = cs
		c.wg.Add(1)
		go c.loop(cs) // ends after the session is ended (sealed)
	}
	return cs
}

func (cs *caseSession) poke() {
	select {
	case cs.wake <- struct{}{}:
	default:
	}
}

func (c *CaseFiles) Plan(p RecordingPlan) {
	cs := c.session(p.SessionID, p.Room)
	if cs == nil {
		return
	}
	cs.mu.Lock()
	cs.plan = &p // only the latest plan matters
	cs.mu.Unlock()
	cs.poke()
}

func (c *CaseFiles) Log(sessionID int64, ev store.Event) {
	c.mu.Lock()
	cs := c.sessions[sessionID]
	c.mu.Unlock()
	if cs == nil {
		return // nothing recorded yet: the session is not live; the timeline has it
	}
	if k, ok := caseFileKinds[ev.Kind]; ok {
		ev.Kind = k
	}
	cs.mu.Lock()
	cs.logs = append(cs.logs, ev)
	cs.mu.Unlock()
	cs.poke()
}

// caseFileKinds names timeline events in the case file's words (package recording,
// DOMAIN.md): what happened, in the past tense.
var caseFileKinds = map[string]string{
	"join":   recording.KindJoined,
	"leave":  recording.KindLeft,
	"admit":  recording.KindAdmitted,
	"move":   recording.KindMoved,
	"mute":   recording.KindMuted,
	"lobby":  "sent_to_lobby",
	"deny":   "denied",
	"remove": "removed",
	"end":    "end_requested",
}

func (c *CaseFiles) Ended(sessionID, caseID int64, room string) {
	c.mu.Lock()
	cs := c.sessions[sessionID]
	c.mu.Unlock()
	if cs == nil {
		return
	}
	cs.mu.Lock()
	cs.ended = true
	cs.mu.Unlock()
	cs.poke()
}

func (c *CaseFiles) Status(sessionID int64) RecordingStatus {
	c.mu.Lock()
	cs := c.sessions[sessionID]
	c.mu.Unlock()
	if cs == nil {
		return RecordingStatus{Healthy: true}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.status
}

// Close ends every session loop, sealing what is open, and waits for them.
func (c *CaseFiles) Close() {
	c.mu.Lock()
	c.closed = true
	all := make([]*caseSession, 0, len(c.sessions))
	for _, cs := range c.sessions {
		all = append(all, cs)
	}
	c.mu.Unlock()
	for _, cs := range all {
		cs.mu.Lock()
		if !cs.ended {
			cs.ended, cs.endReason = true, "the server shut down"
		}
		cs.mu.Unlock()
		cs.poke()
	}
	c.wg.Wait()
}

// loop applies plans and logs in order; it seals and ends once the session ended.
func (c *CaseFiles) loop(cs *caseSession) {
	defer c.wg.Done()
	defer close(cs.stopped)
	log := c.log.With("session", cs.id)
	for range cs.wake {
		cs.mu.Lock()
		plan, logs, ended, reason := cs.plan, cs.logs, cs.ended, cs.endReason
		detaches := cs.detaches
		cs.plan, cs.logs, cs.detaches = nil, nil, nil
		cs.mu.Unlock()
		if plan != nil {
			c.apply(cs, *plan, log) // a plan from before the moves: apply it first
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
				if err := cs.rs.Log(recording.Event{Time: ev.Time, Kind: ev.Kind, Actor: ev.Actor, Subject: ev.Subject,
					Detail: map[string]string{"detail": ev.Detail}}); err != nil {
					log.Error("case file event", "err", err)
				}
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

// BeforeMove stops, before it returns, the writers of participants about to change
// space, so that nothing said in the new space lands in the old space's files (a caucus
// in the joint recording). The plan after the move attaches new writers where the new
// space is recorded.
func (c *CaseFiles) BeforeMove(sessionID int64, identities []string) {
	c.mu.Lock()
	cs := c.sessions[sessionID]
	c.mu.Unlock()
	if cs == nil {
		return
	}
	done := make(chan struct{})
	cs.mu.Lock()
	cs.detaches = append(cs.detaches, detachReq{identities: identities, done: done})
	cs.mu.Unlock()
	cs.poke()
	select {
	case <-done:
	case <-cs.stopped:
	case <-time.After(2 * time.Second): // a stuck disk must not hold up the mediator
		c.log.Warn("recorder did not stop writers before a move in time", "session", sessionID)
	}
}

// apply makes the writers match the plan.
func (c *CaseFiles) apply(cs *caseSession, p RecordingPlan, log *slog.Logger) {
	if cs.rs == nil {
		rs, err := recording.OpenSession(c.cfg.DataDir, recording.SessionMeta{Case: CaseFolder(p.CaseID, p.CaseNumber),
			Session: SessionFolder(p.SessionID), Title: p.Title, Kind: p.Kind, CaucusPolicy: p.CaucusPolicy, Centre: p.Centre}, c.cfg.Logger)
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
				_ = cs.rs.AddParticipant(recording.Participant{Identity: pp.Identity, Name: pp.Name, Role: pp.Role, Side: pp.Side, Centre: pp.Centre})
				_ = cs.rs.Consent(recording.Consent{Identity: pp.Identity, Given: pp.Consent, Scope: "recording"})
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
			_ = cs.rs.Log(recording.Event{Kind: kind, Actor: "system", Detail: map[string]string{"space": sp.Space, "reason": reason}})
			cs.recording[sp.Space] = sp.Record
		}
	}
	for space, on := range cs.recording { // spaces that emptied
		if on && !planHasSpace(p, space) {
			_ = cs.rs.Log(recording.Event{Kind: recording.KindRecordingStopped, Actor: "system", Detail: map[string]string{"space": space, "reason": "space is empty"}})
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
			_ = cs.rs.Log(recording.Event{Kind: recording.KindRecordingFailed, Actor: "system", Subject: ident,
				Detail: map[string]string{"track": sid, "error": err.Error()}})
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
	if changed && c.cfg.OnState != nil {
		c.cfg.OnState(cs.id)
	}
}

func planHasSpace(p RecordingPlan, space string) bool {
	for _, sp := range p.Spaces {
		if sp.Space == space {
			return true
		}
	}
	return false
}

// Stats is what the metrics show: sessions writing at least one track now, and
// failures since start.
func (c *CaseFiles) Stats() (active, failed int) {
	c.mu.Lock()
	all := make([]*caseSession, 0, len(c.sessions))
	for _, cs := range c.sessions {
		all = append(all, cs)
	}
	c.mu.Unlock()
	for _, cs := range all {
		cs.mu.Lock()
		if cs.status.Active {
			active++
		}
		cs.mu.Unlock()
	}
	return active, int(c.failures.Load())
}

func (c *CaseFiles) fail(cs *caseSession, err error, log *slog.Logger) {
	c.failures.Add(1)
	log.Error("recording failed", "err", err)
	shown := errors.New(forHosts(err))
	cs.mu.Lock()
	cs.status.Healthy = false
	cs.status.Error = shown.Error()
	cs.mu.Unlock()
	if c.cfg.OnError != nil {
		c.cfg.OnError(cs.id, shown)
	}
}

// forHosts is a failure as the hosts' browsers see it: an OS error names the file with
// its absolute path on the server, which is not theirs to know; the log keeps it.
func forHosts(err error) string {
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != "" {
		msg = strings.ReplaceAll(msg, pe.Path, filepath.Base(pe.Path))
	}
	return msg
}

func (c *CaseFiles) seal(cs *caseSession, reason string, log *slog.Logger) {
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
			_ = cs.rs.Log(recording.Event{Kind: recording.KindRecordingStopped, Actor: "system", Detail: map[string]string{"space": space, "reason": reason}})
			cs.recording[space] = false
		}
	}
	_ = cs.rs.Log(recording.Event{Kind: recording.KindEnded, Actor: "system", Detail: map[string]string{"reason": reason}})
	if _, err := cs.rs.Seal(c.cfg.Key); err != nil {
		c.fail(cs, fmt.Errorf("seal case file: %w", err), log)
		return
	}
	log.Info("case file sealed", "dir", cs.rs.Dir())
}
